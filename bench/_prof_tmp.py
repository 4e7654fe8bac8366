"""Where a streamed synthesis spends its time inside the server (not a ratio: a profile).

`voicefn serve`'s app (deterministic engine, embedded DashScope) runs on this process's main
thread; a client thread sends ``ROUNDS`` streamed requests (unique text, so the cache never
answers) after a warm-up. Only the server's thread is profiled: pyinstrument when installed
(``pip install pyinstrument``), else cProfile. The top items are what issue 13's closing note
compares before and after. ``python bench/profile_stream.py [rounds] [long]``: with ``long``,
each request is the long-synthesis benchmark's ``synthesize-long`` instead (20 segments); with
``apart``, DashScope is an emulator on another thread (not profiled), as it is apart in the cloud.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import os
import pstats
import sys
import tempfile
import threading
import time
import uuid

import httpx

from _harness import BENCH_JWT_SECRET, auth_headers, free_port, median_ms

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
LONG = "long" in sys.argv[2:]
APART = "apart" in sys.argv[2:]  # the emulator on its own thread and loop: only voicefn is profiled
WARM = 1 if LONG else 5
TEXT = "你好，这是首字节延迟的测试。"


def client(base: str, ready: threading.Event, warm_done: threading.Event, done: threading.Event,
           firsts: list[float]) -> None:
    ready.wait()
    with httpx.Client(base_url=base, headers=auth_headers(), timeout=300) as http:
        for i in range(ROUNDS + WARM):
            if i == WARM:
                warm_done.set()
                time.sleep(0.2)  # the profiler starts
            start = time.perf_counter()
            if LONG:
                from long_concurrency import long_text

                http.post("/api/audio/tts/synthesize-long", json={
                    "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": long_text(), "format": "pcm",
                    "sample_rate": 8000, "speech_rate": 2.0}).raise_for_status()
                firsts.append(time.perf_counter() - start)
                continue
            first = None
            with http.stream("POST", "/api/audio/tts/synthesize", json={
                    "model": "cosyvoice-v3-flash", "voice": "longanyang",
                    "text": f"{TEXT}{uuid.uuid4().hex[:6]}", "stream": True}) as response:
                response.raise_for_status()
                for _ in response.iter_raw():
                    first = first or time.perf_counter() - start
            if i >= WARM and first is not None:
                firsts.append(first)
    done.set()


async def serve(port: int, ready: threading.Event, warm_done: threading.Event, done: threading.Event) -> str:
    import uvicorn

    from voicefn.services import Services, set_services
    from voicefn_local.manifest import load_manifest
    from voicefn_local.runtime import build_local_app, local_settings

    os.environ["VOICEFN_JWT_SECRET"] = BENCH_JWT_SECRET
    os.environ["VOICEFN_TTS_LONG_CONCURRENCY"] = "4"
    os.environ["VOICEFN_RATE_LIMITS"] = "tts=100000/100000"  # checked, never refusing (as in _harness)
    if APART:
        from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
        from voicefn_local.servers import run_in_thread

        emulator = run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic")))
        os.environ.update({"DASHSCOPE_API_KEY": "sk-bench", "VOICEFN_PLATFORM_KEY_USERS": "*",
                           "DASHSCOPE_HTTP_BASE_URL": f"{emulator.base_url}/api/v1",
                           "DASHSCOPE_WEBSOCKET_BASE_URL": f"{emulator.ws_base_url}/api-ws/v1/inference"})
    logging.disable(logging.INFO)  # no access lines in the profile's output
    settings = local_settings("127.0.0.1", port, tempfile.mkdtemp(prefix="voicefn-prof-"), "deterministic")
    services = Services(settings)
    set_services(services)
    app = build_local_app(load_manifest(None), services=services)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ws="websockets-sansio",
                                           lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    ready.set()
    while not warm_done.is_set():
        await asyncio.sleep(0.01)
    report = await profiled(done)
    server.should_exit = True
    await task
    return report


async def profiled(done: threading.Event) -> str:
    try:
        raise ImportError
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
        while not done.is_set():
            await asyncio.sleep(0.005)
        profiler.stop()
        return profiler.output_text(unicode=True, color=False, show_all=False)
    prof = cProfile.Profile()
    prof.enable()
    while not done.is_set():
        await asyncio.sleep(0.005)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(70)
    return out.getvalue()


def main() -> None:
    ready, warm_done, done = threading.Event(), threading.Event(), threading.Event()
    firsts: list[float] = []
    port = free_port()
    thread = threading.Thread(target=client, args=(f"http://127.0.0.1:{port}", ready, warm_done, done, firsts),
                              daemon=True)
    thread.start()
    report = asyncio.run(serve(port, ready, warm_done, done))
    thread.join()
    print(report)
    what = "whole long synthesis" if LONG else "first byte through voicefn"
    print(f"{what} (profiled, so slower): median {median_ms(firsts):.1f} ms, n={len(firsts)}")


if __name__ == "__main__":
    main()
