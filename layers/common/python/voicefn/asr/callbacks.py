"""Tell a client's server that its task finished: a signed POST to its ``callback_url``.

The body is the task as GET shows it. ``X-Voicefn-Signature: t=<unix>,v1=<hex>`` is
HMAC-SHA256 over ``"<t>.<body>"`` with the callback secret (``VOICEFN_CALLBACK_SECRET``, shared
with the receiving server), so the receiver can check origin and freshness. The URL is checked
again when sending and the connection is pinned to the checked public address (no DNS
rebinding, no redirects); delivery is tried a few times, then given up and logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

from voicefn.logging import get_logger
from voicefn.services import Services

ATTEMPTS = 3
TIMEOUT_S = 10.0
log = get_logger(__name__)


def callback_secret(services: Services) -> bytes:
    configured = services.settings.callback_secret
    return configured.encode() if configured else services.derived_secret("callbacks")


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


async def deliver_callback(services: Services, url: str, payload: dict[str, Any], *,
                           resolver: Any = None, transport: Any = None) -> bool:
    """POST ``payload`` signed; True once the receiver answered 2xx. ``resolver``/``transport``
    are the fetcher's test seams (the connection is pinned to the checked public address)."""
    from voicefn.net.errors import FetchError, UnsafeUrl
    from voicefn.net.fetch import safe_post
    from voicefn.net.ssrf import system_resolver

    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    for attempt in range(ATTEMPTS):
        headers = {"Content-Type": "application/json",
                   "X-Voicefn-Signature": sign(callback_secret(services), body, int(time.time()))}
        try:
            status = await safe_post(url, content=body, headers=headers, timeout_s=TIMEOUT_S,
                                     resolver=resolver or system_resolver, transport=transport)
            if 200 <= status < 300:
                return True
        except UnsafeUrl as exc:
            log.warning("callback refused", extra={"reason": str(exc)})
            return False
        except FetchError:
            pass
        await asyncio.sleep(0.5 * 2 ** attempt)
    log.warning("callback not delivered", extra={"task_id": payload.get("task_id")})
    return False
