"""seed 002's realtime sockets: ``/v1/chat/audio`` (spoken question → spoken answer) and
``/v1/chat/vlm`` (image + spoken question → spoken answer)."""
