"""The local admin token that guards the emulator's ``/_admin/*`` routes.

The embedded DashScope shares ``voicefn serve``'s port, so its test-control routes (faults,
stats, ASR scripts) would otherwise be open to anyone who can reach that port. The token lives in
the emulator's data dir (``admin.token``, mode 0600), created on first use by whichever side asks
first (the emulator, a test, the bench), so clients and server always agree. Clients send it as
the ``X-Voicefn-Admin-Token`` header.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

HEADER = "X-Voicefn-Admin-Token"
FILE_NAME = "admin.token"


def load_admin_token(data_dir: str | os.PathLike[str]) -> str:
    """The token in ``data_dir/admin.token``, created (atomically, 0600) if missing."""
    path = Path(data_dir) / FILE_NAME
    try:
        token = path.read_text("utf-8").strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text("utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    return token


def admin_headers(token: str) -> dict[str, str]:
    return {HEADER: token}
