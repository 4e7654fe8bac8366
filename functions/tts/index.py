"""Event-function entry of the tts function.

s.yaml deploys tts as a web function (custom runtime: ``python3 -m voicefn.web.server``), because
it streams and serves a WebSocket. This handler lets the same app run as an event function too
(``handler: index.handler`` on a python3.12 runtime), without streaming, if someone deploys it so.
"""

from voicefn.web.fc_event import make_event_handler
from voicefn_tts.app import create_app

handler = make_event_handler(create_app)
