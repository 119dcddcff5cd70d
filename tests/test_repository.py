"""The project tests and runs from its own clone: nothing reaches outside the repository."""

import re
import subprocess
from pathlib import Path

from tests.samples import SAMPLES_DIR, sample_json

ROOT = Path(__file__).resolve().parents[1]
# A path that climbs out of the clone, or names the folder a development machine has beside it.
OUTSIDE = re.compile(r"\.\./shared|parents\[\d\]\.parent\s*/|/\s*[\"']shared[\"']\s*/")


def test_provider_samples_live_inside_the_repository():
    assert SAMPLES_DIR.resolve().is_relative_to(ROOT)
    assert (SAMPLES_DIR / "SOURCES.md").is_file()
    assert sample_json("hunter-email-finder.json")


def test_no_tracked_file_reads_outside_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "Makefile", "*.toml", "*.cfg", ".ci/run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        f"{name}:{number}"
        for name in tracked
        if name != "tests/test_repository.py"
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []
