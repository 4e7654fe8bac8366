"""FC entry of the account function (runtime python3.12, ``handler: index.handler`` in s.yaml).

FC3 HTTP-trigger events run the account ASGI app through ``voicefn.web.fc_event``.
"""

from voicefn.web.fc_event import make_event_handler
from voicefn_account.app import create_app

handler = make_event_handler(create_app)
