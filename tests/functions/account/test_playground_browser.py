"""The playground in a real browser (issue 11): Debian's chromium driven by Playwright, against a real
`voicefn serve` process with the real engines (espeak-ng speech, Whisper tiny.en recognition).

Chromium's fake media devices play a WAV of English speech (made here by the embedded TTS) as the
microphone, so the page really records. One browser and one server for the module (CPU is shared).
The page's Content-Security-Policy stays on: everything it does must work under it.
"""

from __future__ import annotations

import math
import re
import shutil
import warnings
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stack import ServeProcess, admin_headers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extras)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed: `make install` installs "
                       "Debian's chromium when run as root (apt-get); without it the playground's browser tests "
                       "cannot run"),
]
expect = playwright_api.expect
SPOKEN = "Please call me tomorrow morning at the office."
# only this machine's loopback resolves: the page must work with what the server sends
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--disable-background-networking"]


def speech_wav(path: Path) -> Path:
    from voicefn_local.engines import get_engine

    pcm = get_engine("espeak").synthesize(SPOKEN, language="en", gender="female", sample_rate=16000)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm)
    return path


class PlaygroundServer(ServeProcess):
    """`voicefn serve` with real speech and recognition, and the emulator's scripted LLM (the test
    sets its replies and pace; SmolLM2 would answer at its own length)."""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "VOICEFN_FAKE_LLM_ENGINE": "scripted"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    served = PlaygroundServer(tmp_path_factory.mktemp("playground"), engine="espeak").start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    microphone = speech_wav(tmp_path_factory.mktemp("mic") / "speech.wav")
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}%noloop", *NO_NETWORK])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: ServeProcess) -> Iterator[Any]:
    context = browser.new_context(permissions=["microphone"], viewport={"width": 1000, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(f"{server.base_url}/")
    expect(opened.locator("body")).to_have_attribute("data-ready", "true")
    try:
        yield opened
    finally:
        context.close()
    assert not errors, errors  # no uncaught script error, ever


def sign_in(page: Any) -> None:
    page.click("#dev-token")
    expect(page.locator("#who-user")).to_have_text("demo")


def audio_duration(page: Any, selector: str) -> float:
    page.wait_for_selector(selector)
    for _ in range(100):
        duration = page.eval_on_selector(selector, "a => a.duration")
        if duration and math.isfinite(duration):  # NaN until its metadata is in, inf while streaming
            return float(duration)
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} has no duration")


def test_first_load_offers_sign_in_and_a_local_dev_token(page: Any) -> None:
    expect(page.locator("#who")).to_have_text("Not signed in")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#dev-token")).to_be_visible()  # voicefn serve answers /_local/mode
    expect(page.locator("#tts-model option")).to_have_count(3)  # the public catalog, before sign-in
    sign_in(page)
    expect(page.locator("#signin")).to_be_hidden()
    page.click("#sign-out")
    expect(page.locator("#who")).to_have_text("Not signed in")


def test_a_pasted_token_signs_in_and_a_bad_one_shows_the_api_message(page: Any, server: ServeProcess) -> None:
    page.fill("#token-input", "not-a-jwt")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-status")).to_have_attribute("data-kind", "error")
    expect(page.locator("#signin-status")).to_contain_text("Token refused")
    page.fill("#token-input", server.token("pasted-user"))
    page.press("#token-input", "Enter")  # the keyboard submits
    expect(page.locator("#who-user")).to_have_text("pasted-user")


def test_streamed_speech_plays_and_has_a_plausible_duration(page: Any, server: ServeProcess) -> None:
    sign_in(page)
    page.fill("#tts-text", "Hello, and welcome to the voice service. The weather is nice today.")
    page.click("#tts-go")
    try:
        expect(page.locator("#tts-meta")).to_contain_text("complete after", timeout=30000)
    except AssertionError:
        # Seen twice in full-suite runs (never alone): the page stayed at "first audio after
        # 0.3 s". Not understood yet, so it is reported (a warning in every run's summary, with
        # what the page and the server said) and tried once more; a second miss fails the test.
        warnings.warn(f"streamed speech did not complete in 30 s; page status "
                      f"{page.locator('#tts-status').text_content()!r}, meta "
                      f"{page.locator('#tts-meta').text_content()!r}; server log:\n{server.log_tail()}",
                      stacklevel=1)
        if page.locator("#tts-stop").is_visible():
            page.click("#tts-stop")
        expect(page.locator("#tts-go")).to_be_enabled(timeout=10000)
        page.click("#tts-go")
        try:
            expect(page.locator("#tts-meta")).to_contain_text("complete after", timeout=60000)
        except AssertionError as failed:  # say what the page and the server said
            raise AssertionError(f"{failed}\npage status: {page.locator('#tts-status').text_content()!r}\n"
                                 f"server log:\n{server.log_tail()}") from None
    assert 2.0 < audio_duration(page, "#tts-audio") < 10.0
    first_ms = int(page.get_attribute("#tts-audio", "data-first-audio-ms"))
    assert 0 < first_ms < 30000
    expect(page.locator("#tts-download")).to_be_visible()
    assert page.get_attribute("#tts-download", "href").startswith("blob:")


@pytest.mark.parametrize("fmt", ["wav", "pcm"])
def test_pcm_and_wav_stream_through_web_audio_into_a_playable_clip(page: Any, fmt: str) -> None:
    sign_in(page)
    page.fill("#tts-text", "Good morning. This is a short test.")
    page.select_option("#tts-format", fmt)
    page.select_option("#tts-rate", "16000")
    page.click("#tts-go")
    expect(page.locator("#tts-meta")).to_contain_text("complete after", timeout=60000)
    assert 1.0 < audio_duration(page, "#tts-audio") < 8.0
    assert page.get_attribute("#tts-download", "download") == "speech.wav"


def test_stored_speech_with_parameters_and_an_error_from_the_api(page: Any) -> None:
    sign_in(page)
    page.uncheck("#tts-stream")
    page.fill("#tts-text", "Slow and loud.")
    page.select_option("#tts-format", "wav")
    for slider, value in (("#tts-speech-rate", "0.5"), ("#tts-volume", "90")):
        page.eval_on_selector(slider, "(e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }", value)
    expect(page.locator("output[for=tts-volume]")).to_have_text("90")
    page.click("#tts-go")
    expect(page.locator("#tts-meta")).to_contain_text("bill ¥", timeout=60000)
    assert 1.0 < audio_duration(page, "#tts-audio") < 10.0
    src = page.get_attribute("#tts-audio", "src")
    assert "/_objects/" in src and httpx.get(src, timeout=30).content[:4] == b"RIFF"
    page.fill("#tts-text", "")
    page.click("#tts-go")
    status = page.locator("#tts-status")
    expect(status).to_have_attribute("data-kind", "error")
    assert status.inner_text().strip() and "undefined" not in status.inner_text()


def test_long_text_runs_as_a_task_with_progress(page: Any) -> None:
    sign_in(page)
    text = " ".join(f"This is sentence number {n} of the long text." for n in range(1, 9))
    page.fill("#tts-text", text)
    page.click("#tts-long")
    expect(page.locator("#tts-status")).to_contain_text("SUCCEEDED", timeout=120000)
    assert re.search(r"\d+ segments", page.inner_text("#tts-meta"))
    assert 8.0 < audio_duration(page, "#tts-audio") < 60.0


def test_recording_from_the_microphone_is_transcribed(page: Any) -> None:
    sign_in(page)
    page.click("#tab-recognition")
    page.click("#asr-record")
    page.wait_for_timeout(3500)  # the fake microphone speaks the 2.5 s sentence once
    page.click("#asr-record")
    expect(page.locator("#asr-sync")).to_be_enabled(timeout=15000)
    page.select_option("#asr-language", "en")
    page.click("#asr-sync")  # sync recognition of the short clip
    expect(page.locator("#asr-text")).to_contain_text("tomorrow morning", timeout=60000)
    page.click("#asr-upload")  # ticket + PostObject form + task, as a mini-program does
    sentence = page.locator(".sentence").first
    expect(sentence).to_contain_text("call me tomorrow", timeout=120000)
    times = sentence.locator("button").inner_text()
    begin, end = (float(t.split(":")[1]) for t in times.split("–"))
    assert 0 <= begin < end <= 4.0
    expect(page.locator("#asr-status")).to_contain_text("SUCCEEDED")


def test_history_pages_filter_and_the_api_key_is_never_shown_whole(page: Any) -> None:
    sign_in(page)
    page.click("#tab-history")
    expect(page.locator(".history-item").first).to_be_visible(timeout=15000)
    page.select_option("#history-type", "asr")
    expect(page.locator("#history-page")).to_contain_text("records")
    types = set(page.eval_on_selector_all(".history-item", "items => items.map(i => i.dataset.type)"))
    assert types == {"asr"}
    page.select_option("#history-type", "tts")
    expect(page.locator(".history-item audio").first).to_be_attached()
    page.click("#tab-settings")
    key = "sk-playground-0123456789abcdef"
    page.fill("#key-input", key)
    page.click("#key-save")
    expect(page.locator("#key-status")).to_have_text("Saved")
    state = page.inner_text("#key-state")
    assert "Key configured" in state and key not in state and page.input_value("#key-input") == ""
    assert key not in page.content()
    page.click("#key-delete")
    expect(page.locator("#key-state")).to_contain_text("No key of yours")


def test_phone_width_and_keyboard(browser: Any, server: ServeProcess) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.goto(f"{server.base_url}/")
        expect(phone.locator("body")).to_have_attribute("data-ready", "true")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 375  # no sideways scrolling
        phone.focus("#tab-speech")
        phone.keyboard.press("ArrowRight")
        expect(phone.locator("#tab-recognition")).to_be_focused()
        expect(phone.locator("#panel-recognition")).to_be_visible()
        expect(phone.locator("#panel-speech")).to_be_hidden()
        phone.keyboard.press("End")
        expect(phone.locator("#panel-settings")).to_be_visible()
    finally:
        context.close()


def sample_wav(path: Path) -> Path:
    from voicefn_local.engines import get_engine

    text = ("Please call me tomorrow morning at the office. We are going to the market this afternoon. "
            "The weather is lovely and the children are playing in the park. I will bring some bread and "
            "fresh fruit for everyone, and we can all have lunch together by the river.")
    pcm = get_engine("espeak").synthesize(text, language="en", gender="male", sample_rate=16000)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm)
    assert len(pcm) / 32000 > 10.0  # the sample rule: 10–60 s
    return path


