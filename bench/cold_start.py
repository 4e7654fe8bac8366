"""Cold start of the tts function versus a process that eagerly imports the SDKs.

Each sample is a new process, timed from spawn to
- its first 200 on /health over HTTP, and
- the end of its first real request: a synthesis (`POST /api/audio/tts/synthesize`, stream false,
  on the embedded DashScope's deterministic engine, new text every time so the TTS cache never
  answers), sent as soon as /health answered. This is what a user's first call to a cold
  instance waits for: the imports a route needs, the first DashScope connection, storing the audio
  and the history record.
Variants:
- voicefn: the tts web function as FC starts it (`python -m voicefn.web.server
  voicefn_tts.app:create_app` on FC_CUSTOM_LISTEN_PORT, with s.yaml's VOICEFN_HEALTH_FIRST=1):
  it listens at once, answers /health while FastAPI and the routes load in a worker thread,
  and imports SDKs lazily;
- eager: the same server in a process that first imports dashscope, oss2, tablestore and
  fastapi and builds the app before it listens, as a function that imports everything at
  module level would.
DashScope is one emulator in this process, shared by every sample (in the cloud it is not part of
the instance either). Variants alternate. Goals (issue 13): voicefn at most 30 % of eager for
/health, at most 50 % for the first synthesis.
"""

from __future__ import annotations

import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from _harness import BENCH_JWT_SECRET, ROOT, auth_headers, free_port, summary, wait_healthy

ROUNDS = 12
# as s.yaml starts the tts function (VOICEFN_HEALTH_FIRST=1); the eager variant builds the app
# before it listens, as a function that imports everything at module level would
SERVE = "from voicefn.web.server import serve; serve('voicefn_tts.app:create_app')"
EAGER = ("import dashscope, oss2, tablestore, fastapi; "
         "from voicefn.web.server import serve; serve('voicefn_tts.app:create_app', health_first=False)")
_texts = itertools.count()


def cold_once(code: str, dashscope_base: str, data_dir: str) -> tuple[float, float]:
    """(seconds to the first /health 200, seconds to the end of the first synthesis)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEFN_", "DASHSCOPE_"))}
    ws_base = dashscope_base.replace("http://", "ws://", 1)
    env.update({"FC_CUSTOM_LISTEN_PORT": str(port), "VOICEFN_RUNTIME": "local",
                "VOICEFN_JWT_SECRET": BENCH_JWT_SECRET, "VOICEFN_DATA_DIR": data_dir,
                "VOICEFN_HEALTH_FIRST": "1",
                "VOICEFN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "DASHSCOPE_API_KEY": "sk-bench", "VOICEFN_PLATFORM_KEY_USERS": "*",
                "DASHSCOPE_HTTP_BASE_URL": f"{dashscope_base}/api/v1",
                "DASHSCOPE_WEBSOCKET_BASE_URL": f"{ws_base}/api-ws/v1/inference"})
    body = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "format": "mp3",
            "text": f"冷启动之后的第一次合成，第{next(_texts)}次。"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        healthy = wait_healthy(f"http://127.0.0.1:{port}/health", interval_s=0.005) - start
        response = httpx.post(f"http://127.0.0.1:{port}/api/audio/tts/synthesize", json=body,
                              headers=auth_headers("cold-start"), timeout=60)
        synthesized = time.perf_counter() - start
        data = response.json().get("data") or {}
        if response.status_code != 200 or not data.get("audio_url"):
            raise RuntimeError(f"first synthesis failed: {response.status_code} {response.text[:300]}")
        return healthy, synthesized
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
    from voicefn_local.servers import run_in_thread

    ours: tuple[list[float], list[float]] = ([], [])
    eager: tuple[list[float], list[float]] = ([], [])
    with tempfile.TemporaryDirectory(prefix="voicefn-cold-") as data_dir, \
            run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic"))) as dashscope:
        cold_once(SERVE, dashscope.base_url, data_dir), cold_once(EAGER, dashscope.base_url, data_dir)  # warm caches
        for i in range(ROUNDS):
            order = [(SERVE, ours), (EAGER, eager)] if i % 2 == 0 else [(EAGER, eager), (SERVE, ours)]
            for code, (health, synth) in order:
                h, s = cold_once(code, dashscope.base_url, data_dir)
                health.append(h)
                synth.append(s)
    print(summary("tts /health, lazy imports", ours[0]))
    print(summary("eager dashscope+oss2+...", eager[0]))
    print(f"ratio of medians /health     {statistics.median(ours[0]) / statistics.median(eager[0]):.0%}"
          "   goal <= 30 %")
    print(summary("first synthesis, lazy", ours[1]))
    print(summary("first synthesis, eager", eager[1]))
    print(f"ratio of medians synthesis   {statistics.median(ours[1]) / statistics.median(eager[1]):.0%}"
          "   goal <= 50 %")


if __name__ == "__main__":
    main()
