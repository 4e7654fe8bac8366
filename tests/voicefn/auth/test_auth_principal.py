from __future__ import annotations

import pytest

from voicefn.auth.jwt import issue_token
from voicefn.auth.principal import Principal, authenticate
from voicefn.errors import ApiError

SECRET = "s3cret-for-tests-0123456789abcdef0123"
KEY = "svc-0123456789abcdef"


@pytest.fixture
def settings(make_settings):
    return make_settings(jwt_secret=SECRET, service_keys={KEY: "billing", "other-key-xyz": "crm"})


def test_jwt_user(settings) -> None:
    p = authenticate(f"Bearer {issue_token('alice@example.com', SECRET)}", None, settings)
    assert p == Principal(user_id="alice@example.com", kind="user", service=None)


def test_jwt_user_cannot_act_as_someone_else(settings) -> None:
    p = authenticate(f"Bearer {issue_token('alice', SECRET)}", "bob", settings)
    assert p.user_id == "alice" and p.kind == "user"


def test_scheme_is_case_insensitive(settings) -> None:
    assert authenticate(f"bearer   {issue_token('alice', SECRET)}", None, settings).user_id == "alice"


def test_service_key_alone(settings) -> None:
    assert authenticate(f"Bearer {KEY}", None, settings) == Principal("service:billing", "service", "billing")
    assert authenticate("Bearer other-key-xyz", "", settings) == Principal("service:crm", "service", "crm")


def test_service_key_acting_for_user(settings) -> None:
    p = authenticate(f"Bearer {KEY}", "user_42:wx@corp.example", settings)
    assert p == Principal(user_id="user_42:wx@corp.example", kind="service", service="billing")


@pytest.mark.parametrize("acting", ["has space", "a/b", "x" * 129, "../etc", "名字"])
def test_service_key_with_invalid_acting_user(settings, acting: str) -> None:
    with pytest.raises(ApiError) as info:
        authenticate(f"Bearer {KEY}", acting, settings)
    assert info.value.code == "INVALID_PARAMETER" and info.value.param == "X-Voicefn-User"


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   ", f"Basic {KEY}", KEY, "Token abc"])
def test_missing_or_malformed_header(settings, header) -> None:
    with pytest.raises(ApiError) as info:
        authenticate(header, None, settings)
    assert info.value.code == "UNAUTHORIZED"


def test_unknown_key_is_tried_as_jwt(settings) -> None:
    with pytest.raises(ApiError) as info:
        authenticate(f"Bearer {KEY}x", None, settings)
    assert info.value.code == "UNAUTHORIZED"


def test_jwt_with_invalid_subject(settings) -> None:
    with pytest.raises(ApiError) as info:
        authenticate(f"Bearer {issue_token('bad subject/..', SECRET)}", None, settings)
    assert info.value.code == "UNAUTHORIZED" and "subject" in info.value.message
