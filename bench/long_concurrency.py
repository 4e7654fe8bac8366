"""synthesize-long of 20 segments at a fixed upstream latency: concurrency 4 versus one by one.

Two `voicefn serve` processes differ only in VOICEFN_TTS_LONG_CONCURRENCY (1 and 4); the
DashScope emulator adds the same fixed latency to every synthesis (a fault rule), and runs
alternate between them. Each run has unique text, so the TTS cache never answers. Measured twice:
- upstream apart: both servers call one emulator in this process (as DashScope is apart from an FC
  instance), so the speed-up measures voicefn's own work per segment;
- upstream inside: each server's embedded DashScope (`voicefn serve` as is), whose CPU shares the
  server's event loop: four segments at once also synthesize at a quarter speed each.
Goal (issue 13): at least 3.6x faster at concurrency 4 (0.9 x the concurrency).
"""

from __future__ import annotations

import statistics
import time
import uuid

import httpx

from _harness import admin_headers, auth_headers, local_server, summary

LATENCY_MS = 1000  # DashScope takes seconds for a 600-character segment; 1 s is conservative
SEGMENTS = 12  # the text's size in 600-character units; billed (CJK = 2) it packs into 20 segments
ROUNDS = 3
SENTENCE = "这是长文本合成基准测试中的一个句子，它会被切分成多个片段。"  # 30 characters


def long_text() -> str:
    # 12 segments of 600 characters: 20 sentences per segment
    tag = uuid.uuid4().hex[:8]
    return "".join(f"{tag}{SENTENCE}" for _ in range(SEGMENTS * 15))


def run_once(base: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = httpx.post(f"{base}/api/audio/tts/synthesize-long", headers=auth_headers(), timeout=300,
                          json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": long_text(),
                                "format": "pcm", "sample_rate": 8000, "speech_rate": 2.0})
    response.raise_for_status()
    return time.perf_counter() - start, response.json()["data"]["segments"]


def compare(serial: str, parallel: str, label: str) -> float:
    one, four, segments = [], [], set()
    for i in range(ROUNDS):
        order = [(serial, one), (parallel, four)] if i % 2 == 0 else [(parallel, four), (serial, one)]
        for base, samples in order:
            seconds, n = run_once(base)
            samples.append(seconds)
            segments.add(n)
    print(f"{label}: segments per request {sorted(segments)}, upstream latency {LATENCY_MS} ms per segment")
    print(summary("  one by one (concurrency 1)", one))
    print(summary("  concurrency 4", four))
    ratio = statistics.median(one) / statistics.median(four)
    print(f"  speed-up (ratio of medians)  {ratio:.2f}x   goal >= 3.6x")
    return ratio


def main() -> None:
    from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
    from voicefn_local.servers import run_in_thread

    fault = [{"match": {"api": "tts_ws"}, "fault": {"kind": "latency", "latency_ms": LATENCY_MS}}]
    config = EmulatorConfig(engine="deterministic", faults=fault)
    with run_in_thread(create_dashscope_app(config)) as dashscope:
        apart = {"DASHSCOPE_API_KEY": "sk-bench", "VOICEFN_PLATFORM_KEY_USERS": "*",
                 "DASHSCOPE_HTTP_BASE_URL": f"{dashscope.base_url}/api/v1",
                 "DASHSCOPE_WEBSOCKET_BASE_URL": f"{dashscope.ws_base_url}/api-ws/v1/inference"}
        with local_server(env={**apart, "VOICEFN_TTS_LONG_CONCURRENCY": "1"}) as serial, \
                local_server(env={**apart, "VOICEFN_TTS_LONG_CONCURRENCY": "4"}) as parallel:
            compare(serial, parallel, "upstream apart (one emulator in the benchmark's process)")
    with local_server(env={"VOICEFN_TTS_LONG_CONCURRENCY": "1"}) as serial, \
            local_server(env={"VOICEFN_TTS_LONG_CONCURRENCY": "4"}) as parallel:
        for base in (serial, parallel):
            httpx.post(f"{base}/dashscope/_admin/faults", json=fault, headers=admin_headers(base)).raise_for_status()
        compare(serial, parallel, "upstream inside (each server's embedded DashScope)")


if __name__ == "__main__":
    main()
