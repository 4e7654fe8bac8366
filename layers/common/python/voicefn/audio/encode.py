"""Encoders and decoders: PCM16 mono in, one valid file out, whether streamed in chunks or whole.

ONE encoder per stream: the chunks a :class:`StreamEncoder` returns concatenate to a single valid
file. Per-chunk containers (a WAV header or an Xing frame in every chunk) click and stall
players (peers.md §8). Heavy libraries are imported inside the encoders' constructors.
"""

from __future__ import annotations

from voicefn.audio import wav
from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.formats import OUTPUT_FORMATS, content_type, detect_format, normalize_format

__all__ = ["MP3_RATES", "OPUS_RATES", "StreamEncoder", "decode_to_pcm", "encode_pcm", "make_stream_encoder",
           "opus_rate_for", "transcode"]

# Sample rates each codec accepts. DashScope offers 8k-48k; Opus itself knows only these five.
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
# Legal mp3 bit rates (kbps) for MPEG-1 (32 kHz and up) and MPEG-2/2.5 (below).
_MP3_KBPS_V1 = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_KBPS_V2 = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_DEFAULT_OPUS_KBPS = 32  # DashScope's OGG_OPUS presets are 16/32/64 kbps; 32 is clear speech
# libsndfile command to flush Ogg pages every N ms (sndfile.h 1.2: SFC_SET_OGG_PAGE_LATENCY_MS),
# not exported by soundfile. Its default of 1000 ms would hold back a second of streamed audio.
_SFC_SET_OGG_PAGE_LATENCY_MS = 0x1302
_OGG_PAGE_LATENCY_MS = 200.0


class StreamEncoder:
    """Feed PCM16 mono chunks, get encoded bytes as soon as the codec has them, then finish."""

    format: str
    sample_rate: int

    def __init__(self, fmt: str, sample_rate: int) -> None:
        self.format = fmt
        self.sample_rate = sample_rate
        self.samples = 0  # fed so far, for durations
        self._carry = b""  # an odd trailing byte: half a sample, kept for the next chunk
        self._finished = False

    @property
    def content_type(self) -> str:
        return content_type(self.format, self.sample_rate)

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    def feed(self, pcm: bytes) -> bytes:
        """Encode a chunk; returns whatever encoded bytes are ready (often b"" for a small chunk)."""
        if self._finished:
            raise RuntimeError("encoder already finished")
        data = self._carry + bytes(pcm)
        whole = len(data) - (len(data) % 2)
        self._carry = data[whole:]
        if not whole:
            return b""
        self.samples += whole // 2
        return self._encode(data[:whole])

    def finish(self) -> bytes:
        """Flush the codec; the stream is complete after these bytes. Idempotent."""
        if self._finished:
            return b""
        self._finished = True
        self._carry = b""  # half a sample cannot be encoded; dropping it is the only option
        return self._flush()

    def _encode(self, pcm: bytes) -> bytes:
        raise NotImplementedError

    def _flush(self) -> bytes:
        raise NotImplementedError


class _PcmEncoder(StreamEncoder):
    def _encode(self, pcm: bytes) -> bytes:
        return pcm

    def _flush(self) -> bytes:
        return b""


class _WavEncoder(StreamEncoder):
    """Header first, with 0xFFFFFFFF sizes (length unknown while streaming), then raw samples."""

    def __init__(self, fmt: str, sample_rate: int) -> None:
        super().__init__(fmt, sample_rate)
        self._header_sent = False

    def _header(self) -> bytes:
        if self._header_sent:
            return b""
        self._header_sent = True
        return wav.header(wav.pcm16_fmt(self.sample_rate), None)

    def _encode(self, pcm: bytes) -> bytes:
        return self._header() + pcm

    def _flush(self) -> bytes:
        return self._header()  # an empty stream is still a valid (empty) WAV


