"""What every benchmark needs: servers in their own processes, and honest statistics.

Benchmarks run side by side in one run (this machine is shared and noisy), so every script
interleaves the variants it compares and reports a ratio of medians.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_JWT_SECRET = "bench-secret-not-for-production-use-32b"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 60.0, interval_s: float = 0.05) -> float:
    """Poll ``url`` until it answers 200; return when it did (perf_counter)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter()
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)
    raise TimeoutError(f"{url} did not become healthy")


@contextmanager
def local_server(engine: str = "deterministic", env: dict[str, str] | None = None) -> Iterator[str]:
    """`voicefn serve` in a subprocess with its own data dir; yields its base URL."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="voicefn-bench-")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEFN_", "DASHSCOPE_"))}
    child_env["VOICEFN_JWT_SECRET"] = BENCH_JWT_SECRET
    # the limits are checked on every request, as in production, but never refuse one: a benchmark
    # sends more than a user's 60 a minute (limits_e2e.py sets its own)
    child_env["VOICEFN_RATE_LIMITS"] = "tts=100000/100000,asr=100000/100000,voice=100000/100000,chat=100000/100000"
    child_env.update(env or {})
    cmd = [sys.executable, "-m", "voicefn_local.cli", "serve", "--port", str(port), "--data-dir", data_dir,
           "--engine", engine]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    _DATA_DIRS[base] = data_dir
    try:
        wait_healthy(f"{base}/health")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


_DATA_DIRS: dict[str, str] = {}


def admin_headers(base: str) -> dict[str, str]:
    """The admin token of a `local_server` (its embedded DashScope's /_admin routes need it)."""
    from voicefn_local.dashscope.admin_token import admin_headers as headers, load_admin_token

    return headers(load_admin_token(os.path.join(_DATA_DIRS[base], "dashscope")))


def auth_headers(user: str = "bench") -> dict[str, str]:
    from voicefn.auth.jwt import issue_token

    return {"Authorization": f"Bearer {issue_token(user, BENCH_JWT_SECRET)}"}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def summary(name: str, samples: list[float]) -> str:
    """Median with p10/p90 (min/max when there are too few samples for deciles)."""
    if len(samples) >= 10:
        qs = statistics.quantiles(samples, n=10)
        low, high, labels = qs[0], qs[-1], ("p10", "p90")
    else:
        low, high, labels = min(samples), max(samples), ("min", "max")
    return (f"{name:<28} median {median_ms(samples):8.1f} ms   {labels[0]} {low * 1000:8.1f}   "
            f"{labels[1]} {high * 1000:8.1f}   n={len(samples)}")
