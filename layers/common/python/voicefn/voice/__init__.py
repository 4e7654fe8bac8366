"""Cloned voices (DESIGN.md §3a, §7 "Voice enrollment"): one module per job.

- :mod:`~voicefn.voice.rules`: the models that clone, the prefix rule, the sample's limits (stated once)
- :mod:`~voicefn.voice.sample`: is a sample usable? checked by its bytes, stored under ``audio/voice/``
- :mod:`~voicefn.voice.upstream`: the enrollment calls on the right DashScope key, with retries
- :mod:`~voicefn.voice.access`: who may see and synthesize with a voice, and on which key
- :mod:`~voicefn.voice.enroll`: enroll, re-enroll, delete, refresh the status, the public shapes
- :mod:`~voicefn.voice.preview`: a short preview spoken with a new voice (seed 001)

Functions use them: ``voice`` (the routes, the upload hook, the status jobs), ``tts`` and ``chat``
(through :func:`~voicefn.voice.access.check_voice` and :func:`~voicefn.voice.access.synthesis_key`).
"""
