"""CJK-aware sentence splitting for TTS (DESIGN §7, peers.md §8).

Hard stops end a sentence: ``。！？；`` at once, ASCII ``.!?;`` only when followed by a space, a
line end or CJK text; newlines too. Soft stops ``，、：,:`` (and ellipses) are used only to cut a
sentence that is too long, or to send a short first clause early from an LLM stream. Never a
break inside ``3.14``, ``1,000``, ``12:30``, after ``Dr.``/``e.g.``/``U.S.``, in ``...``, in a
URL, or between a stop and its closing quote/bracket (``。”`` stays together).

Everything is lossless: pieces concatenate back to the input, whitespace going with the piece
before it.
"""

from __future__ import annotations

import re
from typing import Callable

from voicefn.text.charclass import is_cjk, is_speakable

_CJK_HARD = "。！？；｡"
_ASCII_HARD = "!?;"
_STOP_RUN = "。！？；｡!?"  # marks that may pile up after a stop: "?!", "！！", "。。"
_CLOSERS = "\"'”’」』）)]】》〉}»›〕〗〙〛"
_CJK_SOFT = "，、：､"
_ASCII_SOFT = ",:"
_ELLIPSIS = "…⋯"

# Words that end in "." without ending a sentence (compared lower-cased, without the dot).
ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "approx",
    "dept", "est", "fig", "figs", "inc", "ltd", "co", "corp", "llc", "vol", "vols", "ch", "pp",
    "gen", "gov", "rev", "sen", "rep", "lt", "col", "capt", "sgt", "cmdr", "adm", "hon", "pres",
    "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",  # not "mar"/"may"
    "tue", "tues", "thu", "thur", "thurs", "al", "cf",  # not "sat"/"sun"/"wed": common words too
})
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")  # e.g, i.e, u.s, a.m, p.h.d


class _Pending:
    """Marker: the decision needs text that has not arrived yet (streams only)."""


PENDING = _Pending()


def _skip_closers(text: str, j: int) -> int:
    while j < len(text) and text[j] in _CLOSERS:
        j += 1
    return j


def _skip_space(text: str, j: int) -> int:
    while j < len(text) and text[j].isspace():
        j += 1
    return j


def _token_before(text: str, i: int) -> tuple[str, int]:
    """The ASCII word (letters, digits, dots) that ends right before index ``i``, and its start."""
    k = i
    while k > 0 and text[k - 1].isascii() and (text[k - 1].isalnum() or text[k - 1] == "."):
        k -= 1
    return text[k:i], k


def _starts_line(text: str, k: int) -> bool:
    line_start = text.rfind("\n", 0, k) + 1
    return text[line_start:k].strip() == ""


def _not_a_period(text: str, i: int, nxt: str) -> bool:
    """The "." at ``i`` belongs to an abbreviation, an initial or a list number."""
    token, k = _token_before(text, i)
    low = token.lower()
    if low in ABBREVIATIONS or _DOTTED.fullmatch(low):
        return True
    if len(low) == 1 and low.isalpha():  # an initial: "J. K. Rowling"
        return True
    if low == "no" and nxt.isdigit():  # "No. 5"
        return True
    return low.isdigit() and len(low) <= 3 and _starts_line(text, k)  # "1. First item"


def _hard_end(text: str, i: int, final: bool) -> int | _Pending | None:
    """Where the sentence ends if ``text[i]`` ends it (stop marks and closers included, spaces
    not); None if it does not; PENDING if that depends on text still to come."""
    ch = text[i]
    n = len(text)
    if ch == "\n":
        return i + 1
    if ch in _CJK_HARD:  # final at once, even if a closing quote might still arrive
        j = i + 1
        while j < n and (text[j] in _STOP_RUN or text[j] in _CLOSERS):
            j += 1
        return j
    if ch in _ASCII_HARD:
        j = i + 1
        while j < n and text[j] in _STOP_RUN:
            j += 1
        j = _skip_closers(text, j)
        if j == n:
            return j if final else PENDING
        if is_cjk(text[j]):
            return j
        if not text[j].isspace():
            return None  # not "a?b=1", not "Yahoo!Mail"
        if ch == ";":
            return j
        k = _skip_space(text, j)  # '"Stop!" he said.' goes on in lower case
        if k == n and "\n" not in text[j:k]:
            return j if final else PENDING
        return None if k < n and text[k].islower() and "\n" not in text[j:k] else j
    if ch != ".":
        return None
    if (i > 0 and text[i - 1] == ".") or (i + 1 < n and text[i + 1] == "."):
        return None  # an ellipsis, soft at most
    j = _skip_closers(text, i + 1)
    if j == n:
        return j if final else PENDING
    nxt = text[j]
    if j == i + 1 and i > 0 and text[i - 1].isdigit() and nxt.isdigit():
        return None  # 3.14
    if is_cjk(nxt):
        return j
    if not nxt.isspace():
        return None  # example.com, e.g.,
    k = _skip_space(text, j)
    if "\n" in text[j:k]:
        return j
    if k == n:
        return j if final else PENDING  # "$29. " could still become "$29. and"
    after = text[k]
    if _not_a_period(text, i, after) or after.islower():
        return None
    return j


