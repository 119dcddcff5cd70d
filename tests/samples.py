"""The vendors' documented samples (kept outside the repo, beside it, with their sources)."""

import json
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "provider-samples"


def sample_text(name: str) -> str:
    return (SAMPLES_DIR / name).read_text(encoding="utf-8")


def sample_json(name: str) -> Any:
    return json.loads(sample_text(name))
