"""A cached streaming TTS request with the per-user limits on (defaults) and off, side by side.

Two ``voicefn serve`` processes, one with the default limits and caps, one with
``VOICEFN_RATE_LIMITS`` all 0 and both caps 0; requests alternate between them, each a stream
served from the cache (so the difference is voicefn's own work: the rate check and spend hold
before the first byte, the settle after). Reports medians of time to the whole answer.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import httpx
from _harness import auth_headers, local_server, median_ms, summary

ROUNDS = 300
OFF = {"VOICEFN_RATE_LIMITS": "tts=0,asr=0,voice=0,chat=0", "VOICEFN_SPEND_CAP_DAILY": "0",
       "VOICEFN_SPEND_CAP_MONTHLY": "0"}
ON = {"VOICEFN_RATE_LIMITS": "tts=100000/100000"}  # limits checked, never refusing during the run
BODY = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "缓存命中的流式合成。", "stream": True,
        "format": "pcm"}


def one(client: httpx.Client) -> float:
    start = time.perf_counter()
    with client.stream("POST", "/api/audio/tts/synthesize", json=BODY) as response:
        for _ in response.iter_bytes():
            pass
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - start


def main() -> None:
    with ExitStack() as stack:
        bases = {name: stack.enter_context(local_server(env=env)) for name, env in (("on", ON), ("off", OFF))}
        clients = {name: stack.enter_context(httpx.Client(base_url=base, headers=auth_headers(), timeout=30))
                   for name, base in bases.items()}
        for client in clients.values():
            one(client)  # fills each server's cache
            for _ in range(20):
                one(client)
        samples: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(ROUNDS):
            for name, client in clients.items():
                samples[name].append(one(client))
    for name, values in samples.items():
        print(summary(f"limits {name}", values))
    print(f"limits on - off: {median_ms(samples['on']) - median_ms(samples['off']):+.3f} ms (median)")


if __name__ == "__main__":
    main()
