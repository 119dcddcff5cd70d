"""Sourcier settings: one env-driven file.

With no environment at all this is the embedded default (SQLite in var/, Celery over the kombu
filesystem transport, a local-memory cache, the sandbox providers). DATABASE_URL and REDIS_URL
switch it to the production shape; see the configuration table in the README.
"""

import contextlib
import ipaddress
import os
import secrets
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.discovery_quotas import parse_discovery_quotas
from config.provider_prices import parse_provider_prices, parse_provider_rates

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# The embedded default's database, keys and uploads list people: this account only (0700 and
# 0600, set explicitly since the umask may be anything).
VAR_DIR = Path(env.str("SOURCIER_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if VAR_DIR.stat().st_uid == os.getuid():
    VAR_DIR.chmod(0o700)

PRODUCTION = bool(env.str("DATABASE_URL", default=""))
DEBUG = env.bool("DEBUG", default=False)
INSECURE_SECRET_KEY = "django-insecure-sourcier-embedded-default"  # noqa: S105 (a marker)


def _local_secret(name: str, make) -> str:
    """A secret generated once for the embedded default and kept in var/ (never in git)."""
    path = VAR_DIR / name
    if not path.exists():
        # Written whole to a 0600 file, then linked into place: never readable by others, and
        # processes starting together (web, worker, beat) all end up with the first one's key.
        fd, tmp = tempfile.mkstemp(dir=VAR_DIR, prefix=f".{name}.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    SECRET_KEY = (
        INSECURE_SECRET_KEY
        if PRODUCTION
        else _local_secret("secret_key", lambda: secrets.token_urlsafe(50))
    )

if PRODUCTION and (DEBUG or SECRET_KEY == INSECURE_SECRET_KEY):
    raise ImproperlyConfigured(
        "Production (DATABASE_URL set) refuses to start with DEBUG on or without SECRET_KEY."
    )

# Keys for provider credentials at rest: comma-separated Fernet keys, newest first (MultiFernet).
SOURCIER_FERNET_KEYS = env.list("SOURCIER_FERNET_KEYS", default=[])
if not SOURCIER_FERNET_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("Production needs SOURCIER_FERNET_KEYS to encrypt API keys.")
    from cryptography.fernet import Fernet

    SOURCIER_FERNET_KEYS = [_local_secret("fernet_key", lambda: Fernet.generate_key().decode())]

# Keyed hash for the suppression list: a stolen database must not reveal who objected. Its own
# key, never rotated with SECRET_KEY: a new key would silently empty the list.
SOURCIER_SUPPRESSION_KEY = env.str("SOURCIER_SUPPRESSION_KEY", default="")
if not SOURCIER_SUPPRESSION_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "Production needs SOURCIER_SUPPRESSION_KEY (and never to change it)."
        )
    SOURCIER_SUPPRESSION_KEY = _local_secret("suppression_key", lambda: secrets.token_urlsafe(32))

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.SourcierAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "prospects.apps.ProspectsConfig",
    "enrichment.apps.EnrichmentConfig",
    "campaigns.apps.CampaignsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "prospects.middleware.WorkspaceMiddleware",
    "config.api_support.middleware.ApiMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "prospects.context_processors.workspaces",
            ],
        },
    },
]

# SQLite: WAL so readers never block the writer, IMMEDIATE so a write transaction takes the
# lock up front (no "database is locked" upgrade deadlocks between web, worker and beat).
SQLITE_PATH = VAR_DIR / "sourcier.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite gives its -wal and -shm files the database file's mode: create that one 0600.
    _sqlite = Path(DATABASES["default"]["NAME"])
    if str(_sqlite) != ":memory:" and _sqlite.parent.is_dir():
        os.close(os.open(_sqlite, os.O_WRONLY | os.O_CREAT, 0o600))
        for _file in (_sqlite, Path(f"{_sqlite}-wal"), Path(f"{_sqlite}-shm")):
            if _file.exists() and _file.stat().st_uid == os.getuid():
                _file.chmod(0o600)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
        ),
    }
