"""From `make serve` to the first synthesized sentence playing in the playground (issue 11).

A headless Debian chromium is open already (as a user's browser would be); the clock starts when
`make serve` is started and stops when the page's <audio> element is playing the streamed reply
to one click on Synthesize (after one click on "use a local dev token"). A second, warm click is
timed alongside for the ratio. Usage: `python bench/playground_first_sound.py [screenshot.png]`
(the screenshot is the README's).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PORT = 8799


def wait_up(base: str, proc: "subprocess.Popen[bytes]") -> None:
    while True:
        if proc.poll() is not None:
            raise SystemExit("make serve exited")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)


def click_until_playing(page) -> float:
    started = time.monotonic()
    page.click("#tts-go")
    try:
        page.wait_for_selector("#tts-audio[data-first-audio-ms]", state="attached", timeout=120000)
    except Exception:
        raise SystemExit(f"no audio: {page.inner_text('#tts-status')!r}") from None
    while page.eval_on_selector("#tts-audio", "a => a.currentTime") <= 0:
        page.wait_for_timeout(10)
    playing = time.monotonic() - started
    expect(page.locator("#tts-meta")).to_contain_text("complete", timeout=60000)
    return playing


def main(screenshot: str | None) -> None:
    data = tempfile.mkdtemp(prefix="voicefn-bench-playground-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICEFN_", "DASHSCOPE_"))}
    env["VOICEFN_DATA_DIR"] = data
    base = f"http://127.0.0.1:{PORT}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1000, "height": 820})
        t0 = time.monotonic()
        proc = subprocess.Popen(["make", "serve", f"PORT={PORT}"], cwd=ROOT, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_up(base, proc)
            up = time.monotonic() - t0
            page.goto(f"{base}/")
            expect(page.locator("body")).to_have_attribute("data-ready", "true")
            page.click("#dev-token")
            page.wait_for_selector("#who-user")
            cold = click_until_playing(page)
            total = time.monotonic() - t0
            page.wait_for_timeout(300)
            warm = click_until_playing(page)
            print(f"make serve → /health answers: {up:.2f} s")
            print(f"make serve → first sentence playing in the page: {total:.2f} s")
            print(f"click → playing: first (cold function) {cold:.2f} s, second {warm:.2f} s "
                  f"(ratio {cold / warm:.1f}x)")
            if screenshot:
                page.screenshot(path=screenshot, full_page=True)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
            browser.close()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
