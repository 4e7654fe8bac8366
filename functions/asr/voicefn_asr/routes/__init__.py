"""The asr function's routers, one per contract."""