# A worker thread keeps its connection between tasks (config/celery.py): opening one per task
# (and on SQLite, running its PRAGMAs) cost a tenth of the Dropcontact path's time.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Hashed file names (long cache) in production; the plain storage elsewhere, and in tests,
# whose live server serves files by their plain names.
if DEBUG or not env.bool("SOURCIER_STATIC_MANIFEST", default=PRODUCTION):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# The size limit runs first, while the upload arrives (prospects.uploads).
FILE_UPLOAD_HANDLERS = [
    "prospects.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Largest CSV the admin accepts; the import_prospects command has no limit (its operator
# already has the file on the server's disk).
SOURCIER_IMPORT_MAX_BYTES = env.int("SOURCIER_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# Most columns an import file may have: each is one choice on the mapping page.
SOURCIER_IMPORT_MAX_COLUMNS = env.int("SOURCIER_IMPORT_MAX_COLUMNS", default=200)
# The mapping form posts one field per column, which must stay under this.
DATA_UPLOAD_MAX_NUMBER_FIELDS = max(5000, SOURCIER_IMPORT_MAX_COLUMNS + 100)

LOGIN_URL = "admin:login"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login attempts allowed per client address and per username (django-ratelimit syntax).
SOURCIER_LOGIN_RATE = env.str("SOURCIER_LOGIN_RATE", default="10/m")
RATELIMIT_VIEW = "prospects.views.ratelimited"
# Behind a reverse proxy every request comes from the proxy: the client address is then read
# from SOURCIER_CLIENT_IP_HEADER, but only when the peer is one of these addresses/networks (a
# client's own header is never believed).
SOURCIER_TRUSTED_PROXIES = env.list("SOURCIER_TRUSTED_PROXIES", default=[])
for _proxy in SOURCIER_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(
            f"SOURCIER_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network."
        ) from _error
SOURCIER_CLIENT_IP_HEADER = env.str("SOURCIER_CLIENT_IP_HEADER", default="X-Forwarded-For")
RATELIMIT_IP_META_KEY = "prospects.login_limits.client_address"
# JSON API requests allowed per API key (or session) and per client address, and how long the
# synchronous single enrichment waits for its result before answering 202.
SOURCIER_API_RATE = env.str("SOURCIER_API_RATE", default="600/m")
SOURCIER_API_IP_RATE = env.str("SOURCIER_API_IP_RATE", default="1200/m")
SOURCIER_API_ENRICH_BUDGET = env.float("SOURCIER_API_ENRICH_BUDGET", default=10.0)
# How long a process may reuse an API key it found in the shared cache rather than read it
# again (0: read each time). Revoking a key takes effect at once all the same; the local-memory
# cache is not shared between processes, so this is off without Redis.
SOURCIER_API_KEY_CACHE_SECONDS = env.int(
    "SOURCIER_API_KEY_CACHE_SECONDS", default=60 if REDIS_URL else 0
)

# Celery: the database records work; the broker only delivers it (DESIGN.md section 4).
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"
    for _dir in (_queue, _processed, _control):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "config.kombu_fs:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "store_processed": False,
        "control_folder": str(_control),
        # At the default 1 s the filesystem transport delivers about one message a second.
        "polling_interval": 0.05,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Celery's Django fixup closes every connection after every task unless this is set; the
# worker closes old or broken ones itself instead, as Django does per request (config/celery.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-enrichment": {
        "task": "enrichment.tasks.dispatch_due_work_task",
        "schedule": env.float("SOURCIER_SWEEP_SECONDS", default=5.0),
    },
    "expire-provider-leases": {
        "task": "enrichment.tasks.expire_leases_task",
        "schedule": crontab(minute="*/5"),
    },
    "purge-idempotency-keys": {
        "task": "prospects.tasks.purge_idempotency_keys_task",
        "schedule": crontab(minute=17),
    },
    "sweep-imports": {
        "task": "prospects.tasks.sweep_imports_task",
        "schedule": env.float("SOURCIER_SWEEP_SECONDS", default=5.0),
    },
    "purge-discovered-contacts": {
        "task": "enrichment.tasks.purge_discovered_contacts_task",
        "schedule": crontab(minute=17),
    },
    "recheck-email-probes": {
        "task": "enrichment.tasks.recheck_email_probes_task",
        "schedule": 60.0,
    },
}
# Discovered contacts nobody approved are deleted after this many days (lawful basis: B2B
# legitimate interest, kept no longer than needed).
SOURCIER_DISCOVERY_RETENTION_DAYS = env.int("SOURCIER_DISCOVERY_RETENTION_DAYS", default=30)
# The operator's discovery quotas over the defaults (enrichment/discovery/quotas.py), e.g.
# "contacts=200,emails=1000,jobs=5,company=80".
try:
    SOURCIER_DISCOVERY_QUOTAS = parse_discovery_quotas(
        env.str("SOURCIER_DISCOVERY_QUOTAS", default="")
    )
