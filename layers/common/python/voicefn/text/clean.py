"""Text as a voice should read it, and text as a cache key should see it.

Seed 002's stated open problem: TTS spoke unreadable characters. LLM replies are markdown with
emoji; a voice reading "asterisk asterisk" or an emoji name is a bug.
"""

from __future__ import annotations

import re
import unicodedata

# Fenced code blocks go entirely: code read aloud is noise. An unclosed fence loses its line only.
_FENCED_BLOCK = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[ \t]*(?:\n|$)", re.M | re.S)
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[^\n]*(?:\n|$)", re.M)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_BLOCKQUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
_BULLET = re.compile(r"^[ \t]*[-*+•][ \t]+", re.M)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_TABLE_DIVIDER = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+(?:[ \t]*:?-{3,}:?[ \t]*)?\|?[ \t]*$", re.M)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.M)
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S)
# Single-marker emphasis, but not inside ASCII words or sums: 2*3*4, snake_case_names stay.
_EM_STAR = re.compile(r"(?<![A-Za-z0-9*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![A-Za-z0-9*])")
_EM_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9_])_(?=\S)([^_\n]+?)(?<=\S)_(?![A-Za-z0-9_])")
_INLINE_CODE = re.compile(r"`+([^`\n]+?)`+")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.I)
_LEFTOVER_MARKS = re.compile(r"\*\*|~~|`")

# Emoji and pictographs: the symbol blocks emoji live in, plus the joiners and modifiers that
# build emoji sequences. Letter-like symbols (℃ ° © ™) and arrows are kept: voices read them.
_EMOJI = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # mahjong .. symbols & pictographs ext-A (incl. flags, skin tones)
    "\u2600-\u27BF"  # misc symbols, dingbats
    "\u2B00-\u2BFF"  # misc symbols and arrows (stars, squares)
    "\u2300-\u23FF"  # misc technical (watch, hourglass, play buttons)
    "\uFE00-\uFE0F"  # variation selectors
    "\u20E3"  # combining keycap
    "\U000E0020-\U000E007F"  # tag characters (subdivision flags)
    "\u3030\u303D\u3297\u3299"  # CJK emoji: wavy dash, part mark, circled 祝/秘
    "]+"
)
# A bare URL is not read out (seed 002's open problem; a voice spelling "h t t p s" is noise).
_BARE_URL = re.compile(r"(?<![A-Za-z0-9.])(?:https?://|www\.)[^\s<>()\[\]{}\u3000-\u303f\uff00-\uffef]+[^\s<>()\[\]{}.,;:!?'\"\u3000-\u303f\uff00-\uffef]")
_HSPACE = re.compile(r"[^\S\n]+")  # whitespace other than newlines (incl. U+3000, NBSP)
_SPACED_NEWLINES = re.compile(r" ?\n[\n ]*")
_ANY_SPACE = re.compile(r"\s+")


def _strip_controls(text: str) -> str:
    """Control and format characters (zero-width spaces and joiners, BOM, bidi marks, soft
    hyphens) and private-use glyphs; tabs become spaces and CR/CRLF become newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) not in ("Cc", "Cf", "Co"))


def _collapse_whitespace(text: str) -> str:
    text = _HSPACE.sub(" ", text)
    text = _SPACED_NEWLINES.sub("\n", text)  # blank lines and line-edge spaces
    return text.strip()


def _strip_markdown(text: str) -> str:
    text = _FENCED_BLOCK.sub("\n", text)
    text = _FENCE_LINE.sub("", text)
    text = _HTML_BREAK.sub("\n", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TABLE_DIVIDER.sub("", text)
    text = _TABLE_ROW.sub(lambda m: m.group(1).replace("|", " "), text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _BLOCKQUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EM_STAR.sub(r"\1", text)
    text = _EM_UNDERSCORE.sub(r"\1", text)
    return _LEFTOVER_MARKS.sub("", text)


def clean_for_speech(text: str) -> str:
    """What a voice should read: markdown reduced to its words (link text, not URLs; no code
    blocks), no emoji, control or zero-width characters, whitespace collapsed (line breaks kept:
    they end sentences). CJK text and punctuation are untouched. SSML (``<speak>...``) keeps its
    markup and only loses invisible characters."""
    text = _strip_controls(text)
    if text.lstrip().startswith("<speak"):
        return text.strip()
    text = _strip_markdown(text)
    text = _BARE_URL.sub("", text)
    text = _EMOJI.sub("", text)
    return _collapse_whitespace(text)


def strip_unspeakable(text: str) -> str:
    """``text`` without what no voice can say: control, zero-width and other format characters,
    private-use glyphs and emoji (markdown and SSML are left as they are: only invisible or
    pictographic characters go). Synthesis gets this text, and bills it."""
    return _EMOJI.sub("", _strip_controls(text))


def normalize_for_cache(text: str) -> str:
    """Cache-key form: NFKC (full-width and compatibility forms folded) and whitespace runs as one
    space, trimmed. Two texts a voice would read the same way get the same key."""
    return _ANY_SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
