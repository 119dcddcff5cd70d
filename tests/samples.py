"""The vendors' documented samples, kept in `tests/provider_samples/` with SOURCES.md."""

import json
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent / "provider_samples"


def sample_text(name: str) -> str:
    return (SAMPLES_DIR / name).read_text(encoding="utf-8")


def sample_json(name: str) -> Any:
    return json.loads(sample_text(name))
