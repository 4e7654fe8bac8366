"""POST /v1/chat/completions, text only, with the official openai client (issue 9)."""

from __future__ import annotations

import pytest
from openai import AuthenticationError, BadRequestError, InternalServerError, NotFoundError, RateLimitError

from tests.functions.chat.helpers import openai_client, script, sse_events
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def test_plain_completion(stack: Stack) -> None:
    script(stack, {"reply": "Changsha is the capital of Hunan.", "when_contains": "capital-plain"})
    client = openai_client(stack, "chat-plain")
    done = client.chat.completions.create(model="qwen-plus", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is the "},
                                     {"type": "text", "text": "capital-plain?"}]}], user="end-user-7")
    assert done.object == "chat.completion"
    assert done.model == "qwen-plus"
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].message.content == "Changsha is the capital of Hunan."
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.completion_tokens > 0
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


def test_streamed_completion_with_usage(stack: Stack) -> None:
    script(stack, {"reply": "One. Two. Three.", "when_contains": "count-stream"})
    client = openai_client(stack, "chat-stream")
    chunks = list(client.chat.completions.create(
        model="qwen-turbo", messages=[{"role": "user", "content": "count-stream"}], stream=True,
        stream_options={"include_usage": True}, temperature=0.2, top_p=0.9, max_tokens=50))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One. Two. Three."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # really streamed
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1


def test_max_tokens_and_stop_reach_the_model(stack: Stack) -> None:
    script(stack, {"reply": "alpha beta gamma delta epsilon", "when_contains": "limits"})
    client = openai_client(stack, "chat-limits")
    stopped = client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "limits"}],
                                             stop=[" gamma"])
    assert stopped.choices[0].message.content == "alpha beta"
    cut = client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "limits"}],
                                         max_completion_tokens=2)
    assert cut.choices[0].finish_reason == "length"


def test_errors_before_the_stream_starts(stack: Stack) -> None:
    client = openai_client(stack, "chat-errors")
    with pytest.raises(NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-9-imaginary", messages=[{"role": "user", "content": "hi"}],
                                       stream=True)
    assert unknown.value.body["code"] == "model_not_found"  # type: ignore[index]
    with pytest.raises(BadRequestError) as voice:
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}], stream=True,
                                       modalities=["text", "audio"], audio={"voice": "no-such-voice", "format": "mp3"})
    assert voice.value.body["code"] == "invalid_voice"  # type: ignore[index]
    with pytest.raises(BadRequestError):
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "wizard", "content": "hi"}])
    with pytest.raises(BadRequestError):
        client.chat.completions.create(model="qwen-plus", messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}])
    with pytest.raises(BadRequestError):
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}], temperature=3)
    bad_key = openai_client(stack, "chat-errors")
    bad_key.api_key = "not-a-token"
    with pytest.raises(AuthenticationError):
        bad_key.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize("kind, error, status", [("throttle", RateLimitError, 429),
                                                 ("error", InternalServerError, 502)])
def test_upstream_refusals_are_statuses_before_the_stream(stack: Stack, kind: str, error: type, status: int) -> None:
    stack.set_faults([{"match": {"api": "chat"}, "fault": {"kind": kind, "times": 1}}])
    client = openai_client(stack, "chat-faults")
    with pytest.raises(error) as raised:
        client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "hi"}], stream=True)
    assert raised.value.status_code == status  # type: ignore[attr-defined]


def test_a_failure_mid_stream_ends_it_with_an_error_event(stack: Stack) -> None:
    script(stack, {"reply": "This reply will break off in the middle.", "when_contains": "mid-fail"})
    stack.set_faults([{"match": {"api": "chat"}, "fault": {"kind": "task_failed", "times": 1}}])
    with stack.client("chat-faults") as client:
        response = client.post("/v1/chat/completions", json={
            "model": "qwen-plus", "messages": [{"role": "user", "content": "mid-fail"}], "stream": True})
    assert response.status_code == 200
    events = sse_events(response.text)
    assert events[-1] != "[DONE]"
    assert events[-1]["error"]["code"] == "upstream_error"
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e.get("choices"))
