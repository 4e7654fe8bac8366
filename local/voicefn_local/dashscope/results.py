"""Encoding synthesized PCM into a result file and describing it as DashScope's ``audio`` object."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from voicefn.audio.encode import make_stream_encoder

from voicefn_local.dashscope.state import EmulatorState


def _encode(pcm: bytes, fmt: str, sample_rate: int, bit_rate_kbps: int | None) -> bytes:
    encoder = make_stream_encoder(fmt, sample_rate, bit_rate_kbps=bit_rate_kbps)
    return encoder.feed(pcm) + encoder.finish()


async def store_audio(state: EmulatorState, request: Request, pcm: bytes, fmt: str,
                      sample_rate: int, *, bit_rate_kbps: int | None = None,
                      file_id: str | None = None) -> dict[str, Any]:
    """Encode (in a worker thread), keep the file, return ``{"url", "id", "expires_at"}``."""
    data = await asyncio.to_thread(_encode, pcm, fmt, sample_rate, bit_rate_kbps)
    stored = state.files.put(data, fmt, file_id=file_id)
    return {"url": state.file_url(request, stored.name), "id": stored.file_id,
            "expires_at": stored.expires_at}