def test_clone_a_voice_play_its_preview_speak_with_it_and_delete_it(page: Any, server: ServeProcess,
                                                                     tmp_path: Path) -> None:
    sign_in(page)
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete …? This cannot be undone."
    page.click("#tab-voices")
    page.set_input_files("#voice-file", str(sample_wav(tmp_path / "sample.wav")))
    page.fill("#voice-prefix", "browser")
    page.click("#voice-create")  # a "voice" upload ticket, the PostObject form, then the voice's status
    expect(page.locator("#voice-status")).to_contain_text("Preview of", timeout=120000)
    history = page.inner_text("#voice-history")
    voice_id = history.split(":")[0]
    assert voice_id.startswith("cosyvoice-v3-flash-browser-") and history.endswith("DEPLOYING → OK")
    assert page.get_attribute("#voice-preview", "data-preview-of") == voice_id
    assert 1.5 < audio_duration(page, "#voice-preview") < 15.0
    row = page.locator(f'li[data-voice="{voice_id}"]')
    expect(row.locator(".voice-state")).to_have_text("OK")
    row.locator(".voice-use").click()  # synthesize with the clone in the Speech panel
    expect(page.locator("#panel-speech")).to_be_visible()
    assert page.input_value("#tts-voice") == voice_id
    page.fill("#tts-text", "My own voice reads this sentence.")
    page.click("#tts-go")
    expect(page.locator("#tts-meta")).to_contain_text("complete after", timeout=60000)
    assert 1.0 < audio_duration(page, "#tts-audio") < 10.0
    page.click("#tab-voices")
    page.locator(f'li[data-voice="{voice_id}"] .voice-delete').click()
    expect(page.locator("#voice-status")).to_contain_text(f"Deleted {voice_id}")
    expect(page.locator(f'li[data-voice="{voice_id}"]')).to_have_count(0)
    gone = httpx.get(f"{server.base_url}/api/audio/voice/{voice_id}", timeout=30,
                     headers={"Authorization": f"Bearer {server.token('demo')}"})
    assert gone.status_code == 404


