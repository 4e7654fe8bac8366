"""Event-function entry of the tts function.

s.yaml deploys tts as a web function (custom runtime: ``python3 -m voicefn.web.server``), because
it streams and serves a WebSocket. This handler lets the same app run as an event function too
(``handler: index.handler`` on a python3.12 runtime), without streaming, if someone deploys it so;
its async jobs (long synthesis, seed 000 tasks) then arrive here as signed job events.
"""

from typing import Any

from voicefn.web.fc_event import make_event_handler
from voicefn_tts.app import create_app


async def on_job(payload: dict[str, Any]) -> None:
    from voicefn_tts.jobs import handle_job  # loads when a job arrives (cold start)

    await handle_job(payload)


handler = make_event_handler(create_app, on_job=on_job)