except ValueError as _error:
    raise ImproperlyConfigured(f"SOURCIER_DISCOVERY_QUOTAS: {_error}") from _error
# How long a discovery job belongs to its worker without one more person checked; past it the
# sweeper hands the job to another worker.
SOURCIER_DISCOVERY_JOB_LEASE_SECONDS = env.int("SOURCIER_DISCOVERY_JOB_LEASE_SECONDS", default=600)
# How long a running import belongs to its worker without committing a chunk (a chunk takes
# well under a second); past it the sweeper resumes the import after its last chunk.
SOURCIER_IMPORT_LEASE_SECONDS = env.int("SOURCIER_IMPORT_LEASE_SECONDS", default=120)
# A preview nobody touched for this long loses its stored file (0 keeps previews forever).
SOURCIER_IMPORT_PREVIEW_TTL_HOURS = env.float("SOURCIER_IMPORT_PREVIEW_TTL_HOURS", default=24.0)

# Providers: base URLs are settings so the sandbox can stand in for every vendor offline.
SOURCIER_SANDBOX_URL = env.str("SOURCIER_SANDBOX_URL", default="").rstrip("/")
PROVIDER_DEFAULT_BASE_URLS = {
    "dropcontact": "https://api.dropcontact.com",
    "prospeo": "https://api.prospeo.io",
    "leadmagic": "https://api.leadmagic.io",
    "findymail": "https://app.findymail.com",
    "aiark": "https://api.ai-ark.com",
    "firecrawl": "https://api.firecrawl.dev",
    "hunter": "https://api.hunter.io",
    "apollo": "https://api.apollo.io",
    "clearbit": "https://person.clearbit.com",
}
# The operator's prices (euros) over the registry's defaults, e.g.
# "prospeo:call=0,success=0.039;hunter:success=0.0245" (enrichment/providers/registry.py).
try:
    SOURCIER_PROVIDER_PRICES = parse_provider_prices(
        env.str("SOURCIER_PROVIDER_PRICES", default=""), known=PROVIDER_DEFAULT_BASE_URLS
    )
except ValueError as _error:
    raise ImproperlyConfigured(f"SOURCIER_PROVIDER_PRICES: {_error}") from _error
# The requests per second the operator's plans allow, over the registry's defaults, e.g.
# "prospeo=20,leadmagic=10".
try:
    SOURCIER_PROVIDER_RATES = parse_provider_rates(
        env.str("SOURCIER_PROVIDER_RATES", default=""), known=PROVIDER_DEFAULT_BASE_URLS
    )
except ValueError as _error:
    raise ImproperlyConfigured(f"SOURCIER_PROVIDER_RATES: {_error}") from _error
# The calls at once (per workspace) the operator's plans allow, over the registry's defaults,
# e.g. "prospeo=10"; SOURCIER_PROVIDER_CONCURRENCY stays the ceiling for every provider.
try:
    SOURCIER_PROVIDER_CONCURRENCIES = parse_provider_rates(
        env.str("SOURCIER_PROVIDER_CONCURRENCIES", default=""),
        known=PROVIDER_DEFAULT_BASE_URLS,
        unit="calls at once",
        name="CALLS_AT_ONCE",
    )