def _soft_end(text: str, i: int, final: bool) -> int | _Pending | None:
    """Like :func:`_hard_end` for clause stops: commas, colons, enumeration commas, ellipses."""
    ch = text[i]
    n = len(text)
    if ch in _CJK_SOFT:
        return _skip_closers(text, i + 1)
    if ch in _ELLIPSIS or (ch == "." and i > 0 and text[i - 1] == "."):
        j = i + 1
        while j < n and (text[j] in _ELLIPSIS or text[j] == "."):
            j += 1
        j = _skip_closers(text, j)
        if j == n:
            return j if final else PENDING
        return j if text[j].isspace() or is_cjk(text[j]) else None
    if ch not in _ASCII_SOFT:
        return None
    j = i + 1
    if j == n:
        return j if final else PENDING
    if i > 0 and text[i - 1].isdigit() and text[j].isdigit():
        return None  # 1,000 and 12:30
    j = _skip_closers(text, j)
    if j == n:
        return j if final else PENDING
    return j if text[j].isspace() or is_cjk(text[j]) else None  # not http://, not a,b


def _speakable(piece: str) -> bool:
    return any(is_speakable(c) for c in piece)


def _split_with(text: str, finder: Callable[[str, int, bool], object]) -> list[str]:
    """Cut after every stop ``finder`` accepts (whitespace going with the piece before); a piece
    with nothing to say (a lone quote, a run of newlines) joins its neighbour."""
    pieces: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        end = finder(text, i, True)
        if isinstance(end, int):
            end = _skip_space(text, end)
            if _speakable(text[start:end]):
                pieces.append(text[start:end])
                start = end
            i = end
        else:
            i += 1
    if start < n:
        if pieces and not _speakable(text[start:]):
            pieces[-1] += text[start:]
        else:
            pieces.append(text[start:])
    return pieces


def split_sentences(text: str) -> list[str]:
    """Sentences, losslessly: ``"".join(split_sentences(t)) == t``."""
    return _split_with(text, _hard_end)


def split_clauses(text: str) -> list[str]:
    """A sentence cut at its soft stops (commas, colons, ellipses), losslessly."""
    return _split_with(text, _soft_end)


def _greedy(pieces: list[str], max_chars: int, measure: Callable[[str], int]) -> list[str]:
    out: list[str] = []
    cur, cur_len = "", 0
    for piece in pieces:
        size = measure(piece)
        if cur and cur_len + size > max_chars:
            out.append(cur)
            cur, cur_len = "", 0
        cur += piece
        cur_len += size
    if cur:
        out.append(cur)
    return out


def _hard_cut(word: str, max_chars: int, measure: Callable[[str], int]) -> list[str]:
    out: list[str] = []
    cur, cur_len = "", 0
    for ch in word:
        size = measure(ch)
        if size > max_chars:
            raise ValueError(f"max_chars={max_chars} is smaller than one character ({ch!r} measures {size})")
        if cur and cur_len + size > max_chars:
            out.append(cur)
            cur, cur_len = "", 0
        cur += ch
        cur_len += size
    if cur:
        out.append(cur)
    return out


