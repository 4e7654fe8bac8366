"""Request bodies of the chat routes (OpenAI chat completions with seed 004's extensions; seed 000)."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field


class AudioOutput(BaseModel):
    """OpenAI's ``audio`` parameter (with ``modalities: ["text", "audio"]``)."""

    model_config = ConfigDict(extra="ignore")

    voice: Union[str, dict[str, Any]] = Field(description="an OpenAI voice (alloy...), one of ours, or a cloned one")
    format: Literal["wav", "mp3", "flac", "opus", "pcm16"] = "pcm16"


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's POST /v1/chat/completions, plus seed 004's ``tts_enabled``, ``tts_model``, ``voice``."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"example": {
        "model": "qwen-plus", "messages": [{"role": "user", "content": "你好"}], "stream": True,
        "tts_enabled": True}})

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False
    stream_options: Optional[StreamOptions] = None
    temperature: Optional[float] = Field(None, ge=0, le=2)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    max_tokens: Optional[int] = Field(None, ge=1)
    max_completion_tokens: Optional[int] = Field(None, ge=1)
    stop: Union[str, list[str], None] = None
    user: Optional[str] = Field(None, max_length=256)
    modalities: Optional[list[Literal["text", "audio"]]] = None
    audio: Optional[AudioOutput] = None
    # seed 004: pre-generate each sentence's speech while the text streams
    tts_enabled: Optional[bool] = Field(None, description="default: the deployment's VOICEFN_CHAT_TTS_ENABLED")
    tts_model: Optional[str] = None
    voice: Optional[str] = None


class AiChatRequest(BaseModel):
    """seed 000's POST /api/ai-chat."""

    model_config = ConfigDict(extra="ignore")

    message: str
    voice: str = "Cherry"
    language_type: str = "Chinese"
    include_audio: bool = True
