"""Sentence splitting, segment packing and the LLM sentence stream."""

from __future__ import annotations

import random

import pytest

from voicefn.billing import billable_characters
from voicefn.text.split import SentenceStream, pack_segments, split_clauses, split_sentences


@pytest.mark.parametrize("text,expected", [
    ("你好，世界。今天天气不错！你呢？我很好；谢谢。",
     ["你好，世界。", "今天天气不错！", "你呢？", "我很好；", "谢谢。"]),
    ("“你好。”他说。然后走了。", ["“你好。”", "他说。", "然后走了。"]),
    ("他问：“真的吗？！”我点头。", ["他问：“真的吗？！”", "我点头。"]),
    ("Hello world. How are you? I'm fine! Thanks; bye.",
     ["Hello world. ", "How are you? ", "I'm fine! ", "Thanks; ", "bye."]),
    ("Dr. Smith paid $3.14 for 1,000 apples at 12:30. Then he left.",
     ["Dr. Smith paid $3.14 for 1,000 apples at 12:30. ", "Then he left."]),
    ("We live in the U.S. and e.g. this works. Mr. Brown agrees.",
     ["We live in the U.S. and e.g. this works. ", "Mr. Brown agrees."]),
    ("J. K. Rowling wrote it. No. 5 is next.", ["J. K. Rowling wrote it. ", "No. 5 is next."]),
    ("Wait... what? That's odd… really.", ["Wait... what? ", "That's odd… really."]),
    ('He said "hi." Then left.', ['He said "hi." ', "Then left."]),
    ("It (the box.) fell. Then (again!) it rose.", ["It (the box.) fell. ", "Then (again!) it rose."]),
    ('"Stop!" he said. "Why?" She asked.', ['"Stop!" he said. ', '"Why?" ', "She asked."]),
    ("1. Buy milk\n2. Call mom\nDone.", ["1. Buy milk\n", "2. Call mom\n", "Done."]),
    ("第一行\n第二行\n\n第三行", ["第一行\n", "第二行\n\n", "第三行"]),
    ("See https://example.com/a?b=1&c=2 now. Version 1.2.3 is out.",
     ["See https://example.com/a?b=1&c=2 now. ", "Version 1.2.3 is out."]),
    ("混合English句子.接着中文。价格是3.5元。", ["混合English句子.", "接着中文。", "价格是3.5元。"]),
    ("我买了Apple的iPhone 15 Pro。It costs $999! 真贵。",
     ["我买了Apple的iPhone 15 Pro。", "It costs $999! ", "真贵。"]),
    ("Hi! ;)", ["Hi! ;)"]),
    ("。。。", ["。。。"]),
    ("  no stop at all  ", ["  no stop at all  "]),
    ("", []),
])
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_never_splits_inside_numbers_times_and_decimals():
    text = "The rate is 3.14159 today. Population: 1,234,567 at 08:30. 圆周率是3.14。"
    pieces = split_sentences(text)
    assert pieces == ["The rate is 3.14159 today. ", "Population: 1,234,567 at 08:30. ", "圆周率是3.14。"]
    assert split_clauses("We counted 1,000 birds at 12:30, then left: all of them.") == [
        "We counted 1,000 birds at 12:30, ", "then left: ", "all of them."]


def test_soft_stops_cut_clauses():
    assert split_clauses("首先，我们需要准备材料、工具：还有耐心……然后开始。") == [
        "首先，", "我们需要准备材料、", "工具：", "还有耐心……", "然后开始。"]


_PIECES = ["你好", "世界", "Hello", "world", "Dr.", "3.14", "1,000", "12:30", "e.g.", "U.S.", "...", "…",
           "。", "！", "？", "；", ".", "!", "?", ";", "，", "、", "：", ",", ":", "”", "“", "\"", ")", "（",
           " ", "  ", "\n", "\n\n", "\t", "abc", "x", "42", "😀", "é", "。”", "?!"]


def _random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(n))


def test_split_is_lossless_and_every_piece_says_something():
    rng = random.Random(2024)
    for _ in range(400):
        text = _random_text(rng, rng.randrange(0, 40))
        pieces = split_sentences(text)
        assert "".join(pieces) == text
        assert all(pieces)
        if len(pieces) > 1:
            assert all(any(c.isalnum() for c in p) for p in pieces)


def test_pack_segments_packs_whole_sentences():
    text = "这是第一句。这是第二句。这是第三句。"
    assert pack_segments(text, 12) == ["这是第一句。这是第二句。", "这是第三句。"]
    assert pack_segments(text, 100) == [text]
    assert pack_segments("", 10) == []


