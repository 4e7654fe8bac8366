"""Getting the audio an ASR call names: a ``data:`` URI or an http(s) URL, bounded in size and
time, then decoded to PCM16 mono by the layer's decoder (in a worker thread).

Loopback URLs are fetched too: this is a local emulator, and the files it is asked to transcribe
live on the same machine (the local object store). Under ``voicefn serve`` it shares the public
port, so there it fetches only URLs under the prefixes it is given (the local object store's):
it must not become a way into the machine's loopback services.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass

import httpx

from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.errors import InvalidAudio
from voicefn.audio.probe import audio_info

__all__ = ["AudioFetchFailed", "AudioTooLarge", "DecodedAudio", "InvalidAudio", "decode_audio",
           "fetch_url", "is_http_url", "read_audio_ref"]


class AudioTooLarge(ValueError):
    """The audio is bigger than the API accepts."""


class AudioFetchFailed(ValueError):
    """The audio could not be read from where it was said to be (bad URI, HTTP error, timeout);
    ``status`` is the HTTP status the file's server answered, if it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class DecodedAudio:
    pcm: bytes              # 16-bit mono at sample_rate (channels averaged)
    sample_rate: int        # the file's own rate
    format: str             # "wav", "mp3", ...
    channels: int           # in the file

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def is_http_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def parse_data_uri(uri: str, max_bytes: int) -> bytes:
    """The bytes of ``data:[<mime>];base64,<payload>`` (only base64 carries audio)."""
    header, sep, payload = uri.partition(",")
    if not sep or not header.lower().startswith("data:") or not header.lower().endswith(";base64"):
        raise AudioFetchFailed("a data URI must look like data:audio/wav;base64,<base64 data>")
    if len(payload) * 3 // 4 > max_bytes + 3:  # refuse before decoding a huge string
        raise AudioTooLarge(f"the audio is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(payload.strip(), validate=False)
    except (binascii.Error, ValueError):
        raise AudioFetchFailed("the data URI's base64 payload is malformed") from None
    if len(data) > max_bytes:
        raise AudioTooLarge(f"the audio is {len(data)} bytes; the limit is {max_bytes}")
    return data


def check_allowed(url: str, allowed: tuple[str, ...] | None) -> None:
    """Raise AudioFetchFailed unless ``url`` (dot segments resolved) is under an allowed prefix."""
    if allowed is None:
        return
    try:
        normalized = str(httpx.URL(url))
    except (httpx.InvalidURL, ValueError):
        raise AudioFetchFailed("the URL is malformed") from None
    if not any(normalized.startswith(prefix) for prefix in allowed):
        raise AudioFetchFailed("the embedded DashScope only fetches files of the local object store")


async def fetch_url(url: str, *, max_bytes: int, timeout_s: float,
                    allowed: tuple[str, ...] | None = None) -> bytes:
    """GET ``url`` (redirects followed unless restricted to ``allowed`` prefixes); at most
    ``max_bytes``, within ``timeout_s`` overall."""
    check_allowed(url, allowed)

    async def get() -> bytes:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=allowed is None,
                                     trust_env=False) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise AudioFetchFailed(f"GET {url} answered HTTP {response.status_code}",
                                           response.status_code)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise AudioTooLarge(f"the file is {declared} bytes; the limit is {max_bytes}")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise AudioTooLarge(f"the file is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)

    try:
        return await asyncio.wait_for(get(), timeout_s)
    except asyncio.TimeoutError:
        raise AudioFetchFailed(f"GET {url} timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise AudioFetchFailed(f"GET {url} failed: {type(exc).__name__}") from None


async def read_audio_ref(ref: str, *, max_bytes: int, timeout_s: float,
                         allowed: tuple[str, ...] | None = None) -> bytes:
    """The bytes a request's ``audio`` value points at: a data URI or an http(s) URL."""
    if ref.lower().startswith("data:"):
        return parse_data_uri(ref, max_bytes)
    if is_http_url(ref):
        return await fetch_url(ref, max_bytes=max_bytes, timeout_s=timeout_s, allowed=allowed)
    scheme = ref.partition(":")[0] if ":" in ref else "a local path"
    raise AudioFetchFailed(f"unsupported audio source ({scheme}); send an http(s) URL or a "
                           "data:audio/...;base64 URI")


def _decode(data: bytes) -> DecodedAudio:
    info = audio_info(data)
    pcm, rate = decode_to_pcm(data)
    return DecodedAudio(pcm, rate, info.format, info.channels)


async def decode_audio(data: bytes) -> DecodedAudio:
    """Decode in a worker thread; :class:`InvalidAudio` for anything that is not audio."""
    return await asyncio.to_thread(_decode, data)
