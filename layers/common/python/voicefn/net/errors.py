"""What can go wrong reaching a user-supplied URL, in words the user can act on.

Every error is a :class:`FetchError` (a ``ValueError``: the input was bad, not the server) and
its message is safe to show: it never carries what a hostname resolved to, so the guard cannot
be used to map an internal network. :func:`to_api_error` renders one for a route.
"""

from __future__ import annotations

from voicefn.errors import ApiError


class FetchError(ValueError):
    """A user-supplied URL could not be used; ``str(e)`` is the user-facing reason."""

    api_code = "INVALID_PARAMETER"


class UnsafeUrl(FetchError):
    """The URL is not plain http(s) to a public address (or cannot be shown to be)."""


class TooLarge(FetchError):
    """The resource is bigger than the caller allows."""

    api_code = "PAYLOAD_TOO_LARGE"


class FetchTimeout(FetchError):
    """The whole fetch (resolving, connecting, redirects, body) ran past its deadline."""

    api_code = "TIMEOUT"


class FetchFailed(FetchError):
    """The server answered with an error, too many redirects, or could not be reached."""


def to_api_error(e: FetchError, param: str | None = None) -> ApiError:
    """The layer's error for ``e``; ``param`` names the request field that held the URL."""
    message = f"{param}: {e}" if param else str(e)
    return ApiError(e.api_code, message, param=param)
