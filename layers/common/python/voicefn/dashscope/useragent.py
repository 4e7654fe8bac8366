"""The user-agent voicefn sends to DashScope: its own, so upstream logs tell voicefn apart."""

from __future__ import annotations

import platform

from voicefn import __version__

USER_AGENT = f"voicefn/{__version__}; python/{platform.python_version()}"
