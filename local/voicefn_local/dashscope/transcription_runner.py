"""Works off transcription tasks in the background: PENDING -> RUNNING -> SUCCEEDED / FAILED.

At most ``config.max_running_tasks`` run at once; the others wait PENDING (and can be
canceled). A task fetches each file, decodes it, transcribes it and stores the result JSON. Its
record is saved at every change of status, so after a restart :meth:`startup` takes up every
task that was PENDING or RUNNING again, from the start (at least once; the results are simply
written again).

Faults taken at submission act here: ``latency`` keeps the task RUNNING that much longer before
it works, ``stuck`` keeps it RUNNING until the emulator stops, ``task_failed`` ends it FAILED.
They are not persisted: a task taken up again after a restart runs normally.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING

from voicefn.billing import billable_seconds

from voicefn_local.dashscope.asr_audio import (AudioFetchFailed, AudioTooLarge, InvalidAudio,
                                               decode_audio, fetch_url)
from voicefn_local.dashscope.faults import Fault
from voicefn_local.dashscope.task_store import (FAILED, PENDING, RUNNING, SUCCEEDED, CANCELED,
                                                FileOutcome, TaskRecord)
from voicefn_local.dashscope.transcription_results import (filetrans_document,
                                                           paraformer_document)

if TYPE_CHECKING:
    from voicefn_local.dashscope.asr_service import AsrService

log = logging.getLogger("voicefn.dashscope.tasks")

MAX_FILE_SECONDS = 12 * 3600   # DashScope's limit for a transcription file


class FileFailed(Exception):
    """One file could not be transcribed; ``code`` is what DashScope reports for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _fetch_failure(exc: AudioFetchFailed) -> FileFailed:
    code = {403: "FILE_403_FORBIDDEN", 404: "FILE_404_NOT_FOUND"}.get(exc.status or 0,
                                                                    "FILE_DOWNLOAD_FAILED")
    return FileFailed(code, str(exc))


class TranscriptionRunner:
    def __init__(self, service: "AsrService") -> None:
        self._service = service
        self._store = service.tasks
        self._config = service.config
        self._running: dict[str, asyncio.Task[None]] = {}
        self._faults: dict[str, Fault] = {}
        self._slots = asyncio.Semaphore(max(1, self._config.max_running_tasks))
        self._started = False

    # ---- lifecycle ---------------------------------------------------------------------------

    async def startup(self) -> None:
        """Forget expired tasks and take up the unfinished ones (once; later calls do nothing)."""
        if self._started:
            return
        self._started = True
        await asyncio.to_thread(self._store.prune, time.time() - self._config.task_ttl_s)
        for record in sorted(self._store.all(), key=lambda r: r.submit_time):
            if record.status in (PENDING, RUNNING) and record.task_id not in self._running:
                log.info("resuming transcription task %s (%s)", record.task_id, record.status)
                record.status, record.scheduled_time = PENDING, None
                self._store.put(record)
                self._spawn(record.task_id)

    async def shutdown(self) -> None:
        """Stop every task (their records stay as they are, to be taken up on the next start)."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- API -----------------------------------------------------------------------------------

    async def submit(self, record: TaskRecord, fault: Fault | None) -> None:
        await self.startup()
        self._store.put(record)
        if fault is not None:
            self._faults[record.task_id] = fault
        self._spawn(record.task_id)

    def cancel(self, task_id: str) -> bool:
        """Cancel a PENDING task; False if it is in any other state."""
        record = self._store.get(task_id)
        if record is None or record.status != PENDING:
            return False
        record.status, record.end_time = CANCELED, time.time()
        self._store.put(record)
        task = self._running.get(task_id)
        if task is not None:
            task.cancel()
        self._faults.pop(task_id, None)
        return True

    # ---- work ----------------------------------------------------------------------------------

    def _spawn(self, task_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._run(task_id),
                                                      name=f"transcription-{task_id}")
        self._running[task_id] = task
        task.add_done_callback(lambda _: self._running.pop(task_id, None))

    async def _run(self, task_id: str) -> None:
        async with self._slots:
            record = self._store.get(task_id)
            if record is None or record.status != PENDING:
                return  # canceled while waiting
            fault = self._faults.pop(task_id, None)
            record.status, record.scheduled_time = RUNNING, time.time()
            self._store.put(record)
            try:
                await self._work(record, fault)
            except asyncio.CancelledError:
                raise  # the emulator is stopping: the record stays RUNNING, resumed on restart
            except Exception as exc:  # a bug, not bad input: fail the task, keep the emulator
                log.exception("transcription task %s crashed", task_id)
                record.status, record.code = FAILED, "InternalError"
                record.message = f"An internal error has occured: {type(exc).__name__}"
            record.end_time = time.time()
            self._store.put(record)
            if record.status == SUCCEEDED:
                self._service.stats.incr("asr_seconds", record.seconds)

    async def _work(self, record: TaskRecord, fault: Fault | None) -> None:
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.latency_s)
        if fault is not None and fault.kind == "stuck":
            await asyncio.Event().wait()  # until the emulator stops
        if fault is not None and fault.kind == "task_failed":
            record.status, record.code = FAILED, "InternalError.Algo"
            record.message = "[asr] the recognition engine failed (injected task_failed fault)"
            return
        for outcome in record.files:
            if outcome.status == SUCCEEDED:
                continue  # done before a restart
            try:
                await self._transcribe_file(record, outcome)
            except FileFailed as failure:
                outcome.status, outcome.code, outcome.message = (FAILED, failure.code,
                                                                 failure.message)
            self._store.put(record)
        succeeded = [f for f in record.files if f.status == SUCCEEDED]
        if succeeded:
            record.status = SUCCEEDED
        else:
            first = record.files[0]
            record.status, record.code, record.message = FAILED, first.code, first.message

    async def _transcribe_file(self, record: TaskRecord, outcome: FileOutcome) -> None:
        config = self._config
        try:
            data = await fetch_url(outcome.file_url, max_bytes=config.max_transcription_file_bytes,
                                   timeout_s=config.fetch_timeout_s, allowed=config.fetch_only)
            audio = await decode_audio(data)
        except AudioTooLarge as exc:
            raise FileFailed("FILE_TOO_LARGE", str(exc)) from None
        except AudioFetchFailed as exc:
            raise _fetch_failure(exc) from None
        except InvalidAudio as exc:
            raise FileFailed("FILE_PARSE_FAILED", f"the file is not audio we can decode: {exc}") \
                from None
        if audio.seconds > MAX_FILE_SECONDS:
            raise FileFailed("AUDIO_DURATION_TOO_LONG",
                             f"the audio lasts {audio.seconds:.0f} s; the limit is 12 hours")
        params = record.parameters
        # The layer's decoder mixes channels down, so only channel 0 (the mix) is transcribed.
        heard = []
        if 0 in params.get("channel_id", [0]):
            heard.append((0, await self._service.transcribe(audio, params.get("language"))))
        if record.kind == "filetrans":
            document = filetrans_document(outcome.file_url, audio, heard,
                                          enable_words=bool(params.get("enable_words")))
        else:
            document = paraformer_document(outcome.file_url, audio, heard)
        name = f"{uuid.uuid4().hex}.json"
        body = json.dumps(document, ensure_ascii=False).encode()
        await asyncio.to_thread(self._store.put_result, name, body)
        outcome.status, outcome.result_name = SUCCEEDED, name
        outcome.seconds = billable_seconds(audio.seconds) * len(heard)
