"""TurnScope: one cancel scope per turn; no task outlives it."""

from __future__ import annotations

import asyncio

import pytest

from voicefn.pipeline import TurnScope


async def forever(flag: list[str], name: str) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        flag.append(name)
        raise


async def test_leaving_the_scope_cancels_what_still_runs() -> None:
    stopped: list[str] = []
    before = len(asyncio.all_tasks())
    async with TurnScope() as scope:
        scope.spawn(forever(stopped, "llm"))
        scope.spawn(forever(stopped, "tts"))
        await asyncio.sleep(0)
        assert scope.running == 2
    assert sorted(stopped) == ["llm", "tts"]
    assert len(asyncio.all_tasks()) == before


async def test_a_failing_child_cancels_its_siblings_and_interrupts_the_owner() -> None:
    stopped: list[str] = []

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise LookupError("upstream gone")

    with pytest.raises(LookupError, match="upstream gone"):
        async with TurnScope() as scope:
            scope.spawn(forever(stopped, "sibling"))
            scope.spawn(fails())
            await asyncio.sleep(3600)  # the owner is interrupted, not left waiting
    assert stopped == ["sibling"]
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_cancel_stops_every_stage_at_once() -> None:
    stopped: list[str] = []
    async with TurnScope() as scope:
        for name in ("llm", "sentences", "tts"):
            scope.spawn(forever(stopped, name))
        await asyncio.sleep(0)
        scope.cancel()  # the client left
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert sorted(stopped) == ["llm", "sentences", "tts"]
        with pytest.raises(RuntimeError):
            scope.spawn(asyncio.sleep(0))


async def test_without_owner_cancellation_the_error_is_reported_through_the_callback() -> None:
    seen: list[BaseException] = []

    async def fails() -> None:
        raise KeyError("x")

    scope = TurnScope(cancel_owner=False, on_error=seen.append)
    async with scope:
        scope.spawn(fails())
        await asyncio.sleep(0.01)  # not interrupted
        assert isinstance(scope.error, KeyError) and seen == [scope.error]
        scope.error = None  # handled by the owner
