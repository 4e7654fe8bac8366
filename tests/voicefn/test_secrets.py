"""Envelope encryption of users' DashScope keys, the master key, and masking."""

from __future__ import annotations

import base64
import os
import pickle
import stat
from pathlib import Path

import pytest

from voicefn.secrets import KeyVault, SecretError, _unb64url, load_master_key, mask
from voicefn.settings import Settings

MASTER = bytes(range(32))
API_KEY = "sk-0123456789abcdef0123456789abcdef"


@pytest.fixture
def vault() -> KeyVault:
    return KeyVault(MASTER)


def test_round_trip(vault: KeyVault) -> None:
    token = vault.encrypt(API_KEY, "user-1")
    assert token.startswith("v1.") and API_KEY not in token
    assert "=" not in token and "+" not in token and "/" not in token  # base64url, compact
    assert vault.decrypt(token, "user-1") == API_KEY
    assert KeyVault(MASTER).decrypt(token, "user-1") == API_KEY  # another instance, same key
    assert vault.decrypt(vault.encrypt("密钥 with ünïcode", "u"), "u") == "密钥 with ünïcode"


def test_wrong_context_fails(vault: KeyVault) -> None:
    token = vault.encrypt(API_KEY, "user-1")
    with pytest.raises(SecretError):
        vault.decrypt(token, "user-2")


def test_other_master_key_fails(vault: KeyVault) -> None:
    token = vault.encrypt(API_KEY, "user-1")
    with pytest.raises(SecretError, match="different master key"):
        KeyVault(bytes(32)).decrypt(token, "user-1")


@pytest.mark.parametrize("position", [0, 5, 20, 70, -1])
def test_tampered_token_fails(vault: KeyVault, position: int) -> None:
    token = vault.encrypt(API_KEY, "user-1")
    raw = bytearray(_unb64url(token[3:]))
    raw[position] ^= 0x01
    tampered = "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(SecretError):
        vault.decrypt(tampered, "user-1")


@pytest.mark.parametrize("token", ["", "v1.", "v2.AAAA", "nodot", "v1.!!!", "v1." + "A" * 40])
def test_malformed_tokens_fail_cleanly(vault: KeyVault, token: str) -> None:
    with pytest.raises(SecretError):
        vault.decrypt(token, "user-1")


def test_two_encryptions_differ(vault: KeyVault) -> None:
    assert vault.encrypt(API_KEY, "u") != vault.encrypt(API_KEY, "u")


def test_the_key_never_shows(vault: KeyVault) -> None:
    for text in (repr(vault), str(vault), f"{vault}"):
        assert MASTER.hex() not in text and base64.b64encode(MASTER).decode() not in text
        assert text.startswith("KeyVault(kid=")
    with pytest.raises(TypeError):
        pickle.dumps(vault)
    with pytest.raises(SecretError):
        KeyVault(b"short")


def test_master_key_from_settings() -> None:
    encoded = base64.b64encode(MASTER).decode()
    assert load_master_key(Settings(master_key=encoded)) == MASTER
    assert load_master_key(Settings(master_key=base64.urlsafe_b64encode(MASTER).decode().rstrip("="))) == MASTER
    with pytest.raises(SecretError):
        load_master_key(Settings(master_key=base64.b64encode(b"too short").decode()))


def test_local_key_file_is_created_once_with_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_master_key(settings)
    path = settings.local_key_file
    assert len(first) == 32 and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_master_key(settings) == first  # reused, not regenerated
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp files left
    assert load_master_key(Settings(data_dir=tmp_path / "other")) != first


def test_no_key_file_fallback_in_the_cloud(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="VOICEFN_MASTER_KEY"):
        load_master_key(Settings(runtime="cloud", data_dir=tmp_path))
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize("key, shown", [
    ("sk-0123456789abcdef", "sk-****cdef"),
    ("abcdefghijklmnop", "****mnop"),
    ("sk-abcd", "****"),
    ("", ""),
    (None, ""),
])
def test_mask(key: str | None, shown: str) -> None:
    assert mask(key) == shown