class _Mp3Encoder(StreamEncoder):
    """lameenc: CBR, incremental, and it never writes an Xing/Info frame (nothing to patch later)."""

    def __init__(self, fmt: str, sample_rate: int, bit_rate_kbps: int | None) -> None:
        super().__init__(fmt, sample_rate)
        import lameenc

        if sample_rate not in MP3_RATES:
            raise ValueError(f"mp3 supports sample rates {MP3_RATES}, not {sample_rate}")
        allowed = _MP3_KBPS_V1 if sample_rate >= 32000 else _MP3_KBPS_V2
        kbps = bit_rate_kbps or (32 if sample_rate <= 12000 else 64 if sample_rate <= 24000 else 128)
        if kbps not in allowed or (sample_rate <= 12000 and kbps > 64):
            raise ValueError(f"mp3 at {sample_rate} Hz cannot be {kbps} kbps")
        self._lame = lameenc.Encoder()
        self._lame.set_bit_rate(kbps)
        self._lame.set_in_sample_rate(sample_rate)
        self._lame.set_channels(1)
        self._lame.set_quality(5)  # LAME's speed/quality middle; 2 doubles CPU for no audible gain on speech

    def _encode(self, pcm: bytes) -> bytes:
        return bytes(self._lame.encode(pcm))

    def _flush(self) -> bytes:
        return bytes(self._lame.flush())


class _Sink:
    """A seekable file for libsndfile that hands bytes back as they are written.

    Bytes before ``_emitted`` are gone to the client; a later write there is a header patch
    (FLAC rewrites STREAMINFO's totals and MD5 at close) and is dropped: STREAMINFO's zeros mean
    "unknown", which the FLAC format allows for streams.
    """

    def __init__(self) -> None:
        self._pending = bytearray()
        self._emitted = 0
        self._pos = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        written = len(data)
        start = self._pos - self._emitted
        self._pos += len(data)
        if start < 0:
            data = data[-start:] if -start < len(data) else b""
            start = 0
        end = start + len(data)
        if end > len(self._pending):
            self._pending.extend(bytes(end - len(self._pending)))
        self._pending[start:end] = data
        return written

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self._emitted + len(self._pending)
        self._pos = offset if whence == 0 else self._pos + offset if whence == 1 else size + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        start = max(0, self._pos - self._emitted)
        chunk = bytes(self._pending[start:] if n < 0 else self._pending[start:start + n])
        self._pos += len(chunk)
        return chunk

    def take(self) -> bytes:
        out = bytes(self._pending)
        self._emitted += len(out)
        self._pending.clear()
        return out


class _SoundfileEncoder(StreamEncoder):
    """libsndfile writing Ogg/Opus or FLAC into a :class:`_Sink`.

    Measured with libsndfile 1.2.2: FLAC comes out block by block (4096 samples); Ogg/Opus comes
    out a page at a time, every ``_OGG_PAGE_LATENCY_MS`` of audio once that is set.
    """

    def __init__(self, fmt: str, sample_rate: int, bit_rate_kbps: int | None) -> None:
        super().__init__(fmt, sample_rate)
        import soundfile as sf

        self._sink = _Sink()
        if fmt == "opus":
            if sample_rate not in OPUS_RATES:
                raise ValueError(f"opus supports sample rates {OPUS_RATES}, not {sample_rate}; resample first")
            kbps = bit_rate_kbps or _DEFAULT_OPUS_KBPS
            if not 6 <= kbps <= 256:
                raise ValueError("opus bit rate must be within 6-256 kbps")
            self._file = sf.SoundFile(self._sink, "w", samplerate=sample_rate, channels=1, format="OGG",
                                      subtype="OPUS", compression_level=_opus_level(kbps))
            latency = sf._ffi.new("double[1]", [_OGG_PAGE_LATENCY_MS])
            sf._snd.sf_command(self._file._file, _SFC_SET_OGG_PAGE_LATENCY_MS, latency, sf._ffi.sizeof(latency))
        else:
            self._file = sf.SoundFile(self._sink, "w", samplerate=sample_rate, channels=1, format="FLAC",
                                      subtype="PCM_16")

    def _encode(self, pcm: bytes) -> bytes:
        import numpy as np

        self._file.write(np.frombuffer(pcm, dtype="<i2"))
        return self._sink.take()

    def _flush(self) -> bytes:
        self._file.close()
        return self._sink.take()