def _cut_long(sentence: str, max_chars: int, measure: Callable[[str], int]) -> list[str]:
    """Pieces of one over-long sentence, each within ``max_chars``: soft stops, then spaces,
    then a hard cut."""
    pieces: list[str] = []
    for clause in split_clauses(sentence):
        if measure(clause) <= max_chars:
            pieces.append(clause)
            continue
        for word in re.findall(r"\S+\s*|\s+", clause):
            if measure(word) <= max_chars:
                pieces.append(word)
            else:
                pieces.extend(_hard_cut(word, max_chars, measure))
    return pieces


def pack_segments(text: str, max_chars: int, *, measure: Callable[[str], int] = len) -> list[str]:
    """Whole sentences packed greedily into segments of at most ``max_chars``.

    ``measure`` sizes text (``len``, or ``billing.billable_characters`` for DashScope's
    CJK-counts-2 limit); it must add up over concatenation, as both do for plain text.
    Every segment is non-empty and within the limit, and ``"".join(result) == text``.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    pieces: list[str] = []
    for sentence in split_sentences(text):
        if measure(sentence) <= max_chars:
            pieces.append(sentence)
        else:
            pieces.extend(_cut_long(sentence, max_chars, measure))
    return _greedy(pieces, max_chars, measure)


class SentenceStream:
    """Cuts an LLM token stream into sentences as soon as each one is certain.

    A ``.`` waits for the next non-space character (``$29.`` vs ``$29.99``, ``Dr. Smith``);
    CJK stops and newlines are final at once. Until the first piece has gone out, a clause of
    at least ``first_fragment_min_chars`` ending at a soft stop goes early (a fast first audio).
    With ``clause_min_chars``, any later clause of at least that many characters ending at a soft
    stop goes too: a long sentence is spoken as clauses, so the last piece of a reply (whose
    synthesis is what a listener waits for after the LLM's last token) is short.
    With ``max_chars``, a run-on longer than that is cut at soft stops/spaces instead of waiting.
    Pieces always hold something to say; what ``flush`` finds with nothing to say is dropped.
    """

    def __init__(self, *, first_fragment_min_chars: int = 8, max_chars: int | None = None,
                 clause_min_chars: int | None = None) -> None:
        self.first_fragment_min_chars = first_fragment_min_chars
        self.max_chars = max_chars
        self.clause_min_chars = clause_min_chars
        self._buf = ""
        self._scan = 0  # positions before this are decided non-breaks
        self._sent_any = False

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; returns the sentences completed by it (often none)."""
        self._buf += delta
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """The stream ended: everything left, as sentences."""
        out = self._drain(final=True)
        if _speakable(self._buf):
            out.append(self._buf)
        self._buf, self._scan = "", 0
        return out

    def _take(self, end: int) -> str:
        piece, self._buf, self._scan = self._buf[:end], self._buf[end:], 0
        self._sent_any = True
        return piece

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            end = self._next_hard(final)
            if end is None and not self._sent_any:
                end = self._first_fragment(final, self.first_fragment_min_chars)
            if end is None and self._sent_any and self.clause_min_chars:
                end = self._first_fragment(final, self.clause_min_chars)
            if end is None and self.max_chars and len(self._buf) > self.max_chars:
                parts = _greedy(_cut_long(self._buf, self.max_chars, len), self.max_chars, len)
                end = len(parts[0]) if len(parts) > 1 else None
            if end is None:
                return out
            out.append(self._take(end))

    def _next_hard(self, final: bool) -> int | None:
        buf = self._buf
        i = self._scan
        while i < len(buf):
            end = _hard_end(buf, i, final)
            if end is PENDING:
                self._scan = i
                return None
            if isinstance(end, int):
                end = _skip_space(buf, end)
                if _speakable(buf[:end]):
                    return end
                i = end
            else:
                i += 1
        self._scan = i
        return None

    def _first_fragment(self, final: bool, min_chars: int) -> int | None:
        """The end of the first clause of at least ``min_chars`` (spaces not counted) ending at a
        soft stop, if one is certain."""
        buf = self._buf
        for i in range(len(buf)):
            end = _soft_end(buf, i, final)
            if end is PENDING:
                return None
            if isinstance(end, int):
                said = sum(1 for c in buf[:end] if not c.isspace())
                if said >= min_chars and _speakable(buf[:end]):
                    return _skip_space(buf, end)
        return None