except ValueError as _error:
    raise ImproperlyConfigured(f"SOURCIER_PROVIDER_CONCURRENCIES: {_error}") from _error
PROVIDER_BASE_URLS = {
    slug: env.str(
        f"SOURCIER_{slug.upper()}_URL",
        default=f"{SOURCIER_SANDBOX_URL}/{slug}" if SOURCIER_SANDBOX_URL else default,
    ).rstrip("/")
    for slug, default in PROVIDER_DEFAULT_BASE_URLS.items()
}
# The sandbox world the demo and `run_sandbox` share, and the key it accepts.
SOURCIER_SANDBOX_SEED = env.int("SOURCIER_SANDBOX_SEED", default=42)
SOURCIER_SANDBOX_SIZE = env.int("SOURCIER_SANDBOX_SIZE", default=60)
SOURCIER_SANDBOX_KEY = env.str("SOURCIER_SANDBOX_KEY", default="sandbox-key")
SOURCIER_DEMO_PASSWORD = env.str("SOURCIER_DEMO_PASSWORD", default="")
PROVIDER_TIMEOUT_SECONDS = env.float("SOURCIER_PROVIDER_TIMEOUT", default=10.0)
# Per-workspace concurrent calls per provider (Dropcontact documents 10).
PROVIDER_CONCURRENCY = env.int("SOURCIER_PROVIDER_CONCURRENCY", default=10)
DROPCONTACT_BATCH_SIZE = env.int("SOURCIER_DROPCONTACT_BATCH_SIZE", default=250)
# A partial batch is sent once its oldest item has waited this long (a full one at once), so
# prospects created one by one still travel in batches.
DROPCONTACT_BATCH_WINDOW_SECONDS = env.float("SOURCIER_DROPCONTACT_BATCH_WINDOW", default=2.0)
# How long "not ready" may last before a request counts as failed (unknown ids look the same).
DROPCONTACT_POLL_DEADLINE_SECONDS = env.int("SOURCIER_DROPCONTACT_POLL_DEADLINE", default=900)
DROPCONTACT_POLL_INTERVAL_SECONDS = env.float("SOURCIER_DROPCONTACT_POLL_INTERVAL", default=30.0)
# How long a claimed step (a send, a poll) belongs to its worker; a killed worker's step is
# taken over after this. Must exceed the provider timeout.
ENRICHMENT_LEASE_SECONDS = env.int("SOURCIER_LEASE_SECONDS", default=60)
# A waterfall item handed to workers is not sent again while its message waits in the queue;
# after this long without a worker taking it, the message is taken for lost and sent again.
SOURCIER_REDISPATCH_SECONDS = env.int("SOURCIER_REDISPATCH_SECONDS", default=120)
# At most this many waterfall items per worker message, run together in rounds (fewer when the
# queue is short, so that every worker gets some).
SOURCIER_WATERFALL_ROUND_SIZE = env.int("SOURCIER_WATERFALL_ROUND_SIZE", default=8)
# A vendor's answer about a person or a company is reused for this many days instead of being
# bought again (misses too); 0 turns the cache off.
ENRICHMENT_CACHE_DAYS = env.int("SOURCIER_ENRICHMENT_CACHE_DAYS", default=30)
# Where concurrency slots and rate counters live: Redis when there is one (one round trip per
# step), else the database. Both hold across every worker and host.
LIMITS_BACKEND = env.str("SOURCIER_LIMITS_BACKEND", default="redis" if REDIS_URL else "database")
if LIMITS_BACKEND not in ("database", "redis") or (LIMITS_BACKEND == "redis" and not REDIS_URL):
    raise ImproperlyConfigured(
        "SOURCIER_LIMITS_BACKEND must be 'database' or 'redis' (which needs REDIS_URL)."
    )
