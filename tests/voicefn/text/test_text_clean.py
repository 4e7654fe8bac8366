"""Cleaning LLM markdown for a voice, and normalizing text for cache keys."""

from __future__ import annotations

import pytest

from voicefn.text.clean import clean_for_speech, normalize_for_cache


@pytest.mark.parametrize("text,expected", [
    ("你好😀！今天天气不错🌞。", "你好！今天天气不错。"),
    ("Family 👨‍👩‍👧 and flag 🇨🇳 and keycap 1️⃣ and 👍🏽 done", "Family and flag and keycap 1 and done"),
    ("⭐评分：五星✨✔", "评分：五星"),
    ("气温25℃，湿度60%，© 2025 ™", "气温25℃，湿度60%，© 2025 ™"),
    ("# 标题\n## Second heading ##\n正文", "标题\nSecond heading\n正文"),
    ("这是**重点**和*斜体*，还有__粗体__与~~删除~~。", "这是重点和斜体，还有粗体与删除。"),
    ("Read [the docs](https://example.com/docs) or ![a cat](cat.png).", "Read the docs or a cat."),
    ("Use `pip install` then run.", "Use pip install then run."),
    ("代码如下：\n```python\nprint('hi')\nx = 1\n```\n运行即可。", "代码如下：\n运行即可。"),
    ("- 苹果\n- 香蕉\n* 橙子\n1. 第一", "苹果\n香蕉\n橙子\n1. 第一"),
    ("> 引用的话\n正文", "引用的话\n正文"),
    ("上文\n\n---\n\n下文", "上文\n下文"),
    ("| 名称 | 价格 |\n|---|---|\n| 苹果 | 5元 |", "名称 价格\n苹果 5元"),
    ("2*3*4 = 24 and my_var_name stays", "2*3*4 = 24 and my_var_name stays"),
    ("zero\u200bwidth\u200d joiner\ufeffBOM\u00adsoft \u202eRTL", "zerowidth joinerBOMsoft RTL"),
    ("bell\x07 and\tTab\r\nnew line", "bell and Tab\nnew line"),
    ("  多个   空格\u3000全角  \n\n\n  换行  ", "多个 空格 全角\n换行"),
    ("line one<br>line two", "line one\nline two"),
    ("Go to <https://example.com> now", "Go to now"),  # a URL is not read out (issue 9)
    ("See https://example.com/a?b=1, then 访问https://a.cn/x。", "See , then 访问。"),
])
def test_clean_for_speech(text, expected):
    assert clean_for_speech(text) == expected


def test_cjk_and_punctuation_survive_untouched():
    text = "你好，世界！「引号」『书名』（括号）——破折号……省略号。한국어 日本語のテキスト。"
    assert clean_for_speech(text) == text


def test_ssml_keeps_its_markup():
    ssml = '<speak>你好<break time="500ms"/>世界\u200b</speak>'
    assert clean_for_speech(ssml) == '<speak>你好<break time="500ms"/>世界</speak>'


def test_unclosed_fence_loses_only_its_line():
    assert clean_for_speech("看这里：\n```js\nconsole.log(1)") == "看这里：\nconsole.log(1)"


def test_cleaning_is_idempotent():
    samples = ["**粗体** 😀 [链接](http://x)", "# H\n- a\n- b", "plain text. 中文。"]
    for text in samples:
        once = clean_for_speech(text)
        assert clean_for_speech(once) == once


def test_normalize_for_cache():
    assert normalize_for_cache("你好，世界！") == "你好,世界!"  # full-width punctuation folded
    assert normalize_for_cache("  Hello\n\n  World\t ") == "Hello World"
    assert normalize_for_cache("ＡＢＣ１２３") == "ABC123"
    assert normalize_for_cache("ﬁne") == "fine"  # compatibility ligature
    variants = ["今天 天气\n很好", "今天\u3000天气  很好 ", " 今天 天气 很好"]
    assert len({normalize_for_cache(v) for v in variants}) == 1
    assert normalize_for_cache("Hello") != normalize_for_cache("hello")  # case can change speech
    text = "  Ｍｉｘｅｄ　全角  text "
    assert normalize_for_cache(normalize_for_cache(text)) == normalize_for_cache(text)
