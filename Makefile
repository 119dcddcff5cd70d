# Sourcier: `make run` starts everything, `make test` runs the whole suite.
PYTHON ?= python3.11
# `make run` serves the sandbox providers here and points the app (and the demo key) at them.
SANDBOX_URL ?= http://127.0.0.1:8765
# ...and the world's DNS and mail hosts (127.0.0.10-16) for in-house email discovery
# (the Procfile's sandbox line listens on these ports).
SANDBOX_DNS_PORT ?= 8853
SANDBOX_SMTP_PORT ?= 8825
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install messages migrate seed run test lint bench bench-smoke screenshots clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; otherwise a no-op.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

messages: install
	$(VENV)/bin/pybabel compile --domain django --directory locale --locale fr --statistics 2>&1 | tail -n 1

migrate: messages
	$(PY) manage.py migrate --no-input

seed: migrate
	SOURCIER_SANDBOX_URL=$${SOURCIER_SANDBOX_URL:-$(SANDBOX_URL)} $(PY) manage.py seed_demo

run: seed
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@echo ""
	@echo "  Sourcier: http://127.0.0.1:8000/admin/  (demo login printed above)"
	@echo ""
	@# The sandbox answers in seconds: poll it every 3 s rather than Dropcontact's advised 30.
	@# honcho stamps each line with its own clock: UTC, like the lines themselves.
	SOURCIER_SANDBOX_URL=$${SOURCIER_SANDBOX_URL:-$(SANDBOX_URL)} \
	SOURCIER_DROPCONTACT_POLL_INTERVAL=$${SOURCIER_DROPCONTACT_POLL_INTERVAL:-3} \
	SOURCIER_DNS_NAMESERVERS=$${SOURCIER_DNS_NAMESERVERS:-127.0.0.1} \
	SOURCIER_DNS_PORT=$${SOURCIER_DNS_PORT:-$(SANDBOX_DNS_PORT)} \
	SOURCIER_SMTP_PORT=$${SOURCIER_SMTP_PORT:-$(SANDBOX_SMTP_PORT)} \
	SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS=$${SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS:-true} \
	SOURCIER_SMTP_HELO=$${SOURCIER_SMTP_HELO:-sonde.sourcier-demo.fr} \
	SOURCIER_SMTP_MAIL_FROM=$${SOURCIER_SMTP_MAIL_FROM:-verification@sourcier-demo.fr} \
	TZ=UTC $(VENV)/bin/honcho start

# Tests bring their own throw-away keys, so DATABASE_URL=... make test needs nothing else.
TEST_ENV := SECRET_KEY=$${SECRET_KEY:-sourcier-tests-only} \
	SOURCIER_FERNET_KEYS=$${SOURCIER_FERNET_KEYS:-Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=} \
	SOURCIER_SUPPRESSION_KEY=$${SOURCIER_SUPPRESSION_KEY:-sourcier-tests-only} \
	SOURCIER_STATIC_MANIFEST=false

test: messages
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: migrate
	$(PY) benchmarks/import_prospects.py

# Every benchmark once at a small size (CI runs this), so that none can silently break.
# BENCH_FLAGS=--postgres runs the database ones on PostgreSQL (+ Redis) too.
bench-smoke: messages
	$(PY) benchmarks/import_prospects.py --rows 2000 $(BENCH_FLAGS)
	$(PY) benchmarks/dropcontact_pipeline.py --prospects 60 --latency-ms 0 --timeout 120 $(BENCH_FLAGS)
	$(PY) benchmarks/waterfall.py --prospects 40 --latency-ms 0 --timeout 120 $(BENCH_FLAGS)
	$(PY) benchmarks/waterfall.py --prospects 40 --latency-ms 200 --timeout 120 $(BENCH_FLAGS)
	$(PY) benchmarks/sandbox_throughput.py --requests 300 --seconds 3
	$(PY) benchmarks/api.py --prospects 200 --requests 20 $(BENCH_FLAGS)
	$(PY) benchmarks/admin_lists.py --prospects 500 --repeat 3 $(BENCH_FLAGS)
	$(PY) benchmarks/discovery.py --domains 10
	$(PY) benchmarks/discovery.py --domains 10 --processes 2
	$(PY) benchmarks/discovery_floor.py --domains 10

# The README's screenshots (docs/*.png) from a throw-away demo; needs Debian's chromium.
screenshots: messages
	$(PY) docs/screenshots.py

clean:
	rm -rf var/celery var/*.sqlite3* var/staticfiles
