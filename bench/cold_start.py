"""Cold start of the tts function's /health versus a process that eagerly imports the SDKs.

Each sample is a new process, timed from spawn to the first 200 on /health over HTTP:
- voicefn: the tts web function as FC starts it (`python -m voicefn.web.server
  voicefn_tts.app:create_app` on FC_CUSTOM_LISTEN_PORT), which imports SDKs lazily;
- eager: the same server in a process that first imports dashscope, oss2, tablestore and
  fastapi, as a function that imports everything at module level would.
Variants alternate. Goal: voicefn at most 40 % of eager.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from _harness import ROOT, free_port, summary, wait_healthy

ROUNDS = 12
SERVE = "from voicefn.web.server import serve; serve('voicefn_tts.app:create_app')"
EAGER = "import dashscope, oss2, tablestore, fastapi; " + SERVE


def cold_once(code: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEFN_", "DASHSCOPE_"))}
    env.update({"FC_CUSTOM_LISTEN_PORT": str(port), "VOICEFN_RUNTIME": "local",
                "VOICEFN_JWT_SECRET": "cold-start-bench"})
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return wait_healthy(f"http://127.0.0.1:{port}/health", interval_s=0.005) - start
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ours, eager = [], []
    cold_once(SERVE), cold_once(EAGER)  # warm the OS page cache for both
    for i in range(ROUNDS):
        for code, samples in ([(SERVE, ours), (EAGER, eager)] if i % 2 == 0 else [(EAGER, eager), (SERVE, ours)]):
            samples.append(cold_once(code))
    print(summary("tts /health, lazy imports", ours))
    print(summary("eager dashscope+oss2+...", eager))
    print(f"ratio of medians             {statistics.median(ours) / statistics.median(eager):.0%}   goal <= 40 %")


if __name__ == "__main__":
    main()
