"""Upload size limit, applied while the upload arrives rather than once it fills a disk."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.template.defaultfilters import filesizeformat

# The request attribute the upload views read (a form cannot see an upload that was cut).
TOO_LARGE = "upload_too_large"


def max_upload_bytes() -> int:
    return settings.SOURCIER_IMPORT_MAX_BYTES


class SizeLimitUploadHandler(FileUploadHandler):
    """First of the upload handlers: past SOURCIER_IMPORT_MAX_BYTES, nothing more is written.

    The rest of the request is read and dropped (not reset: the browser then shows the
    page's French error rather than a broken connection), the partial temporary file is
    closed and so deleted, and the request is marked for the view.
    """

    request_length = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_length = content_length

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        # A request far past the limit stops before its first byte is written.
        if self.request_length > max_upload_bytes() + 1024 * 1024:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > max_upload_bytes():
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self) -> None:
        if self.request is not None:
            setattr(self.request, TOO_LARGE, True)
        raise StopUpload(connection_reset=False)


class SizeLimitedFileForm(forms.Form):
    """A form whose `file` the upload handler may have cut at the limit: such an upload arrives
    as no file at all, so the view passes `too_large` and the form says why, in French."""

    # Its "%(max)s" is the limit, written for people ("200,0 Mo").
    too_large_message = ""

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["file"].required = not too_large

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.too_large or upload.size > max_upload_bytes():
            raise forms.ValidationError(
                self.too_large_message % {"max": filesizeformat(max_upload_bytes())}
            )
        return upload
