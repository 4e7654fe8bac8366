"""The limit settings as the environment gives them, and the rules they make."""

from __future__ import annotations

import pytest

from voicefn.auth.principal import Principal
from voicefn.limits.money import cap_micro, from_micro, to_micro
from voicefn.limits.periods import current_period
from voicefn.limits.rules import bucket_key, rate_rule
from voicefn.settings import SettingsError, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert s.rate_limits == {"tts": (60, 30), "asr": (60, 30), "voice": (20, 10), "chat": (60, 30)}
    assert (s.spend_cap_daily, s.spend_cap_monthly, s.spend_cap_timezone) == ("10", "100", "UTC")
    assert s.spend_cap_own_key is False and s.service_rate_limits == {}


def test_overrides_merge_with_the_defaults() -> None:
    s = load_settings({"VOICEFN_RATE_LIMITS": "tts=120/40,asr=0", "VOICEFN_SERVICE_RATE_LIMITS": "crm=600",
                       "VOICEFN_SPEND_CAP_DAILY": "0.5", "VOICEFN_SPEND_CAP_TIMEZONE": "Asia/Shanghai",
                       "VOICEFN_SPEND_CAP_OWN_KEY": "true"})
    assert s.rate_limits["tts"] == (120, 40) and s.rate_limits["voice"] == (20, 10)
    assert rate_rule(s, Principal("u1"), "asr") is None  # 0 turns it off
    service = Principal("u1", kind="service", service="crm")
    assert rate_rule(s, service, "tts") == rate_rule(s, service, "voice")
    assert rate_rule(s, service, "tts").per_minute == 600  # type: ignore[union-attr]
    assert bucket_key(service, "tts") != bucket_key(Principal("u1"), "tts")
    assert s.spend_cap_own_key and s.spend_cap_daily == "0.5"


@pytest.mark.parametrize("name,value", [("VOICEFN_RATE_LIMITS", "tts"), ("VOICEFN_RATE_LIMITS", "tts=ten"),
                                        ("VOICEFN_RATE_LIMITS", "tts=5/0"), ("VOICEFN_SPEND_CAP_DAILY", "-1"),
                                        ("VOICEFN_SPEND_CAP_MONTHLY", "lots"),
                                        ("VOICEFN_SPEND_CAP_TIMEZONE", "Mars/Olympus"),
                                        ("VOICEFN_SPEND_CAP_OWN_KEY", "maybe")])
def test_bad_values_fail_at_startup_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_money_units_round_estimates_up() -> None:
    assert to_micro("0.0000001") == 1 and to_micro("0.01") == 10_000
    assert from_micro(10_000) == "0.01" and cap_micro("0") is None


def test_periods_in_a_time_zone() -> None:
    from datetime import datetime, timezone

    at = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)  # already 1 January in Shanghai
    shanghai = current_period("Asia/Shanghai", at)
    assert (shanghai.month, shanghai.day) == ("2027-01", "2027-01-01")
    assert shanghai.day_resets_at.isoformat() == "2027-01-02T00:00:00+08:00"
    utc = current_period("UTC", at)
    assert utc.month_resets_at.isoformat() == "2027-01-01T00:00:00+00:00"
