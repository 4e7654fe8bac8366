"""The dependency that guards ``/_admin/*``: the request must carry the emulator's admin token."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from voicefn_local.dashscope.admin_token import HEADER
from voicefn_local.dashscope.errors import DashScopeError
from voicefn_local.dashscope.state import get_state


async def require_admin(request: Request) -> None:
    expected = get_state(request).config.admin_token or ""
    given = request.headers.get(HEADER, "")
    if not expected or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
        raise DashScopeError("InvalidApiKey", f"the emulator's admin routes need the local admin token in "
                             f"{HEADER} (it is in the data dir's dashscope/admin.token)", status=401)