def test_chat_replies_are_spoken_while_the_text_still_streams(page: Any, server: ServeProcess) -> None:
    reply = ("Paris is the capital of France. It lies on the river Seine. "
             "Millions of visitors come to see its museums every year.")
    script = {"reply": reply, "token_delay_ms": 120, "when_contains": "capital of France"}
    httpx.post(f"{server.base_url}/dashscope/_admin/chat-scripts", json=[script], timeout=30,
               headers=admin_headers(server.data_dir)).raise_for_status()
    sign_in(page)
    page.click("#tab-chat")
    expect(page.locator("#chat-model option").first).to_be_attached()
    page.fill("#chat-input", "What is the capital of France?")
    page.press("#chat-send", "Enter")
    answer = page.locator(".msg.assistant").last
    expect(answer).to_have_attribute("data-done", "true", timeout=120000)
    expect(answer.locator(".text")).to_have_text(reply)
    assert answer.get_attribute("data-spoke-while-streaming") == "true"
    spoken = answer.locator(".spoken li")
    expect(spoken).to_have_count(3)
    expect(spoken.first).to_have_text("Paris is the capital of France.")
    assert "/v1/chat/audio/" in page.get_attribute("#chat-audio", "src")
    assert 0.5 < audio_duration(page, "#chat-audio") < 10.0


