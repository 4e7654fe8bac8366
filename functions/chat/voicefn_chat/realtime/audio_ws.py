"""seed 002's ``WS /v1/chat/audio``: a spoken question in 8 KB packets, a spoken answer back.

Client → server: ``{seq, total, data}`` (base64 audio, ≤ 8 KB decoded, seq from 1; a new
question starts again at 1). Server → client, per turn: ``packet_ack`` per packet, then
``transcription_started``, ``chat_started``, ``chat_chunk``…, ``tts_started``,
``audio_stream`` {data}… {finished}, ``chat_tts_complete``, ``audio_complete``. A question that
starts while an answer is still streaming cancels that answer (barge-in).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timezone
from typing import Any

from fastapi import WebSocket

from voicefn.errors import ApiError
from voicefn.asr.intake import Audio
from voicefn.realtime.packets import PacketError, PacketRun, parse_packet
from voicefn.web.deps import ServicesDep
from voicefn.web.routing import plain_router
from voicefn_chat.billing import record_turn
from voicefn_chat.once import OnceRecord
from voicefn_chat.realtime import steps
from voicefn_chat.realtime.session import RealtimeSession, open_session, run_session

router = plain_router(tags=["realtime (seed 002)"])

MAX_PACKET_BYTES = 8 * 1024
HISTORY_TURNS = 10  # earlier question/answer pairs of this connection sent to the LLM
SKIPPED = "跳过对话生成：语音识别失败或结果为空"


class AudioConversation:
    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self.run = PacketRun(max_total_bytes=steps.MAX_AUDIO_BYTES)
        self.history: list[dict[str, str]] = []

    async def on_message(self, message: dict[str, Any]) -> None:
        session = self.session
        try:
            packet = parse_packet(message, max_bytes=MAX_PACKET_BYTES)
            if packet.seq == 1 and (self.run.complete or session.replying):
                await session.interrupt()  # a new question: whatever is still being said stops
                self.run = PacketRun(max_total_bytes=steps.MAX_AUDIO_BYTES)
            added = self.run.add(packet)
        except PacketError as err:
            await session.error(str(err))
            return
        await session.send("packet_ack", {"seq": packet.seq, "received": self.run.received, "total": self.run.total})
        if added and self.run.complete:
            data, packets = self.run.data(), self.run.total
            session.start_turn(lambda: self.turn(data, packets))

    async def turn(self, data: bytes, packets: int) -> None:
        session, services = self.session, self.session.services
        audio = steps.check_audio(data)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")
        filename = f"audio_session_{stamp}_{session.turns}.{audio.format}"
        prepared = steps.Prepared(session, services.settings.llm_default_model)
        try:
            await self._answer(data, packets, audio, filename, prepared)
        finally:
            prepared.close()

    async def _answer(self, data: bytes, packets: int, audio: Audio, filename: str, prepared: steps.Prepared) -> None:
        session, services = self.session, self.session.services
        stored = await steps.store(session, data, filename, steps.audio_mime(audio.format))
        await session.send("transcription_started", {"message": "开始语音识别...", "oss_url": stored.url})
        heard = await steps.recognize(session, stored, audio, await prepared.api_key())
        summary: dict[str, Any] = {
            "filename": filename, "filepath": stored.key, "size": stored.size, "packets": packets,
            "duration": round(audio.duration, 2), "oss_uploaded": True, "oss_url": stored.url,
            "transcription_success": bool(heard.text), "transcription_text": heard.text}
        if not heard.text:
            await session.send("chat_started", {"message": SKIPPED})
            await session.send("audio_complete", {"message": "音频接收和识别完成，未生成回答", **summary,
                                                  "chat_success": False, "assistant_response": "",
                                                  "tts_success": False})
            return
        prepared.start_voice()
        await session.send("chat_started", {"message": "开始生成AI回答...", "user_message": heard.text})
        target, voice = await prepared.reply()
        messages = [{"role": "system", "content": services.settings.chat_system_prompt}, *self.history,
                    {"role": "user", "content": heard.text}]
        once: OnceRecord[bool] = OnceRecord()  # one record, whether the reply ends or is cut (barge-in)

        def save(spoken: steps.Spoken, abandoned: bool = False) -> Awaitable[bool]:
            return once.write(lambda: _save(session, target, messages, spoken, stored.key, heard, abandoned=abandoned))

        spoken = await steps.speak_reply(session, target, {"messages": messages}, chunk_event="chat_chunk",
                                         voice=voice, on_abandon=lambda used: save(used, abandoned=True))
        self.history = [*self.history, {"role": "user", "content": heard.text},
                        {"role": "assistant", "content": spoken.text}][-2 * HISTORY_TURNS:]
        db_saved = await save(spoken)
        tts_success = spoken.audio_chunks > 0
        await session.send("chat_tts_complete", {
            "message": "实时对话生成和语音合成完成", "assistant_response": spoken.text, "tts_success": tts_success,
            "segments_count": spoken.sentences, "total_segments": spoken.sentences, "db_saved": db_saved})
        await session.send("audio_complete", {
            "message": "音频接收、识别、对话生成和实时语音合成全部完成", **summary, "chat_success": True,
            "assistant_response": spoken.text, "tts_success": tts_success})


async def _save(session: RealtimeSession, target: Any, messages: list[dict[str, Any]], spoken: steps.Spoken,
                audio_key: str, heard: steps.Heard, route: str = "/v1/chat/audio", abandoned: bool = False) -> bool:
    """The turn's ``chat`` record and bill; False (and the turn still answered) if the store failed."""
    from voicefn.logging import get_logger

    services = session.services
    try:
        await record_turn(services, session.principal, target=target, messages=messages, reply=spoken.text,
                          usage=spoken.usage, mode="realtime", voice=None,
                          tts_model=services.settings.chat_tts_model, characters=spoken.characters,
                          output_key=audio_key, route=route, extra_bill=heard.bill,
                          extra={"asr_seconds": heard.seconds, "session_id": session.session_id},
                          abandoned=abandoned)
    except (ApiError, OSError, RuntimeError, ValueError):
        get_logger(__name__).exception("realtime turn not saved")
        return False
    return True


@router.websocket("/v1/chat/audio")
async def chat_audio(ws: WebSocket, services: ServicesDep) -> None:
    session = await open_session(ws, services, "音频连接已建立")
    if session is not None:
        await run_session(session, AudioConversation(session).on_message)
