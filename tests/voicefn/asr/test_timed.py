"""voicefn.asr.timed: how long a request waits upstream, and how result documents are read."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from voicefn.asr.timed import DEFAULT_WAIT_S, _sentence, wait_budget


def services_with_deadline(seconds: float) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(request_deadline_s=seconds))


@pytest.mark.parametrize(("deadline", "budget"),
                         [(120.0, 115.0), (60.0, 55.0), (30.0, 27.0), (3.0, 2.7), (0.0, DEFAULT_WAIT_S)])
def test_the_wait_ends_a_little_before_the_request_deadline(deadline: float, budget: float) -> None:
    assert wait_budget(services_with_deadline(deadline)) == pytest.approx(budget)


def test_a_sentence_reads_milliseconds_as_seconds_and_tolerates_junk() -> None:
    sentence = _sentence({"begin_time": 1250, "end_time": "3300", "text": " Hi there. ",
                          "words": [{"begin_time": 1250, "end_time": 1600, "text": "Hi"},
                                    {"begin_time": None, "end_time": "x", "text": "there", "punctuation": "."},
                                    "not a word"]})
    assert (sentence.start, sentence.end, sentence.text) == (1.25, 3.3, "Hi there.")
    assert [(w.text, w.start, w.end, w.punctuation) for w in sentence.words] == [
        ("Hi", 1.25, 1.6, ""), ("there", 0.0, 0.0, ".")]
