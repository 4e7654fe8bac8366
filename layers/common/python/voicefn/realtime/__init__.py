"""Realtime voice over WebSocket (seed 002's /v1/chat/audio and /v1/chat/vlm): the pieces both
sockets share — packet intake, image checks, the function's deadline."""
