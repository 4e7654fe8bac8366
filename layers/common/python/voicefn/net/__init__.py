"""Reaching URLs that users hand us (``audio_url``, ``file_url``, ``callback_url``) safely.

- :mod:`voicefn.net.errors`: :class:`FetchError` and its kinds, each with a message a user may see.
- :mod:`voicefn.net.ssrf`: :func:`check_public_url`, the guard that refuses anything but plain
  http(s) to public addresses (loopback, private networks, cloud metadata, numeric tricks...).
- :mod:`voicefn.net.fetch`: :func:`safe_fetch`, a download that connects only to the address the
  guard checked, re-checks every redirect and stops at a byte limit and a deadline.

Import the submodules directly; this package imports nothing.
"""