def test_pack_cuts_long_sentences_at_soft_stops_then_spaces_then_hard():
    long_cjk = "这句话比较长，有很多逗号，还有更多内容，最后结束。"
    assert pack_segments(long_cjk, 13) == ["这句话比较长，有很多逗号，", "还有更多内容，最后结束。"]
    assert pack_segments(long_cjk, 12) == ["这句话比较长，", "有很多逗号，", "还有更多内容，最后结束。"]
    assert pack_segments("one two three four five six seven", 10) == ["one two ", "three ", "four five ",
                                                                      "six seven"]
    assert pack_segments("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


def test_pack_with_dashscope_character_counting():
    text = "你好世界。" * 3  # each sentence: 4 ideographs (8) + 。(1) = 9 billable characters
    segments = pack_segments(text, 20, measure=billable_characters)
    assert segments == ["你好世界。你好世界。", "你好世界。"]
    assert all(billable_characters(s) <= 20 for s in segments)
    with pytest.raises(ValueError):
        pack_segments("你", 1, measure=billable_characters)  # one ideograph already counts 2
    with pytest.raises(ValueError):
        pack_segments("abc", 0)


def test_pack_properties_on_random_text():
    rng = random.Random(99)
    for _ in range(300):
        text = _random_text(rng, rng.randrange(1, 60))
        limit = rng.randrange(1, 40)
        segments = pack_segments(text, limit)
        assert "".join(segments) == text
        assert all(0 < len(s) <= limit for s in segments)
        sentences = split_sentences(text)
        if all(len(s) <= limit for s in sentences):  # then cuts fall only between sentences
            bounds, pos = set(), 0
            for s in sentences:
                pos += len(s)
                bounds.add(pos)
            pos = 0
            for seg in segments:
                pos += len(seg)
                assert pos in bounds


def _stream(text: str, sizes: list[int], **kw) -> list[str]:
    stream = SentenceStream(**kw)
    out, pos, i = [], 0, 0
    while pos < len(text):
        size = sizes[i % len(sizes)]
        out += stream.feed(text[pos:pos + size])
        pos += size
        i += 1
    return out + stream.flush()


def test_stream_waits_after_a_period_to_tell_prices_apart():
    stream = SentenceStream(first_fragment_min_chars=10**6)
    assert stream.feed("It costs $29.") == []
    assert stream.feed("99 today.") == []
    assert stream.feed(" Next") == ["It costs $29.99 today. "]
    assert stream.feed(" it was $29.") == []
    assert stream.feed(" Then") == ["Next it was $29. "]
    assert stream.feed(" Dr.") == []
    assert stream.feed(" Smith came.") == []
    assert stream.flush() == ["Then Dr. Smith came."]


def test_cjk_stops_are_final_at_once():
    stream = SentenceStream()
    assert stream.feed("你好。") == ["你好。"]
    assert stream.feed("今天天气") == []
    assert stream.feed("很好！明") == ["今天天气很好！"]
    assert stream.feed("天见\n") == ["明天见\n"]
    assert stream.flush() == []


def test_first_clause_goes_early_then_only_sentences():
    text = "好的，我来帮你查一下天气情况，请稍等。北京今天晴，气温二十度，适合出门。"
    pieces = _stream(text, [1])
    assert pieces == ["好的，我来帮你查一下天气情况，", "请稍等。", "北京今天晴，气温二十度，适合出门。"]
    english = _stream("Sure, let me check the weather for you, one moment. It is sunny.", [2])
    assert english[0] == "Sure, let me check the weather for you, "
    assert english[1:] == ["one moment. ", "It is sunny."]


def test_first_fragment_waits_on_numbers():
    stream = SentenceStream(first_fragment_min_chars=3)
    assert stream.feed("The total is 1,") == []  # 1, could be 1,000
    assert stream.feed("000 dollars, and") == ["The total is 1,000 dollars, "]


def test_stream_max_chars_cuts_run_ons():
    stream = SentenceStream(first_fragment_min_chars=10**6, max_chars=20)
    out = []
    for word in ("word " * 30).split(" "):
        out += stream.feed(word + " ")
    out += stream.flush()
    assert "".join(out).split() == ["word"] * 30
    assert all(len(p) <= 20 for p in out) and len(out) > 5
    assert all(len(p) > 10 for p in out[:-1])  # packed up to the limit, not word by word


def test_clause_min_chars_speaks_long_sentences_as_clauses():
    text = "Sure. This is the second sentence of the reply, and its last clause. Then a short, plain one."
    pieces = _stream(text, [3], clause_min_chars=24)
    assert "".join(pieces) == text
    # a clause goes once it is long enough; a short one ("Then a short,") waits for its sentence
    assert pieces == ["Sure. ", "This is the second sentence of the reply, ", "and its last clause. ",
                      "Then a short, plain one."]
    stream = SentenceStream(clause_min_chars=5)
    assert stream.feed("Go. ") == []  # a "." waits for the next word
    assert stream.feed("It was 1,") == ["Go. "]  # "1," could be 1,000: not a clause yet
    assert stream.feed("000 feet, then") == ["It was 1,000 feet, "]
    assert stream.flush() == ["then"]


def test_flush_drops_a_tail_with_nothing_to_say():
    stream = SentenceStream()
    assert stream.feed("结束了。") == ["结束了。"]
    assert stream.feed("  \n ") == []
    assert stream.flush() == []


def test_stream_matches_split_for_any_chunking():
    """Same sentences whatever the chunking; only whitespace right after a CJK stop may move to
    the next piece (the stop is final at once, before that whitespace arrives)."""
    rng = random.Random(5)
    texts = [
        "Dr. Smith paid $3.14 for 1,000 apples at 12:30. Then he left! Did he? Yes.",
        "你好，世界。今天天气不错！你呢？我很好；谢谢。",
        "混合English句子. 接着中文。Version 1.2.3 is out. 价格是3.5元。\n新的一行",
        "Wait... what? That's odd… really. No. 5 is next. The U.S. team won.",
    ]
    for text in texts:
        for _ in range(30):
            sizes = [rng.randrange(1, 8) for _ in range(10)]
            streamed = _stream(text, sizes, first_fragment_min_chars=10**6)
            assert "".join(streamed) == text
            assert [p.strip() for p in streamed] == [p.strip() for p in split_sentences(text)]


def test_stream_is_lossless_on_random_text():
    rng = random.Random(11)
    for _ in range(300):
        text = _random_text(rng, rng.randrange(1, 50))
        pieces = _stream(text, [rng.randrange(1, 6) for _ in range(7)])
        joined = "".join(pieces)
        assert text.startswith(joined)
        assert not any(c.isalnum() for c in text[len(joined):])  # only a silent tail is dropped
        assert all(any(c.isalnum() for c in p) for p in pieces)
