"""Join audio segments (one per synthesized sentence or chunk) into ONE valid file per format.

mp3, wav, pcm and Ogg Opus are joined without decoding (no quality loss, little CPU); FLAC is
decoded and re-encoded, since its frames carry sample numbers that would have to be rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicefn.audio import mp3, ogg, wav
from voicefn.audio.errors import InvalidAudio
from voicefn.audio.formats import detect_format, normalize_format


def join_segments(segments: list[bytes], fmt: str, sample_rate: int | None = None) -> bytes:
    """Concatenate segments of one format into one file of that format.

    ``sample_rate`` is used by FLAC only: the output rate (default: the first segment's); segments
    at other rates are resampled. mp3/wav/opus segments must share rate and channels.
    """
    fmt = normalize_format(fmt)
    if not segments:
        raise ValueError("nothing to join")
    if fmt != "pcm":
        for index, seg in enumerate(segments):
            found = detect_format(seg)
            if found != fmt:
                raise InvalidAudio(f"segment {index} is {found or 'not audio'}, not {fmt}")
    joiner = {"pcm": _join_pcm, "wav": _join_wav, "mp3": _join_mp3, "opus": _join_opus}.get(fmt)
    if joiner is not None:
        return joiner([bytes(s) for s in segments])
    if fmt == "flac":
        return _join_flac(segments, sample_rate)
    raise ValueError(f"cannot join {fmt}")


def _join_pcm(segments: list[bytes]) -> bytes:
    if any(len(s) % 2 for s in segments):
        raise InvalidAudio("PCM16 segment with an odd number of bytes")
    return b"".join(segments)


def _join_wav(segments: list[bytes]) -> bytes:
    layouts = [wav.parse_wav(s) for s in segments]
    first = layouts[0]
    for index, layout in enumerate(layouts[1:], start=1):
        if not layout.same_format(first):
            raise InvalidAudio(f"wav segment {index} has a different format from the first")
    samples = b"".join(s[lay.data_offset:lay.data_offset + lay.data_size] for s, lay in zip(segments, layouts))
    return wav.build(first.fmt_chunk, samples)


def _join_mp3(segments: list[bytes]) -> bytes:
    """Frames back to back. The first segment's ID3v2 tag and Xing/LAME frame are kept and
    rewritten for the whole stream; every later segment's tags and header frame are dropped.

    Without a rewrite, decoders trust the first Xing frame count and stop after segment one.
    Each later segment's encoder delay and padding stay in (frames cannot be cut without
    decoding): about 50 ms of near-silence per seam from a gapless LAME encoder, none from ours.
    """
    layouts = [mp3.scan(s) for s in segments]
    parts = [mp3.audio_frames(s, layout) for s, layout in zip(segments, layouts)]
    headers = [h for _, _, hs in parts for h in hs]
    if not headers:
        raise InvalidAudio("mp3 segments hold no audio frames")
    if len({(h.version, h.sample_rate, h.channels) for h in headers}) > 1:
        raise InvalidAudio("mp3 segments differ in MPEG version, sample rate or channels")
    joined = bytearray()
    offsets: list[int] = []
    for data, offs, _ in parts:
        offsets.extend(len(joined) + o for o in offs)
        joined += data
    audio = bytes(joined)
    first = layouts[0]
    xing = first.xing
    if xing is not None and xing.flags & 1:
        pos, head = first.frames[0]
        frame = segments[0][pos:pos + head.length]
        last = layouts[-1].xing
        padding = last.padding if last is not None and last.lame_offset is not None else 0
        total = len(frame) + len(audio)
        frame = mp3.rewrite_xing(
            frame, xing, frames=len(headers), nbytes=total,
            toc=mp3.build_toc([len(frame) + o for o in offsets], total), padding=padding,
            music_crc=mp3.lame_crc16(audio) if xing.lame_offset is not None else None)
        return first.tag + frame + audio
    if mp3.is_vbr(headers):
        return first.tag + mp3.make_xing_frame(headers[0], frames=len(headers), nbytes_after=len(audio),
                                               toc_offsets=offsets) + audio
    return first.tag + audio


@dataclass
class _OpusStream:
    header_pages: list[ogg.Page]
    audio_pages: list[ogg.Page]
    cumulative: list[int]  # 48 kHz samples of the packets ending on or before each audio page
    channels: int
    start: int  # granule position the stream starts at (0 for files)
    end: int  # final granule relative to start: end trimming, pre-skip included

    @property
    def total(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0


def _opus_stream(data: bytes) -> _OpusStream:
    pages = ogg.parse_pages(data)
    if len({p.serial for p in pages}) > 1:
        raise InvalidAudio("multiplexed or chained Ogg segments cannot be joined")
    packets = list(ogg.iter_packets(pages))
    if len(packets) < 2 or packets[1][1][:8] != b"OpusTags":
        raise InvalidAudio("Ogg Opus segment without OpusHead/OpusTags")
    head = ogg.parse_opus_head(packets[0][1])
    tags_page = packets[1][0]
    if any(index <= tags_page for index, _ in packets[2:]):
        raise InvalidAudio("audio packet on an Opus header page")
    per_page = [0] * len(pages)
    for index, packet in packets[2:]:
        per_page[index] += ogg.opus_packet_samples(packet)
    audio_pages = pages[tags_page + 1:]
    cumulative, running = [], 0
    for index in range(tags_page + 1, len(pages)):
        running += per_page[index]
        cumulative.append(running)
    start, end = 0, running
    timed = [i for i, p in enumerate(audio_pages) if p.granule >= 0]
    if timed:
        first, last = timed[0], timed[-1]
        if first != len(audio_pages) - 1:  # a lone page's granule is its end, not its start
            start = max(0, audio_pages[first].granule - cumulative[first])
        end = min(running, audio_pages[last].granule - start)
    return _OpusStream(pages[:tags_page + 1], audio_pages, cumulative, head.channels, start, end)


def _join_opus(segments: list[bytes]) -> bytes:
    """One logical Ogg stream: the first segment's OpusHead/OpusTags, then every segment's audio
    pages under the first serial, with consecutive sequence numbers, granules that keep counting
    (each later segment's pre-skip is decoded, so it counts), new CRCs, EOS on the last page only.

    Seams keep each segment's pre-skip (6.5 ms) and end padding (< one 20 ms packet).
    """
    streams = [_opus_stream(s) for s in segments]
    first = streams[0]
    if any(s.channels != first.channels for s in streams):
        raise InvalidAudio("Opus segments differ in channel count")
    serial = first.header_pages[0].serial
    filled = [s for s in streams if s.audio_pages]
    out = []
    for i, page in enumerate(first.header_pages):
        eos = ogg.EOS if not filled and i == len(first.header_pages) - 1 else 0
        out.append(ogg.Page((page.header_type & ~ogg.EOS) | eos, page.granule, serial, i, page.lacing, page.body))
    seq = len(out)
    base = first.start
    for k, stream in enumerate(filled):
        for i, page in enumerate(stream.audio_pages):
            last = k == len(filled) - 1 and i == len(stream.audio_pages) - 1
            granule = base + stream.cumulative[i] if page.packets_ending else -1
            if last:
                granule = base + min(stream.cumulative[i], stream.end)  # the final segment's end trim
            flags = (page.header_type & ogg.CONTINUED) | (ogg.EOS if last else 0)
            out.append(ogg.Page(flags, granule, serial, seq, page.lacing, page.body))
            seq += 1
        base += stream.total
    return b"".join(p.to_bytes() for p in out)


def _join_flac(segments: list[bytes], sample_rate: int | None) -> bytes:
    from voicefn.audio.decode import decode_to_pcm
    from voicefn.audio.encode import encode_pcm
    from voicefn.audio.pcm import resample_pcm16

    decoded = [decode_to_pcm(s) for s in segments]
    rate = sample_rate or decoded[0][1]
    pcm = b"".join(resample_pcm16(p, r, rate) if r != rate else p for p, r in decoded)
    return encode_pcm(pcm, "flac", rate)
