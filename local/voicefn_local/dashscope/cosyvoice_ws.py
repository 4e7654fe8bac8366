"""``WS /api-ws/v1/inference``: CosyVoice streaming synthesis (reference §1).

One connection runs one task at a time (a new run-task aborts the current one) and can be
reused after task-finished. The receive loop never waits on synthesis: continue-task text goes
into a queue that a per-task runner drains, so cancel, a new run-task or the client going away
are seen at once and stop the work between sentences and frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from voicefn.audio.encode import make_stream_encoder
from voicefn.billing import billable_characters

from voicefn_local.dashscope import ws_events as events
from voicefn_local.dashscope.auth import check_key
from voicefn_local.dashscope.calls import algo_failure, header_fault
from voicefn_local.dashscope.cloned_voices import account_of
from voicefn_local.dashscope.cosyvoice_params import CosyVoiceSpec, parse_cosyvoice
from voicefn_local.dashscope.errors import (DashScopeError, error_response, internal_error,
                                            throttled)
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.sentences import SentenceBuffer
from voicefn_local.dashscope.state import EmulatorState, get_state
from voicefn_local.dashscope.synthesis import check_text_length, pcm_frames, strip_ssml

log = logging.getLogger(__name__)

API = "tts_ws"
_FLUSH = object()
_RAW_FORMATS = ("pcm", "wav")  # no codec: nothing worth a worker thread
_FINISH = object()


class _Dropped(Exception):
    """The ``drop`` fault: end the connection without a close frame."""


@dataclass
class _Task:
    task_id: str
    spec: CosyVoiceSpec
    fault: Fault | None
    encoder: Any
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    buffer: SentenceBuffer = field(default_factory=SentenceBuffer)
    runner: asyncio.Task[None] | None = None
    characters: int = 0
    sentences: int = 0
    frames: int = 0
    texts: int = 0
    first_text_at: float | None = None  # call_times: the emulator's own time is run-task → started, text → audio


async def inference_ws(websocket: WebSocket) -> None:
    state = get_state(websocket)
    try:
        account = account_of(check_key(state.config.api_keys, websocket.headers))
        fault = header_fault(websocket.headers)
    except DashScopeError as err:
        if err.status == 401:
            state.stats.incr("auth_failures")
        await _deny(websocket, err)
        return
    await websocket.accept()
    try:
        await _Connection(websocket, state, fault, account).serve()
    except WebSocketDisconnect:
        pass  # the client left while we were sending: normal for a cancelled or abandoned task


async def _deny(websocket: WebSocket, err: DashScopeError) -> None:
    """Refuse the upgrade with an HTTP error (DashScope answers a bad key with 401)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(err))
    else:
        await websocket.close(code=1008, reason=err.message)


