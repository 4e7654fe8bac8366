"""Event-function entry of the chat function.

s.yaml deploys chat as a web function (custom runtime: ``python3 -m voicefn.web.server``),
because it streams SSE. This handler lets the same app run as an event function too (without
streaming: a streamed completion then arrives in one piece) if someone deploys it so.
"""

from voicefn.web.fc_event import make_event_handler
from voicefn_chat.app import create_app

handler = make_event_handler(create_app)