# Retries after 1, 5 and 15 minutes, then NEEDS_REVIEW.
ENRICHMENT_RETRY_DELAYS = env.list("SOURCIER_RETRY_DELAYS", cast=int, default=[60, 300, 900])

# Engine money and breaker (enrichment/engine): a circuit breaker per provider opens after
# BREAKER_FAILURE_THRESHOLD failures among the last BREAKER_WINDOW calls and refuses calls for
# BREAKER_COOLDOWN_SECONDS; then one probe goes out, and a probe whose worker died is replaced
# after BREAKER_PROBE_SECONDS (above the provider timeout). GLOBAL_DAILY_CAP caps what all
# workspaces together may spend per Paris day, in euros (none by default).
BREAKER_WINDOW = env.int("SOURCIER_BREAKER_WINDOW", default=10)
BREAKER_FAILURE_THRESHOLD = env.int("SOURCIER_BREAKER_FAILURE_THRESHOLD", default=5)
BREAKER_COOLDOWN_SECONDS = env.float("SOURCIER_BREAKER_COOLDOWN_SECONDS", default=60.0)
BREAKER_PROBE_SECONDS = env.float("SOURCIER_BREAKER_PROBE_SECONDS", default=30.0)
if not 1 <= BREAKER_FAILURE_THRESHOLD <= BREAKER_WINDOW <= 200:
    raise ImproperlyConfigured(
        "SOURCIER_BREAKER_FAILURE_THRESHOLD must be between 1 and SOURCIER_BREAKER_WINDOW (≤ 200)."
    )
GLOBAL_DAILY_CAP = None
if _global_cap := env.str("SOURCIER_GLOBAL_DAILY_CAP", default="").strip():
    try:
        GLOBAL_DAILY_CAP = Decimal(_global_cap)
    except InvalidOperation:
        GLOBAL_DAILY_CAP = None
    if GLOBAL_DAILY_CAP is None or not GLOBAL_DAILY_CAP.is_finite() or GLOBAL_DAILY_CAP < 0:
        raise ImproperlyConfigured(
            f"SOURCIER_GLOBAL_DAILY_CAP: {_global_cap!r} is not an amount in euros."
        )

# Webhooks (enrichment/webhooks): callback URLs must reach a public address on port 80 or 443.
# These `host:port` entries are the only way past that rule (tests, on-premise receivers).
SOURCIER_WEBHOOK_ALLOWED_HOSTS = env.list("SOURCIER_WEBHOOK_ALLOWED_HOSTS", default=[])
# After a secret is rotated, the previous one keeps signing beside it for this long.
SOURCIER_WEBHOOK_ROTATION_OVERLAP_HOURS = env.float(
    "SOURCIER_WEBHOOK_ROTATION_OVERLAP_HOURS", default=24.0
)
# In-house email discovery (enrichment/discovery): one DNS resolver, RCPT-only SMTP probes.
# Empty nameservers = the system's (/etc/resolv.conf). HELO and MAIL FROM must name a domain
# you own (the probe refuses localhost and example domains); port 25 is what mail hosts listen
# on, and many networks block it outbound (results are then "unknown", never "invalid").
SOURCIER_DNS_NAMESERVERS = env.list("SOURCIER_DNS_NAMESERVERS", default=[])
SOURCIER_DNS_PORT = env.int("SOURCIER_DNS_PORT", default=53)
SOURCIER_DNS_TIMEOUT = env.float("SOURCIER_DNS_TIMEOUT", default=5.0)
SOURCIER_SMTP_PORT = env.int("SOURCIER_SMTP_PORT", default=25)
SOURCIER_SMTP_HELO = env.str("SOURCIER_SMTP_HELO", default="")
SOURCIER_SMTP_MAIL_FROM = env.str("SOURCIER_SMTP_MAIL_FROM", default="")
# Mail hosts on loopback, private or reserved addresses are never probed unless this is set
# (the sandbox's mail hosts live on 127.0.0.x).
SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS = env.bool("SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS", default=False)
SOURCIER_SMTP_CONNECT_TIMEOUT = env.float("SOURCIER_SMTP_CONNECT_TIMEOUT", default=10.0)
SOURCIER_SMTP_TIMEOUT = env.float("SOURCIER_SMTP_TIMEOUT", default=20.0)
# Politeness per mail host, across every worker: connections at once (1-2) and RCPTs a second.
SOURCIER_SMTP_HOST_CONCURRENCY = env.int("SOURCIER_SMTP_HOST_CONCURRENCY", default=2)
SOURCIER_SMTP_HOST_RATE = env.int("SOURCIER_SMTP_HOST_RATE", default=5)
if not 1 <= SOURCIER_SMTP_HOST_CONCURRENCY <= 2:
    raise ImproperlyConfigured("SOURCIER_SMTP_HOST_CONCURRENCY must be 1 or 2.")
