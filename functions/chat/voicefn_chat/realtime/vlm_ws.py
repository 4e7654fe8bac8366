"""seed 002's ``WS /v1/chat/vlm``: an image and a spoken question, a spoken answer back.

Client → server: ``{seq, total, type: "audio" | "image", data}`` (≤ 50 KB decoded each; each
type numbered from 1), then ``{"type": "end"}``. Server → client: ``packet_ack`` {seq, type,
received, total} per packet; after ``end``: ``transcription_started``, ``vlm_chat_started``
{message, user_message, image_url}, ``vlm_chat_chunk``…, ``tts_started``, ``audio_stream``…,
``vlm_chat_tts_complete``, ``vlm_complete``. The image is checked by its bytes (JPEG, PNG,
WebP; bounded size and pixel count) and the VLM gets a signed URL of the stored copy. A packet
of the next question while an answer is streaming cancels that answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timezone
from typing import Any

from fastapi import WebSocket

from voicefn.errors import ApiError
from voicefn.realtime.images import MAX_IMAGE_BYTES, InvalidImage, image_info
from voicefn.realtime.packets import PacketError, PacketRun, parse_packet
from voicefn.web.deps import ServicesDep
from voicefn.web.routing import plain_router
from voicefn_chat.realtime import steps
from voicefn_chat.once import OnceRecord
from voicefn_chat.realtime.audio_ws import _save
from voicefn_chat.realtime.session import RealtimeSession, open_session, run_session

router = plain_router(tags=["realtime (seed 002)"])

MAX_PACKET_BYTES = 50 * 1024
TYPES = ("audio", "image")


class VlmConversation:
    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self.runs = self._fresh()
        self.answered = False  # the runs belong to a question already answered

    @staticmethod
    def _fresh() -> dict[str, PacketRun]:
        return {"audio": PacketRun(max_total_bytes=steps.MAX_AUDIO_BYTES),
                "image": PacketRun(max_total_bytes=MAX_IMAGE_BYTES)}

    async def on_message(self, message: dict[str, Any]) -> None:
        session = self.session
        if message.get("type") == "end" and "seq" not in message:
            await self.end()
            return
        try:
            packet = parse_packet(message, max_bytes=MAX_PACKET_BYTES, types=TYPES, typed=True)
            if self.answered or (session.replying and packet.seq == 1):
                await session.interrupt()  # the next question: the answer still playing stops
                self.runs, self.answered = self._fresh(), False
            run = self.runs[packet.type]
            run.add(packet)
        except PacketError as err:
            await session.error(str(err))
            return
        await session.send("packet_ack", {"seq": packet.seq, "type": packet.type, "received": run.received,
                                          "total": run.total})

    async def end(self) -> None:
        missing = [kind for kind, run in self.runs.items() if not run.complete]
        if missing:
            detail = ", ".join(f"{k} ({self.runs[k].received}/{self.runs[k].total or '?'} packets)" for k in missing)
            await self.session.error(f"end before every packet arrived: {detail}")
            return
        audio, image = self.runs["audio"].data(), self.runs["image"].data()
        self.answered = True
        self.session.start_turn(lambda: self.turn(audio, image))

    async def turn(self, audio_bytes: bytes, image_bytes: bytes) -> None:
        session, services = self.session, self.session.services
        try:
            picture = image_info(image_bytes)
        except InvalidImage as exc:
            raise ApiError("INVALID_PARAMETER", str(exc)) from None
        audio = steps.check_audio(audio_bytes)
        stamp = f"{datetime.now(timezone.utc):%Y%m%d_%H%M%S}_{session.turns}"
        audio_file = f"vlm_audio_session_{stamp}.{audio.format}"
        image_file = f"vlm_image_session_{stamp}.{picture.extension}"
        prepared = steps.Prepared(session, services.settings.realtime_vlm_model)
        try:
            stored_audio, stored_image = await asyncio.gather(
                steps.store(session, audio_bytes, audio_file, steps.audio_mime(audio.format)),
                steps.store(session, image_bytes, image_file, picture.mime))
            await session.send("transcription_started", {"message": "开始语音识别...", "oss_url": stored_audio.url})
            heard = await steps.recognize(session, stored_audio, audio, await prepared.api_key())
            if not heard.text:
                raise ApiError("INVALID_AUDIO", "no question was recognized in the audio; please ask again")
            prepared.start_voice()
            await session.send("vlm_chat_started", {"message": "开始生成多模态AI回答...", "user_message": heard.text,
                                                    "image_url": stored_image.url})
            target, voice = await prepared.reply()
        finally:
            prepared.close()
        content = [{"type": "image_url", "image_url": {"url": stored_image.url}}, {"type": "text", "text": heard.text}]
        once: OnceRecord[bool] = OnceRecord()  # one record, whether the reply ends or is cut (barge-in)

        def save(spoken: steps.Spoken, abandoned: bool = False) -> Awaitable[bool]:
            return once.write(lambda: _save(session, target, [{"role": "user", "content": heard.text}], spoken,
                                            stored_audio.key, heard, route="/v1/chat/vlm", abandoned=abandoned))

        spoken = await steps.speak_reply(session, target, {"messages": [{"role": "user", "content": content}]},
                                         chunk_event="vlm_chat_chunk", voice=voice,
                                         on_abandon=lambda used: save(used, abandoned=True))
        await save(spoken)
        await session.send("vlm_chat_tts_complete", {"message": "VLM对话和TTS合成完成", "user_message": heard.text,
                                                     "assistant_response": spoken.text,
                                                     "audio_chunks": spoken.audio_chunks})
        await session.send("vlm_complete", {
            "message": "VLM处理完成", "audio_file": audio_file, "image_file": image_file,
            "audio_size": stored_audio.size, "image_size": stored_image.size, "duration": round(audio.duration, 2),
            "transcription": heard.text, "vlm_response": spoken.text})


@router.websocket("/v1/chat/vlm")
async def chat_vlm(ws: WebSocket, services: ServicesDep) -> None:
    session = await open_session(ws, services, "VLM连接已建立")
    if session is not None:
        await run_session(session, VlmConversation(session).on_message)
