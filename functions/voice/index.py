"""FC entry of the voice function (runtime python3.12, ``handler: index.handler`` in s.yaml).

One handler for the three ways FC invokes it: HTTP-trigger events (the ASGI app), the OSS trigger
on ``uploads/voice/`` (``on_oss_event``: enrollment started by an upload) and the function's own
async jobs (``handle_job``: watching voices until DashScope deploys them).
"""

from voicefn.web.fc_event import make_event_handler
from voicefn_voice.app import create_app
from voicefn_voice.events import on_oss_event
from voicefn_voice.jobs import handle_job

handler = make_event_handler(create_app, on_oss_event=on_oss_event, on_job=handle_job)