class _Connection:
    def __init__(self, websocket: WebSocket, state: EmulatorState, fault: Fault | None,
                 account: str) -> None:
        self.ws = websocket
        self.account = account  # whose cloned voices this connection may speak with
        self.state = state
        self.header_fault = fault
        self.task: _Task | None = None
        self._send_lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._dropped = False
        self._client_gone = False

    # ---- connection loop -------------------------------------------------------------------

    async def serve(self) -> None:
        stopping = asyncio.ensure_future(self._stop.wait())
        receiving: asyncio.Future[Any] | None = None
        try:
            while not self._stop.is_set():
                receiving = asyncio.ensure_future(self.ws.receive())
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    break
                message, receiving = receiving.result(), None
                if message["type"] == "websocket.disconnect":
                    self._client_gone = True
                    break
                if message.get("text") is not None:
                    await self._dispatch(message["text"])
        finally:
            for fut in (receiving, stopping):
                if fut is not None:
                    fut.cancel()
            await self._abort_task()
        if self._dropped:
            return  # no close frame: uvicorn closes the socket under the client
        if not self._client_gone:
            with contextlib.suppress(Exception):
                await self.ws.close(code=1000)

    async def _dispatch(self, text: str) -> None:
        try:
            command = json.loads(text)
            header = command["header"]
            action = header["action"]
            task_id = str(header.get("task_id") or "")
            payload = command.get("payload")
            if payload is not None and not isinstance(payload, dict):
                raise TypeError("payload must be an object")
        except (ValueError, KeyError, TypeError):
            # DashScope closes with 1007 (invalid frame payload data) on a malformed command.
            await self._abort_task()
            with contextlib.suppress(Exception):
                await self.ws.close(code=1007, reason="invalid command")
            self._client_gone = True  # already closed
            self._stop.set()
            return
        payload = payload or {}
        try:
            if action == "run-task":
                await self._run_task(task_id, payload)
            elif action == "continue-task":
                await self._continue_task(task_id, payload)
            elif action == "finish-task":
                await self._finish_task(task_id, payload)
            else:
                raise DashScopeError("InvalidParameter", f"unknown action {action!r}")
        except DashScopeError as err:
            await self._fail(task_id, err)
        except WebSocketDisconnect:
            # The client left while we answered (it cancels and closes at once): not a failure.
            self._client_gone = True
            self._stop.set()
        except Exception:  # a bug must still end the task the way DashScope would
            log.exception("CosyVoice %s failed", action)
            await self._fail(task_id, internal_error())

    # ---- actions ---------------------------------------------------------------------------

    async def _run_task(self, task_id: str, payload: dict[str, Any]) -> None:
        arrived = time.monotonic()
        await self._abort_task()  # a new run-task aborts the current one
        self.state.stats.incr("tts_ws_tasks")
        if not isinstance(payload.get("input"), dict):
            raise DashScopeError("InvalidParameter", "task can not be null")
        params = payload.get("parameters") or {}
        if not isinstance(params, dict):
            raise DashScopeError("InvalidParameter", "parameters must be an object")
        spec = parse_cosyvoice(self.state.voices, payload.get("model"), params,
                               clones=self.state.cloned_voices, account=self.account)
        fault = self.header_fault or self.state.faults.take(API, model=spec.model,
                                                             voice=spec.voice_id)
        await self._apply_fault_start(fault)
        encoder = make_stream_encoder(spec.fmt, spec.sample_rate, bit_rate_kbps=spec.bit_rate_kbps)
        task = _Task(task_id, spec, fault, encoder)
        await self._send_json(events.task_started(task_id))
        self.state.call_times.record(API, arrived, time.monotonic())
        task.runner = asyncio.create_task(self._run(task))
        self.task = task

    async def _continue_task(self, task_id: str, payload: dict[str, Any]) -> None:
        task = self._current(task_id)
        data = payload.get("input")
        if not isinstance(data, dict):
            raise DashScopeError("InvalidParameter", "task can not be null")
        if data.get("flush"):
            task.queue.put_nowait(_FLUSH)
            return
        text = data.get("text")
        if not isinstance(text, str):
            raise DashScopeError("InvalidParameter", 'Required parameter "text" missing from request.')
        check_text_length(text)
        if task.spec.ssml:
            task.texts += 1
            if task.texts > 1:
                raise DashScopeError("InvalidParameter", "Text request limit violated, expected 1.")
            text = strip_ssml(text)
        if task.first_text_at is None and text.strip():
            task.first_text_at = time.monotonic()
            self.state.stats.incr("tts_ws_syntheses")
        if task.fault is None:
            # Rules matching on text_contains can only be judged now.
            task.fault = self.state.faults.take(API, model=task.spec.model,
                                                voice=task.spec.voice_id, text=text)
            await self._apply_fault_start(task.fault)
        task.queue.put_nowait(text)

    async def _finish_task(self, task_id: str, payload: dict[str, Any]) -> None:
        task = self._current(task_id)
        data = payload.get("input") if isinstance(payload.get("input"), dict) else {}
        if data.get("directive") == "cancel":
            await self._abort_task()  # drop what is queued; report what was spoken
            await self._send_json(events.task_finished(task.task_id, task.characters))
            return
        task.queue.put_nowait(_FINISH)

    def _current(self, task_id: str) -> _Task:
        if self.task is None or (task_id and task_id != self.task.task_id):
            raise DashScopeError("InvalidParameter", f"task {task_id!r} is not running")
        return self.task

    async def _apply_fault_start(self, fault: Fault | None) -> None:
        if fault is None:
            return
        self.state.stats.incr("faults_applied")
        if fault.kind == "latency":
            await asyncio.sleep(fault.latency_s)
        elif fault.kind == "throttle":
            raise throttled()
        elif fault.kind == "error":
            raise internal_error()

    # ---- the task runner -------------------------------------------------------------------

    async def _run(self, task: _Task) -> None:
        try:
            while True:
                item = await task.queue.get()
                if item is _FLUSH or item is _FINISH:
                    sentences = task.buffer.flush()
                else:
                    sentences = task.buffer.push(item)
                for sentence in sentences:
                    await self._speak(task, sentence)
                if item is _FINISH:
                    tail = task.encoder.finish()
                    if tail:
                        await self._audio(task, tail, max(0, task.sentences - 1))
                    await self._send_json(events.task_finished(task.task_id, task.characters))
                    if self.task is task:
                        self.task = None
                    return
        except asyncio.CancelledError:
            raise
        except DashScopeError as err:
            await self._fail(task.task_id, err)
        except _Dropped:
            self._dropped = True
            self._stop.set()
        except Exception:  # the client went away mid-send, or the engine failed
            if not self._client_gone:
                log.warning("CosyVoice task %s failed", task.task_id, exc_info=True)
                await self._fail(task.task_id, internal_error())

    async def _speak(self, task: _Task, sentence: str) -> None:
        index = task.sentences
        task.sentences += 1
        tid = task.task_id
        await self._send_json(events.result_generated(tid, "sentence-begin", index,
                                                      original_text=sentence))
        spec = task.spec
        pcm = await self.state.runner.pcm(sentence, spec.voice, spec.sample_rate)
        chars = billable_characters(sentence)
        task.characters += chars
        self.state.stats.incr("characters", chars)
        # Frame by frame, as DashScope streams them, without holding the event loop: a codec
        # (lame, libsndfile; both release the GIL) encodes in a worker thread while this loop
        # serves whoever else runs on it (voicefn itself, under `voicefn serve`); raw PCM needs
        # no codec, and a yield between frames is enough.
        off_loop = spec.fmt not in _RAW_FORMATS
        for frame in pcm_frames(pcm, spec.sample_rate, self.state.config.frame_ms):
            if off_loop:
                data = await asyncio.to_thread(task.encoder.feed, frame)
            else:
                data = task.encoder.feed(frame)
            if data:
                await self._audio(task, data, index)
            if not off_loop:
                await asyncio.sleep(0)
        await self._send_json(events.result_generated(tid, "sentence-end", index,
                                                      original_text=sentence,
                                                      characters=task.characters))

    async def _audio(self, task: _Task, data: bytes, index: int) -> None:
        """One ``sentence-synthesis`` event and its ONE binary frame."""
        fault = task.fault
        if fault is not None and fault.kind == "slow_frames":
            await asyncio.sleep(fault.frame_delay_s)
        if fault is not None and fault.kind == "first_audio_latency" and task.frames == 0:
            since_text = time.monotonic() - (task.first_text_at or time.monotonic())
            await asyncio.sleep(max(0.0, fault.latency_s - since_text))
        async with self._send_lock:
            await self.ws.send_json(events.result_generated(task.task_id, "sentence-synthesis", index))
            await self.ws.send_bytes(data)
        task.frames += 1
        if task.frames == 1 and task.first_text_at is not None:
            self.state.call_times.record(API, task.first_text_at, time.monotonic())
        if fault is not None and task.frames == 1:
            if fault.kind == "drop":
                raise _Dropped()
            if fault.kind == "task_failed":
                raise algo_failure()

    # ---- plumbing --------------------------------------------------------------------------

    async def _send_json(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.ws.send_text(json.dumps(message, ensure_ascii=False))

    async def _fail(self, task_id: str, err: DashScopeError) -> None:
        """Send task-failed; DashScope then closes the connection."""
        await self._abort_task()
        with contextlib.suppress(Exception):
            await self._send_json(events.task_failed(task_id, err.code, err.message))
        self._stop.set()

    async def _abort_task(self) -> None:
        task, self.task = self.task, None
        runner = task.runner if task is not None else None
        if runner is None or runner is asyncio.current_task() or runner.done():
            return
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