def _opus_level(kbps: int) -> float:
    """libsndfile takes a 0..1 "compression level" for Opus, not a bit rate. Measured on 1.2.2
    (mono): level 0 -> 256 kbps, 1 -> 6 kbps, linear in between."""
    return min(1.0, max(0.0, 1.0 - (kbps * 1000 - 6000) / 250000))


def make_stream_encoder(fmt: str, sample_rate: int, *, bit_rate_kbps: int | None = None) -> StreamEncoder:
    """One encoder for one output stream of ``fmt`` at ``sample_rate`` (PCM16 mono in)."""
    fmt = normalize_format(fmt)
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"cannot encode {fmt}; output formats are {OUTPUT_FORMATS}")
    if not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ValueError("sample_rate must be a positive integer")
    if fmt == "pcm":
        return _PcmEncoder(fmt, sample_rate)
    if fmt == "wav":
        return _WavEncoder(fmt, sample_rate)
    if fmt == "mp3":
        return _Mp3Encoder(fmt, sample_rate, bit_rate_kbps)
    return _SoundfileEncoder(fmt, sample_rate, bit_rate_kbps)


def opus_rate_for(sample_rate: int) -> int:
    """The Opus rate to resample ``sample_rate`` to: itself if legal, else the next one up."""
    return next((r for r in OPUS_RATES if r >= sample_rate), OPUS_RATES[-1])


def encode_pcm(pcm: bytes, fmt: str, sample_rate: int, *, bit_rate_kbps: int | None = None) -> bytes:
    """A whole file. WAV gets real sizes; Opus input at a rate Opus lacks is resampled up to one."""
    fmt = normalize_format(fmt)
    if len(pcm) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    if fmt == "wav":
        return wav.build(wav.pcm16_fmt(sample_rate), bytes(pcm))
    if fmt == "opus" and sample_rate not in OPUS_RATES:
        from voicefn.audio.pcm import resample_pcm16

        target = opus_rate_for(sample_rate)
        pcm, sample_rate = resample_pcm16(pcm, sample_rate, target), target
    if fmt == "flac":
        return _flac_whole(pcm, sample_rate)
    enc = make_stream_encoder(fmt, sample_rate, bit_rate_kbps=bit_rate_kbps)
    return enc.feed(pcm) + enc.finish()


def _flac_whole(pcm: bytes, sample_rate: int) -> bytes:
    """FLAC into a real BytesIO, so STREAMINFO gets its totals and MD5 patched in at close."""
    import io

    import numpy as np
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, np.frombuffer(pcm, dtype="<i2"), sample_rate, format="FLAC", subtype="PCM_16")
    return out.getvalue()


def transcode(data: bytes, dst_fmt: str, sample_rate: int | None = None) -> bytes:
    """Decode, resample if asked, encode. Same format and rate: returned unchanged after a check."""
    from voicefn.audio.pcm import resample_pcm16
    from voicefn.audio.probe import audio_info

    dst_fmt = normalize_format(dst_fmt)
    src_fmt = detect_format(data)
    if src_fmt == dst_fmt and dst_fmt != "pcm":
        info = audio_info(data)  # raises InvalidAudio for a fake
        if sample_rate is None or info.sample_rate == sample_rate:
            return bytes(data)
    pcm, rate = decode_to_pcm(data)
    if sample_rate is not None and sample_rate != rate:
        pcm, rate = resample_pcm16(pcm, rate, sample_rate), sample_rate
    return encode_pcm(pcm, dst_fmt, rate)
