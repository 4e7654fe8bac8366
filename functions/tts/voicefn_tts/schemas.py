"""Request bodies of the tts routes (seed 003 §1, seed 000, OpenAI)."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from voicefn.tts.params import TtsParams, VoiceSettings


class SynthesizeRequest(BaseModel):
    """seed 003 §1.1."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"example": {
        "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "你好，欢迎使用语音合成服务！",
        "stream": False, "format": "mp3", "volume": 50, "speech_rate": 1.0, "pitch_rate": 1.0}})

    model: str = Field(description="cosyvoice-v3-flash, cosyvoice-v3-plus or cosyvoice-v2")
    voice: str = Field(description="a system voice id or one of your cloned voices")
    text: str = Field(description="at most 2000 characters")
    stream: bool = False
    format: str = "mp3"
    sample_rate: int = 22050
    volume: int = 50
    speech_rate: float = 1.0
    pitch_rate: float = 1.0
    instruction: Optional[str] = None

    def params(self) -> TtsParams:
        from voicefn.text.clean import strip_unspeakable
        from voicefn.tts.params import fit_sample_rate

        settings = VoiceSettings(model=self.model, voice=self.voice, format=self.format,
                                 sample_rate=self.sample_rate, volume=self.volume,
                                 speech_rate=self.speech_rate, pitch_rate=self.pitch_rate,
                                 instruction=self.instruction)
        return TtsParams(fit_sample_rate(settings), strip_unspeakable(self.text))


class SynthesizeLongRequest(SynthesizeRequest):
    """seed 003 §1.3; ``async`` returns a task id at once and synthesizes in the background."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    text: str = Field(description="any length up to the configured maximum (200,000 characters)")
    run_async: bool = Field(False, alias="async", description="return a task id instead of waiting")


class Seed000TtsRequest(BaseModel):
    """seed 000's POST /api/tts."""

    model_config = ConfigDict(extra="ignore")

    text: str
    voice: str = "Cherry"
    language_type: str = "Chinese"


class OpenAISpeechRequest(BaseModel):
    """OpenAI's POST /v1/audio/speech."""

    model_config = ConfigDict(extra="ignore")

    model: str
    input: str
    voice: Union[str, dict[str, Any], None] = Field(None, description="default: the model's default voice")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    instructions: Optional[str] = None
    stream_format: Literal["audio", "sse"] = "audio"
