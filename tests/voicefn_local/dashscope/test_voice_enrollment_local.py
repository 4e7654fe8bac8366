"""Voice enrollment on the emulator ``voicefn serve`` embeds: it deploys a sample from a signed
URL of the local object store (what the voice function hands it), and fetches nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from dashscope.audio.tts_v2 import VoiceEnrollmentService

from tests.stack import Stack
from tests.voicefn_local.dashscope.test_asr_support import FileServer
from tests.voicefn_local.dashscope.voice_helpers import speechlike_wav, wait_status


@pytest.fixture
def service(stack: Stack, point_sdk) -> VoiceEnrollmentService:  # type: ignore[no-untyped-def]
    point_sdk(_Base(stack))  # the SDK aimed at {base}/dashscope/api/v1
    return VoiceEnrollmentService()


class _Base:
    """What ``point_sdk`` reads of a server: the embedded emulator's base URLs."""

    def __init__(self, stack: Stack) -> None:
        self.base_url = f"{stack.base_url}/dashscope"
        self.ws_base_url = f"{stack.ws_url}/dashscope"


@pytest.fixture
def files() -> Iterator[FileServer]:
    with FileServer() as server:
        yield server


def test_a_signed_object_store_url_deploys(stack: Stack, service: VoiceEnrollmentService) -> None:
    objects = stack.services.objects
    asyncio.run(objects.put("audio/voice/20260101/sample.wav", speechlike_wav(140.0), "audio/wav"))
    url = objects.signed_get_url("audio/voice/20260101/sample.wav")
    voice_id = service.create_voice(target_model="cosyvoice-v3-flash", prefix="local", url=url)
    voice = wait_status(service, voice_id)
    assert voice["status"] == "OK", voice
    assert voice["resource_link"] == url
    service.delete_voice(voice_id)


def test_other_urls_are_not_fetched(service: VoiceEnrollmentService, files: FileServer) -> None:
    url = files.put("sample.wav", speechlike_wav(140.0))  # a loopback service of the machine
    voice_id = service.create_voice(target_model="cosyvoice-v3-flash", prefix="outside", url=url)
    voice = wait_status(service, voice_id)
    assert voice["status"] == "UNDEPLOYED"
    assert "only fetches files of the local object store" in voice["message"]
    service.delete_voice(voice_id)
