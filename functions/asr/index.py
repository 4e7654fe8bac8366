"""FC entry of the asr function (runtime python3.12, ``handler: index.handler`` in s.yaml).

One handler for the three ways FC invokes it: HTTP-trigger events (the ASGI app), the OSS trigger
on ``uploads/asr/`` (``on_oss_event``) and the function's own async jobs (``handle_job``).
"""

from voicefn.web.fc_event import make_event_handler
from voicefn_asr.app import create_app
from voicefn_asr.events import on_oss_event
from voicefn_asr.jobs import handle_job

handler = make_event_handler(create_app, on_oss_event=on_oss_event, on_job=handle_job)
