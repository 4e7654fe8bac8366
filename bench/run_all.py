"""Run every benchmark; each prints ratios measured side by side in one run."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# asr_wer last: it exits 1 when its goal is missed
SCRIPTS = ("ttfb_stream.py", "long_concurrency.py", "cold_start.py", "chat_first_audio.py",
           "realtime_v2v.py", "asr_wer.py")

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    for name in SCRIPTS:
        print(f"\n== {name} ==", flush=True)
        runpy.run_path(str(HERE / name), run_name="__main__")