# RCPTs a day per sending host (its EHLO name), across every worker: past it, results are
# "unknown" (reason daily_budget_spent) until the next day. 0 = no daily limit.
SOURCIER_SMTP_DAILY_BUDGET = env.int("SOURCIER_SMTP_DAILY_BUDGET", default=5000)
SOURCIER_SMTP_RCPTS_PER_SESSION = env.int("SOURCIER_SMTP_RCPTS_PER_SESSION", default=50)
SOURCIER_SMTP_MAX_RCPTS_PER_PERSON = env.int("SOURCIER_SMTP_MAX_RCPTS_PER_PERSON", default=10)
# A 4xx (greylisting) is asked again after this delay, at most this many times, then "unknown".
SOURCIER_SMTP_RECHECK_SECONDS = env.int("SOURCIER_SMTP_RECHECK_SECONDS", default=900)
if SOURCIER_SMTP_RECHECK_SECONDS < 900:
    raise ImproperlyConfigured("SOURCIER_SMTP_RECHECK_SECONDS must be at least 900 (15 minutes).")
SOURCIER_SMTP_MAX_RECHECKS = env.int("SOURCIER_SMTP_MAX_RECHECKS", default=3)
# A mail host that answers with a blocklist reply is left alone this long.
SOURCIER_SMTP_BLOCK_PAUSE_SECONDS = env.int("SOURCIER_SMTP_BLOCK_PAUSE_SECONDS", default=6 * 3600)
SOURCIER_CATCH_ALL_DAYS = env.int("SOURCIER_CATCH_ALL_DAYS", default=30)
SOURCIER_PROBE_RESULT_DAYS = env.int("SOURCIER_PROBE_RESULT_DAYS", default=30)
# Where discovery reads a company's pages: its own site (https://<domain>/…, through the same
# address guard as webhooks), or a copy of it; the sandbox serves the world's sites.
SOURCIER_DISCOVERY_SITE_URL = env.str(
    "SOURCIER_DISCOVERY_SITE_URL",
    default=f"{SOURCIER_SANDBOX_URL}/sites/{{domain}}" if SOURCIER_SANDBOX_URL else "",
)
# How long one page of a company's site may take to arrive, and all of its pages together: a
# slow or drip-feeding server is skipped with a warning instead of holding a worker.
SOURCIER_DISCOVERY_PAGE_SECONDS = env.float("SOURCIER_DISCOVERY_PAGE_SECONDS", default=15.0)
SOURCIER_DISCOVERY_SITE_SECONDS = env.float("SOURCIER_DISCOVERY_SITE_SECONDS", default=60.0)
if SOURCIER_DISCOVERY_PAGE_SECONDS <= 0 or SOURCIER_DISCOVERY_SITE_SECONDS <= 0:
    raise ImproperlyConfigured(
        "SOURCIER_DISCOVERY_PAGE_SECONDS and SOURCIER_DISCOVERY_SITE_SECONDS must be positive."
    )

# One format for the web server, the workers and beat (config/log.py): UTC with its offset.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "config.log.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"routine_tasks": {"()": "config.log.RoutineTaskFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["routine_tasks"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
