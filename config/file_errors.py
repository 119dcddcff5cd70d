"""What went wrong with a file, in the reader's language: the system's own text (strerror) is
English whatever the locale."""

from __future__ import annotations

import errno

from django.utils.translation import gettext as _


def describe_os_error(error: BaseException) -> str:
    """'fichier introuvable' for ENOENT, and so on; the system's text for the rare others."""
    reasons = {
        errno.ENOENT: _("no such file or folder"),
        errno.EACCES: _("permission denied"),
        errno.EPERM: _("permission denied"),
        errno.EISDIR: _("this is a folder, not a file"),
        errno.ENOTDIR: _("a part of the path is not a folder"),
        errno.ENOSPC: _("the disk is full"),
        errno.EROFS: _("the disk is read-only"),
    }
    code = getattr(error, "errno", None)
    if code in reasons:
        return reasons[code]
    if isinstance(error, UnicodeDecodeError):
        return _("the file is not text in a known encoding")
    return str(getattr(error, "strerror", None) or error)
