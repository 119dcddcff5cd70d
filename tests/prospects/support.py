"""Checks the import tests share."""

from pathlib import Path

from prospects.models import ImportBatch, Prospect


def nothing_stored(workspace, media_root: Path) -> bool:
    """No batch, no prospect and no uploaded file: a refused file left no trace."""
    folder = Path(media_root) / "imports"
    return (
        not ImportBatch.objects.for_workspace(workspace).exists()
        and not Prospect.objects.for_workspace(workspace).exists()
        and (not folder.exists() or not any(folder.iterdir()))
    )