def red_png(path: Path, width: int = 64, height: int = 48) -> Path:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((200, 30, 30)) * width for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def hold(page: Any, button: str, ms: int = 3500) -> None:
    page.focus(button)
    page.keyboard.down("Space")  # held like a finger on the button; the fake microphone speaks
    page.wait_for_timeout(ms)
    page.keyboard.up("Space")


def test_hold_to_talk_and_ask_about_an_image_over_the_realtime_sockets(page: Any, tmp_path: Path) -> None:
    sign_in(page)
    page.click("#tab-talk")
    hold(page, "#talk-hold")  # /v1/chat/audio: packets up, recognized, answered, spoken back
    turn = page.locator("#talk-log li").last
    expect(turn).to_have_attribute("data-done", "true", timeout=120000)
    expect(turn.locator(".heard")).to_contain_text("call me tomorrow")
    expect(turn.locator(".text")).to_contain_text("call me tomorrow")  # the scripted LLM echoes the question
    assert 1.0 < audio_duration(page, "#talk-audio") < 20.0
    page.set_input_files("#vlm-image", str(red_png(tmp_path / "red.png")))
    hold(page, "#vlm-hold")  # /v1/chat/vlm: image and audio packets, then end
    turn = page.locator("#vlm-log li").last
    expect(turn).to_have_attribute("data-done", "true", timeout=120000)
    expect(turn.locator(".heard")).to_contain_text("tomorrow")
    expect(turn.locator(".text")).to_contain_text("red")  # the emulator's VLM looks at the picture's colours
    assert 1.0 < audio_duration(page, "#vlm-audio") < 20.0
