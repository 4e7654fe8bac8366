"""The tts function: synthesis over HTTP, chunked streaming and WebSocket (a web function)."""
