"""When the emulator was busy answering, for benchmarks: ``GET /_admin/call-times``.

A remote DashScope spends its own time (fetching and decoding the audio, the engines, the
injected waits) on its side; the embedded one spends it in voicefn's process. To tell voicefn's
own share of a turn from the upstream's, each API records the intervals it was working on an
answer, as ``time.monotonic()`` readings (CLOCK_MONOTONIC: one clock for every process on the
machine, so a benchmark client can lay them on its own timeline):

- ``asr_sync``: the request's arrival → its response;
- ``chat``: the generation's start → each token handed to the response (``marks``);
- ``tts_ws``: run-task → task-started, and the task's first text → its first audio frame
  (between the two the emulator waits for the client, which is not its time).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

LOG_SIZE = 1000
MAX_MARKS = 64  # token times kept per generation (the first clause needs only the first few)


class CallTimes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)

    def record(self, api: str, start: float, end: float, marks: list[float] | None = None) -> None:
        entry: dict[str, Any] = {"api": api, "start": start, "end": end}
        if marks is not None:
            entry["marks"] = marks[:MAX_MARKS]
        with self._lock:
            self._calls.append(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


now = time.monotonic
