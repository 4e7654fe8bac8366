"""The tts function's routers, one per contract."""
