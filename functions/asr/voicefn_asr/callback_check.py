"""callback_url must be a public http(s) URL (checked after DNS resolution)."""

from __future__ import annotations

import asyncio

from voicefn.errors import ApiError


async def check_callback_url(url: str | None) -> None:
    if url is None:
        return
    from voicefn.net.ssrf import UnsafeUrl, check_public_url

    try:
        await asyncio.to_thread(check_public_url, url)
    except UnsafeUrl as exc:
        raise ApiError("INVALID_PARAMETER", f"callback_url: {exc}", param="callback_url") from exc
