"""Envelope encryption of users' own DashScope API keys.

Each secret gets a fresh 256-bit data key; the secret is sealed with AES-256-GCM under the data
key with the user id as associated data (a token copied to another user does not open), and the
data key is sealed with AES-256-GCM under the master key. Token layout (base64url, no padding,
after the ``v1.`` version prefix)::

    kid(4) | wrap_nonce(12) | wrapped_key(32+16) | nonce(12) | ciphertext+tag(n+16)

``kid`` is a fingerprint of the master key so a token made under another key fails clearly.
The master key comes from ``VOICEFN_MASTER_KEY`` (base64, 32 bytes) or, locally only, from a key
file created on first use with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import time
from pathlib import Path
from typing import Any

_VERSION = "v1"
_KID_LEN = 4
_NONCE_LEN = 12
_KEY_LEN = 32
_TAG_LEN = 16
_WRAP_AAD = b"voicefn/data-key/v1"


class SecretError(Exception):
    """A token that cannot be opened (tampered, wrong user, other master key) or a bad key."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyVault:
    """Seals and opens small secrets under a 256-bit master key."""

    __slots__ = ("_master", "_kid")

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, (bytes, bytearray)) or len(master_key) != _KEY_LEN:
            raise SecretError("the master key must be exactly 32 bytes")
        self._master = bytes(master_key)
        self._kid = hashlib.sha256(b"voicefn/kid\x00" + self._master).digest()[:_KID_LEN]

    def __repr__(self) -> str:
        return f"KeyVault(kid={self._kid.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never let the key travel by pickling
        raise TypeError("KeyVault cannot be pickled")

    def encrypt(self, plaintext: str, context: str) -> str:
        """Seal ``plaintext`` for ``context`` (the user id); returns a ``v1.…`` token."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_LEN)
        sealed = AESGCM(data_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        wrap_nonce = os.urandom(_NONCE_LEN)
        wrapped = AESGCM(self._master).encrypt(wrap_nonce, data_key, _WRAP_AAD + self._kid)
        return f"{_VERSION}.{_b64url(self._kid + wrap_nonce + wrapped + nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        """Open a token made by :meth:`encrypt` for the same ``context``; raise :class:`SecretError`."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        version, sep, body = (token or "").partition(".")
        if not sep or version != _VERSION:
            raise SecretError("unknown secret token format")
        try:
            raw = _unb64url(body)
        except (binascii.Error, ValueError):
            raise SecretError("secret token is not base64url") from None
        header = _KID_LEN + _NONCE_LEN + _KEY_LEN + _TAG_LEN + _NONCE_LEN
        if len(raw) < header + _TAG_LEN:
            raise SecretError("secret token is truncated")
        kid, raw = raw[:_KID_LEN], raw[_KID_LEN:]
        if kid != self._kid:
            raise SecretError("secret token was sealed under a different master key")
        wrap_nonce, raw = raw[:_NONCE_LEN], raw[_NONCE_LEN:]
        wrapped, raw = raw[:_KEY_LEN + _TAG_LEN], raw[_KEY_LEN + _TAG_LEN:]
        nonce, sealed = raw[:_NONCE_LEN], raw[_NONCE_LEN:]
        try:
            data_key = AESGCM(self._master).decrypt(wrap_nonce, wrapped, _WRAP_AAD + kid)
            plaintext = AESGCM(data_key).decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise SecretError("secret token does not open (tampered, or for another user)") from None
        return plaintext.decode("utf-8")


def _decode_master_key(text: str) -> bytes:
    text = text.strip()
    for decode in (base64.b64decode, _unb64url):
        try:
            key = decode(text)
        except (binascii.Error, ValueError):
            continue
        if len(key) == _KEY_LEN:
            return key
    raise SecretError("the master key must be base64 of exactly 32 bytes")


def load_master_key(settings: Any) -> bytes:
    """``settings.master_key`` (base64 of 32 bytes), else locally a key file made on first use.

    In the cloud there is no local fallback: a key generated on an FC instance's disk would
    vanish with the instance and take every stored secret with it.
    """
    if settings.master_key:
        return _decode_master_key(settings.master_key)
    if getattr(settings, "runtime", "local") == "cloud":
        raise SecretError("VOICEFN_MASTER_KEY is not set (required in the cloud)")
    return _load_or_create_key_file(Path(settings.local_key_file))


def _load_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(os.urandom(_KEY_LEN)).decode("ascii") + "\n")
            try:
                os.link(tmp, path)  # atomic and never overwrites: a racing process's key wins
            except FileExistsError:
                pass
            except OSError:  # filesystems without hard links
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return _decode_master_key(path.read_text("ascii"))


def mask(key: str | None) -> str:
    """A display form of an API key: ``sk-****abcd``; short keys show nothing."""
    if not key:
        return ""
    if len(key) <= 8:
        return "****"
    prefix = "sk-" if key.startswith("sk-") else ""
    return f"{prefix}****{key[-4:]}"
