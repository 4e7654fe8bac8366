"""Kept for this function's imports: the multipart helpers live in the layer (``voicefn.web.forms``)."""

from voicefn.web.forms import form_bool, read_upload

__all__ = ["form_bool", "read_upload"]
