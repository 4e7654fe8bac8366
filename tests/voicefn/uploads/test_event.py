"""The typed OSS event (voicefn.uploads.event): FC's sample read field by field, and written back."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from voicefn.uploads.event import InvalidOssEvent, OssEvent, OssEventRecord, build_oss_event

SAMPLE = Path(__file__).resolve().parents[1] / "web" / "fc3_events" / "event-oss.json"


def test_the_reference_sample_reads_field_by_field() -> None:
    event = OssEvent.parse(SAMPLE.read_bytes())  # as FC hands it over: bytes of JSON
    (record,) = event.records
    assert record.event_name == "ObjectCreated:PutObject" and record.is_object_created
    assert record.event_source == "acs:oss" and record.region == "cn-shanghai"
    assert record.bucket == "testbucket" and record.bucket_arn == "acs:oss:cn-shanghai:123456789:bucketname"
    assert record.key == record.raw_key == "image/a.jpg"
    assert record.size == 122539
    assert record.etag == "688A7BF4F233DC9C88A80BF985AB7329"
    assert record.event_time == datetime(2017, 4, 21, 12, 46, 37, tzinfo=timezone.utc)
    assert record.request_id == "58F9FF2D3DF792092E12044C"
    assert record.dedupe_key == "oss:testbucket/image/a.jpg/688A7BF4F233DC9C88A80BF985AB7329"
    assert event.record is record or event.record.raw is record.raw
    assert [r.key for r in event] == ["image/a.jpg"]


def test_str_and_dict_inputs_parse_the_same() -> None:
    text = SAMPLE.read_text()
    assert OssEvent.parse(text).record.key == OssEvent.parse(json.loads(text)).record.key == "image/a.jpg"


@pytest.mark.parametrize("raw, decoded", [
    ("uploads/asr/service~3abilling/a.wav", "uploads/asr/service~3abilling/a.wav"),
    ("uploads/asr/u1/%E8%AF%AD%E9%9F%B3%201.wav", "uploads/asr/u1/语音 1.wav"),
    ("a%2Fb%3Ac.wav", "a/b:c.wav"),
    ("语音 1.wav", "语音 1.wav"),  # not encoded at all: read as is
])
def test_keys_are_url_decoded(raw: str, decoded: str) -> None:
    record = OssEvent.parse(build_oss_event(bucket="b", key=raw, size=1, etag="e")).record
    assert record.raw_key == raw and record.key == decoded
    assert record.dedupe_key == f"oss:b/{decoded}/E"


@pytest.mark.parametrize("name", ["ObjectRemoved:DeleteObject", "ObjectModified:UpdateObjectMeta", ""])
def test_other_events_are_not_object_created(name: str) -> None:
    raw = build_oss_event(bucket="b", key="k", size=1, etag="E")
    raw["events"][0]["eventName"] = name
    record = OssEvent.parse(raw).record
    assert record.event_name == name and not record.is_object_created


def test_missing_or_odd_fields_read_as_empty() -> None:
    record = OssEventRecord({"eventSource": "acs:oss", "oss": {"object": {"size": "many", "eTag": '"ab"'}}})
    assert (record.bucket, record.key, record.size, record.etag, record.event_time) == ("", "", 0, "AB", None)
    assert OssEventRecord({"eventTime": "yesterday"}).event_time is None


@pytest.mark.parametrize("data", [
    b"\xff\xfe", "not json", "[]", {}, {"events": []}, {"events": [{"eventSource": "acs:mns"}]},
    {"events": "x"}, {"version": "2.0", "rawPath": "/", "requestContext": {}},
])
def test_what_is_not_an_oss_event_is_refused(data: object) -> None:
    assert not OssEvent.is_oss_event(data)
    with pytest.raises(InvalidOssEvent):
        OssEvent.parse(data)


def test_the_builder_writes_the_sample_s_shape_and_the_reader_reads_it_back() -> None:
    sample = json.loads(SAMPLE.read_text())
    when = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    built = build_oss_event(bucket="testbucket", key="image/a.jpg", size=122539,
                            etag="688A7BF4F233DC9C88A80BF985AB7329", region="cn-shanghai", account_id="123456789",
                            request_id="58F9FF2D3DF792092E12044C", event_time=when,
                            event_name="oss:ObjectCreated:PutObject")

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value]
        return type(value).__name__

    assert shape(built) == shape(sample)
    record = OssEvent.parse(built).record
    assert record.event_name == "ObjectCreated:PutObject"  # written without the trigger's oss: prefix
    assert built["events"][0]["eventTime"] == "2025-01-02T03:04:05.678Z"
    assert record.event_time == when
    for field in ("bucket", "key", "size", "etag", "region", "request_id", "event_source"):
        assert getattr(record, field) == getattr(OssEvent.parse(sample).record, field), field
