"""FC's OSS event, typed: one class to read it, one function to write it.

What ``handler(event, context)`` gets from an OSS trigger (reference/fc3/event-oss.json): a JSON
object whose ``events`` list holds one record per object. :class:`OssEvent` reads it, in the spirit
of powertools' ``S3Event``/``S3EventRecord``: typed accessors over the raw dict, nothing copied.
:func:`build_oss_event` writes the same shape; the local object store raises its events with it,
so the shape is stated here once and read back by the same class the cloud entry uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

__all__ = ["InvalidOssEvent", "OssEvent", "OssEventRecord", "POST_OBJECT", "PUT_OBJECT", "build_oss_event"]

PUT_OBJECT = "ObjectCreated:PutObject"
POST_OBJECT = "ObjectCreated:PostObject"
_SOURCE = "acs:oss"


class InvalidOssEvent(ValueError):
    """The data is not an FC OSS event."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class OssEventRecord:
    """One record of an OSS event: which object, in which bucket, what happened to it, when."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"OssEventRecord({self.event_name!r}, bucket={self.bucket!r}, key={self.key!r})"

    @property
    def event_name(self) -> str:
        """``ObjectCreated:PutObject`` and the like: OSS sends it without the ``oss:`` prefix."""
        return str(self.raw.get("eventName") or "")

    @property
    def event_source(self) -> str:
        return str(self.raw.get("eventSource") or "")

    @property
    def is_object_created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")

    @property
    def event_time_text(self) -> str:
        return str(self.raw.get("eventTime") or "")

    @property
    def event_time(self) -> datetime | None:
        """``eventTime`` as an aware UTC datetime; None when absent or unreadable."""
        text = self.event_time_text
        if not text:
            return None
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)

    @property
    def region(self) -> str:
        return str(self.raw.get("region") or "")

    @property
    def request_id(self) -> str:
        return str(_mapping(self.raw.get("responseElements")).get("requestId") or "")

    @property
    def _oss(self) -> Mapping[str, Any]:
        return _mapping(self.raw.get("oss"))

    @property
    def _object(self) -> Mapping[str, Any]:
        return _mapping(self._oss.get("object"))

    @property
    def bucket(self) -> str:
        return str(_mapping(self._oss.get("bucket")).get("name") or "")

    @property
    def bucket_arn(self) -> str:
        return str(_mapping(self._oss.get("bucket")).get("arn") or "")

    @property
    def raw_key(self) -> str:
        """The key as the event spells it."""
        return str(self._object.get("key") or "")

    @property
    def key(self) -> str:
        """The object key, URL-decoded. Whether OSS encodes special characters in event keys is not
        documented (reference/fc_reference.md §2.1): both spellings are read. The keys this service
        writes never contain ``%``, so decoding cannot change one of them."""
        raw = self.raw_key
        return unquote(raw) if "%" in raw else raw

    @property
    def size(self) -> int:
        try:
            return max(0, int(self._object.get("size") or 0))
        except (TypeError, ValueError):
            return 0

    @property
    def etag(self) -> str:
        """Upper-case hex without quotes, as OSS sends it and the stores report it."""
        return str(self._object.get("eTag") or "").strip('"').upper()

    @property
    def dedupe_key(self) -> str:
        """What names this upload across redeliveries: the same object (same bytes) in the same place."""
        return f"oss:{self.bucket}/{self.key}/{self.etag}"


class OssEvent:
    """An FC OSS trigger event: ``OssEvent.parse(event)``, then ``for record in event.records``."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"OssEvent({list(self.records)!r})"

    @staticmethod
    def is_oss_event(data: Any) -> bool:
        """A JSON object whose ``events`` are all OSS records: what an OSS trigger delivers."""
        if not isinstance(data, Mapping):
            return False
        events = data.get("events")
        return (isinstance(events, list) and bool(events)
                and all(isinstance(e, Mapping) and e.get("eventSource") == _SOURCE for e in events))

    @classmethod
    def parse(cls, data: Any) -> "OssEvent":
        """From the event as FC passes it (bytes, str or an already decoded dict)."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            try:
                data = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidOssEvent("event is not UTF-8 JSON") from None
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise InvalidOssEvent("event is not valid JSON") from None
        if isinstance(data, OssEvent):
            return data
        if not cls.is_oss_event(data):
            raise InvalidOssEvent("not an OSS event: expected {\"events\": [{\"eventSource\": \"acs:oss\", ...}]}")
        return cls(data)

    @property
    def records(self) -> tuple[OssEventRecord, ...]:
        events = self.raw.get("events")
        return tuple(OssEventRecord(e) for e in events if isinstance(e, Mapping)) if isinstance(events, list) else ()

    @property
    def record(self) -> OssEventRecord:
        """The first record (OSS sends one per event in practice)."""
        records = self.records
        if not records:
            raise InvalidOssEvent("the event has no records")
        return records[0]

    def __iter__(self) -> Iterator[OssEventRecord]:
        return iter(self.records)


def _event_time(when: datetime) -> str:
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"  # the sample's format


def build_oss_event(*, bucket: str, key: str, size: int, etag: str, event_name: str = PUT_OBJECT,
                    region: str = "local", account_id: str = "local", source_ip: str = "127.0.0.1",
                    request_id: str | None = None, event_time: datetime | None = None) -> dict[str, Any]:
    """The FC OSS event JSON for one created object, key for key as in reference/fc3/event-oss.json.

    ``event_name`` is written without ``oss:``, as OSS sends it (triggers list it with the prefix).
    """
    import hashlib  # only the local store builds events: the cloud entry does not pay for these
    import uuid

    name = event_name[4:] if event_name.startswith("oss:") else event_name
    return {"events": [{
        "eventName": name,
        "eventSource": _SOURCE,
        "eventTime": _event_time(event_time or datetime.now(timezone.utc)),
        "eventVersion": "1.0",
        "oss": {
            "bucket": {"arn": f"acs:oss:{region}:{account_id}:{bucket}", "name": bucket,
                       "ownerIdentity": account_id, "virtualBucket": ""},
            # a store without the previous size to subtract: a new object's delta is its size
            "object": {"deltaSize": size, "eTag": etag, "key": key, "size": size},
            "ossSchemaVersion": "1.0",
            "ruleId": hashlib.sha1(f"{bucket}:{name}".encode()).hexdigest(),
        },
        "region": region,
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"requestId": request_id or uuid.uuid4().hex[:24].upper()},
        "userIdentity": {"principalId": account_id},
    }]}
