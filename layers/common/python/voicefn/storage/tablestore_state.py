"""Tablestore StateStore (cloud), on the official ``tablestore`` SDK.

Tables (all prefixed, ``voicefn_`` by default):

==============  ==================================  ============================================
table           primary key                         attribute columns
==============  ==================================  ============================================
history         user_id, seq (auto-increment)        type, idem_key, record (JSON)
history_idem    user_id, idem_key                    token, claimed_at, seq
tasks           task_id                              owner, kind, status, created_at raw; others JSON
voices          owner, voice_id                      target_model, prefix, created_at raw; others JSON
voice_owner     voice_id                             owner (so a voice can be found by id alone)
settings        user_id                              v_<field> (JSON), _updated_at
events          event_key                            owner, first_seen, outcome (JSON), outcome_at
cache           cache_key                            value (JSON), updated_at
==============  ==================================  ============================================

Every blocking SDK call runs in a worker thread; the SDK is imported lazily (cold start).
Listing (history totals, voices, tasks) scans a range: fine at this product's sizes (a user's
history, at most 1000 voices), and honest about cost in the docstrings below.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, Callable, Iterator, TypeVar

from voicefn.storage import records
from voicefn.storage.records import dumps

T = TypeVar("T")

_CONDITION_FAILED = "OTSConditionCheckFail"
_TASK_RAW = ("owner", "kind", "status", "created_at")
_VOICE_RAW = ("target_model", "prefix", "created_at")


class _DropExpectedConditionFailures(logging.Filter):
    """The SDK logs every failed condition at ERROR; for claims and creates that is the answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _CONDITION_FAILED not in record.getMessage()


def _ots() -> Any:
    import tablestore

    return tablestore


def _is_condition_failure(exc: BaseException) -> bool:
    get_code = getattr(exc, "get_error_code", None)
    return callable(get_code) and get_code() == _CONDITION_FAILED


def _encode(values: dict[str, Any], raw: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Columns for ``values``: the ``raw`` fields as plain strings (filters and conditions compare
    them), everything else as JSON text."""
    columns = []
    for name, value in values.items():
        if name in raw:
            if not isinstance(value, str):
                raise ValueError(f"field {name!r} must be a string")
            columns.append((name, value))
        else:
            columns.append((name, dumps(value)))
    return columns


def _decode(row: Any, raw: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {name: value for name, value in row.primary_key}
    for name, value, _ts in row.attribute_columns:
        out[name] = value if name in raw else json.loads(value)
    return out


class TablestoreStateStore:
    """StateStore on Tablestore through an ``OTSClient`` (or anything with its methods)."""

    def __init__(self, client: Any, table_prefix: str = "voicefn_", *,
                 claim_stale_s: float = 30.0) -> None:
        self.client = client
        self.prefix = table_prefix
        # how long a crashed writer's idempotency claim blocks others before they take over
        self.claim_stale_s = claim_stale_s
        logger = getattr(client, "logger", None)
        if isinstance(logger, logging.Logger) and not any(
                isinstance(f, _DropExpectedConditionFailures) for f in logger.filters):
            logger.addFilter(_DropExpectedConditionFailures())

    def __repr__(self) -> str:
        return f"TablestoreStateStore(prefix={self.prefix!r})"

    @classmethod
    def from_settings(cls, settings: Any, environ: dict[str, str] | None = None,
                      table_prefix: str = "voicefn_") -> "TablestoreStateStore":
        """An ``OTSClient`` from ``OTS_ENDPOINT``/``OTS_INSTANCE`` and FC's STS credentials."""
        if not settings.ots_endpoint or not settings.ots_instance:
            raise RuntimeError("set OTS_ENDPOINT and OTS_INSTANCE to use the Tablestore state store")
        key_id, secret, token = settings.role_credentials(environ)
        if not key_id or not secret:
            raise RuntimeError("Tablestore needs ALIBABA_CLOUD_ACCESS_KEY_ID and "
                               "ALIBABA_CLOUD_ACCESS_KEY_SECRET (give the function a role)")
        ots = _ots()
        client = ots.OTSClient(settings.ots_endpoint, key_id, secret, settings.ots_instance,
                               sts_token=token,
                               socket_timeout=10, logger_name="voicefn.tablestore")
        return cls(client, table_prefix)

    def _t(self, name: str) -> str:
        return self.prefix + name

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    # -- provisioning -----------------------------------------------------------------------

    def create_tables(self) -> None:
        """Create every table (blocking; existing tables are left alone). New tables take a few
        seconds to load in real Tablestore before they accept writes."""
        ots = _ots()
        schemas: dict[str, list[tuple[Any, ...]]] = {
            "history": [("user_id", "STRING"), ("seq", "INTEGER", ots.PK_AUTO_INCR)],
            "history_idem": [("user_id", "STRING"), ("idem_key", "STRING")],
            "tasks": [("task_id", "STRING")],
            "voices": [("owner", "STRING"), ("voice_id", "STRING")],
            "voice_owner": [("voice_id", "STRING")],
            "settings": [("user_id", "STRING")],
            "events": [("event_key", "STRING")],
            "cache": [("cache_key", "STRING")],
        }
        for name, schema in schemas.items():
            try:
                self.client.create_table(ots.TableMeta(self._t(name), schema),
                                         ots.TableOptions(time_to_live=-1, max_version=1),
                                         ots.ReservedThroughput(ots.CapacityUnit(0, 0)))
            except ots.OTSServiceError as exc:
                if exc.get_error_code() != "OTSObjectAlreadyExist":
                    raise

    # -- SDK helpers (sync) -----------------------------------------------------------------

    def _get(self, table: str, pk: list[tuple[str, Any]]) -> Any:
        _, row, _ = self.client.get_row(self._t(table), pk, max_version=1)
        return row

    def _put_if_absent(self, table: str, pk: list[tuple[str, Any]], columns: list[tuple[str, Any]]) -> bool:
        ots = _ots()
        try:
            self.client.put_row(self._t(table), ots.Row(pk, columns),
                                ots.Condition(ots.RowExistenceExpectation.EXPECT_NOT_EXIST))
            return True
        except ots.OTSServiceError as exc:
            if _is_condition_failure(exc):
                return False
            raise

    def _scan(self, table: str, start: list[tuple[str, Any]], end: list[tuple[str, Any]], *,
              backward: bool = False, column_filter: Any = None) -> Iterator[Any]:
        """Every row in [start, end) (or (end, start] backward), page by page."""
        ots = _ots()
        direction = ots.Direction.BACKWARD if backward else ots.Direction.FORWARD
        next_start: Any = start
        while next_start:
            _, next_start, rows, _ = self.client.get_range(
                self._t(table), direction, next_start, end, column_filter=column_filter,
                max_version=1, limit=500)
            yield from rows

    @staticmethod
    def _eq(column: str, value: Any) -> Any:
        ots = _ots()
        return ots.SingleColumnCondition(column, value, ots.ComparatorType.EQUAL, pass_if_missing=False)

    @classmethod
    def _field_is(cls, column: str, value: Any, raw: tuple[str, ...]) -> Any:
        """``column`` holds ``value`` as ``_encode`` writes it; None: the column is absent."""
        ots = _ots()
        if value is None:
            # Tablestore has no "missing" test: equal to "" and unequal to "" hold together only
            # when both pass for a missing column
            cond = ots.CompositeColumnCondition(ots.LogicalOperator.AND)
            for comparator in (ots.ComparatorType.EQUAL, ots.ComparatorType.NOT_EQUAL):
                cond.add_sub_condition(ots.SingleColumnCondition(column, "", comparator, pass_if_missing=True))
            return cond
        return cls._eq(column, _encode({column: value}, raw)[0][1])

    @classmethod
    def _any_of(cls, column: str, values: tuple[str, ...]) -> Any:
        if len(values) == 1:
            return cls._eq(column, values[0])
        ots = _ots()
        cond = ots.CompositeColumnCondition(ots.LogicalOperator.OR)
        for value in values:
            cond.add_sub_condition(cls._eq(column, value))
        return cond

    @staticmethod
    def _all_of(conditions: list[Any]) -> Any:
        if not conditions:
            return None
        if len(conditions) == 1:
            return conditions[0]
        ots = _ots()
        cond = ots.CompositeColumnCondition(ots.LogicalOperator.AND)
        for sub in conditions:
            cond.add_sub_condition(sub)
        return cond

    # -- history ----------------------------------------------------------------------------

    def _write_history(self, user_id: str, row: dict[str, Any], idem_key: str | None) -> int:
        ots = _ots()
        columns: list[tuple[str, Any]] = [("record", dumps(row))]
        if isinstance(row.get("type"), str):
            columns.append(("type", row["type"]))
        if idem_key is not None:
            columns.append(("idem_key", idem_key))
        _, returned = self.client.put_row(
            self._t("history"), ots.Row([("user_id", user_id), ("seq", ots.PK_AUTO_INCR)], columns),
            ots.Condition(ots.RowExistenceExpectation.IGNORE), return_type=ots.ReturnType.RT_PK)
        return int(dict(returned.primary_key)["seq"])

    def _find_history_by_key(self, user_id: str, idem_key: str) -> int | None:
        ots = _ots()
        for row in self._scan("history", [("user_id", user_id), ("seq", ots.INF_MAX)],
                              [("user_id", user_id), ("seq", ots.INF_MIN)], backward=True,
                              column_filter=self._eq("idem_key", idem_key)):
            return int(dict(row.primary_key)["seq"])
        return None

    def _add_history_once(self, user_id: str, row: dict[str, Any], idem_key: str) -> int:
        """Exactly one history row per (user, key), even with concurrent or crashed writers:
        claim the key with a conditional put, write the row, then publish its seq on the claim."""
        ots = _ots()
        idem_pk = [("user_id", user_id), ("idem_key", idem_key)]
        token = uuid.uuid4().hex
        delay = 0.01
        while True:
            claim = self._get("history_idem", idem_pk)
            attrs = {n: v for n, v, _ in claim.attribute_columns} if claim else {}
            if "seq" in attrs:
                return int(attrs["seq"])
            now_ms = int(time.time() * 1000)
            if claim is None:
                if not self._put_if_absent("history_idem", idem_pk,
                                           [("token", token), ("claimed_at", now_ms)]):
                    continue  # someone claimed it between our read and write: read again
                break
            if now_ms - int(attrs.get("claimed_at", 0)) > self.claim_stale_s * 1000:
                # the claimer looks dead: take over, but it may have written the row already
                try:
                    self.client.update_row(
                        self._t("history_idem"),
                        ots.Row(idem_pk, {"put": [("token", token), ("claimed_at", now_ms)]}),
                        ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST,
                                      self._eq("token", attrs.get("token", ""))))
                except ots.OTSServiceError as exc:
                    if _is_condition_failure(exc):
                        continue
                    raise
                found = self._find_history_by_key(user_id, idem_key)
                if found is not None:
                    self._publish_seq(idem_pk, token, found)
                    return found
                break
            time.sleep(delay)  # another writer is on it: wait for its seq
            delay = min(delay * 2, 0.2)
        seq = self._write_history(user_id, row, idem_key)
        self._publish_seq(idem_pk, token, seq)
        return seq

    def _publish_seq(self, idem_pk: list[tuple[str, Any]], token: str, seq: int) -> None:
        ots = _ots()
        try:
            self.client.update_row(self._t("history_idem"), ots.Row(idem_pk, {"put": [("seq", seq)]}),
                                   ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST,
                                                 self._eq("token", token)))
        except ots.OTSServiceError as exc:
            # a taker-over replaced our claim; it finds our row by idem_key and publishes it
            if not _is_condition_failure(exc):
                raise

    async def add_history(self, user_id: str, record: dict[str, Any],
                          idempotency_key: str | None = None) -> int:
        row = records.history_row(record)
        if idempotency_key is None:
            return await self._run(self._write_history, user_id, row, None)
        return await self._run(self._add_history_once, user_id, row, idempotency_key)

    async def list_history(self, user_id: str, *, type: str | None = None, page: int = 1,
                           page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
        """Scans the user's partition newest first (the total needs a full count)."""
        records.check_page(page, page_size, 1)
        ots = _ots()
        first = (page - 1) * page_size

        def _list() -> tuple[list[dict[str, Any]], int]:
            items: list[dict[str, Any]] = []
            total = 0
            for row in self._scan("history", [("user_id", user_id), ("seq", ots.INF_MAX)],
                                  [("user_id", user_id), ("seq", ots.INF_MIN)], backward=True,
                                  column_filter=self._eq("type", type) if type is not None else None):
                if first <= total < first + page_size:
                    items.append(self._history_item(row))
                total += 1
            return items, total

        return await self._run(_list)

    @staticmethod
    def _history_item(row: Any) -> dict[str, Any]:
        attrs = {n: v for n, v, _ in row.attribute_columns}
        return {"id": int(dict(row.primary_key)["seq"]), **json.loads(attrs["record"])}

    async def get_history(self, user_id: str, record_id: int) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            row = self._get("history", [("user_id", user_id), ("seq", int(record_id))])
            return self._history_item(row) if row else None

        return await self._run(_get)

    async def update_history(self, user_id: str, record_id: int, changes: dict[str, Any]) -> bool:
        """Read, merge, then write only if ``record`` is still what was read (compare-and-set
        on the JSON column); a lost race reads again, so no concurrent change is lost."""
        changes = records.history_changes(changes)
        ots = _ots()
        pk = [("user_id", user_id), ("seq", int(record_id))]

        def _update() -> bool:
            while True:
                row = self._get("history", pk)
                if row is None:
                    return False
                attrs = {n: v for n, v, _ in row.attribute_columns}
                merged = records.merge_fields(json.loads(attrs["record"]), changes)
                updates: dict[str, list[Any]] = {"put": [("record", dumps(merged))]}
                if isinstance(merged.get("type"), str):
                    updates["put"].append(("type", merged["type"]))  # list_history filters on it
                elif "type" in attrs:
                    updates["delete_all"] = ["type"]
                condition = ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST,
                                          self._eq("record", attrs["record"]))
                try:
                    self.client.update_row(self._t("history"), ots.Row(pk, updates), condition)
                    return True
                except ots.OTSServiceError as exc:
                    if not _is_condition_failure(exc):
                        raise

        return await self._run(_update)

    # -- tasks ------------------------------------------------------------------------------

    async def create_task(self, task: dict[str, Any]) -> bool:
        row = records.new_task(task)
        columns = _encode({k: v for k, v in row.items() if k != "task_id"}, _TASK_RAW)
        return await self._run(self._put_if_absent, "tasks", [("task_id", row["task_id"])], columns)

    async def get_task(self, task_id: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            row = self._get("tasks", [("task_id", task_id)])
            return _decode(row, _TASK_RAW) if row else None

        return await self._run(_get)

    async def update_task(self, task_id: str, changes: dict[str, Any],
                          expect_status: str | tuple[str, ...] | None = None,
                          expect_fields: dict[str, Any] | None = None) -> bool:
        changes = records.task_changes(changes)
        expected = records.expected_statuses(expect_status)
        fields = records.expected_fields(expect_fields) or {}
        ots = _ots()
        updates: dict[str, list[Any]] = {
            "put": _encode({k: v for k, v in changes.items() if v is not None}, _TASK_RAW)}
        deletes = [k for k, v in changes.items() if v is None]
        if deletes:
            updates["delete_all"] = deletes
        if expected is not None and not expected:
            return False
        conditions = [self._any_of("status", expected)] if expected else []
        conditions += [self._field_is(name, value, _TASK_RAW) for name, value in fields.items()]
        condition = ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST, self._all_of(conditions))

        def _update() -> bool:
            try:
                # one conditional write: the status check and the change are atomic
                self.client.update_row(self._t("tasks"), ots.Row([("task_id", task_id)], updates), condition)
                return True
            except ots.OTSServiceError as exc:
                if _is_condition_failure(exc):
                    return False
                raise

        return await self._run(_update)

    async def list_tasks(self, *, owner: str | None = None, kind: str | None = None,
                         statuses: tuple[str, ...] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """A filtered scan of the whole tasks table (tasks are few and short-lived)."""
        if statuses is not None and not statuses:
            return []
        ots = _ots()
        conditions = []
        if owner is not None:
            conditions.append(self._eq("owner", owner))
        if kind is not None:
            conditions.append(self._eq("kind", kind))
        if statuses is not None:
            conditions.append(self._any_of("status", tuple(statuses)))
        column_filter = self._all_of(conditions)

        def _list() -> list[dict[str, Any]]:
            tasks = [_decode(row, _TASK_RAW) for row in self._scan(
                "tasks", [("task_id", ots.INF_MIN)], [("task_id", ots.INF_MAX)], column_filter=column_filter)]
            tasks.sort(key=records.task_sort_key)
            return tasks[:max(0, int(limit))]

        return await self._run(_list)

    # -- voices -----------------------------------------------------------------------------

    def _voice_owner(self, voice_id: str) -> str | None:
        row = self._get("voice_owner", [("voice_id", voice_id)])
        return dict((n, v) for n, v, _ in row.attribute_columns).get("owner") if row else None

    def _get_voice_sync(self, voice_id: str) -> dict[str, Any] | None:
        owner = self._voice_owner(voice_id)
        if owner is None:
            return None
        row = self._get("voices", [("owner", owner), ("voice_id", voice_id)])
        return _decode(row, _VOICE_RAW) if row else None

    async def put_voice(self, voice: dict[str, Any]) -> None:
        ots = _ots()

        records.new_voice(voice, None)  # validate before touching the tables

        def _put() -> None:
            existing = self._get_voice_sync(voice["voice_id"])
            row = records.new_voice(voice, existing)
            if existing is not None and existing["owner"] != row["owner"]:
                self.client.delete_row(self._t("voices"), [("owner", existing["owner"]),
                                                           ("voice_id", row["voice_id"])], None)
            # the lookup row first: a voice row is never unreachable by id
            self.client.put_row(self._t("voice_owner"),
                                ots.Row([("voice_id", row["voice_id"])], [("owner", row["owner"])]))
            attrs = {k: v for k, v in row.items() if k not in ("owner", "voice_id")}
            self.client.put_row(self._t("voices"),
                                ots.Row([("owner", row["owner"]), ("voice_id", row["voice_id"])],
                                        _encode(attrs, _VOICE_RAW)))

        await self._run(_put)

    async def get_voice(self, voice_id: str) -> dict[str, Any] | None:
        return await self._run(self._get_voice_sync, voice_id)

    async def list_voices(self, owner: str, *, model: str | None = None, prefix: str | None = None,
                          page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        records.check_page(page, page_size, 0)
        ots = _ots()
        conditions = []
        if model is not None:
            conditions.append(self._eq("target_model", model))
        if prefix is not None:
            conditions.append(self._eq("prefix", prefix))
        column_filter = self._all_of(conditions)

        def _list() -> tuple[list[dict[str, Any]], int]:
            voices = [_decode(row, _VOICE_RAW) for row in self._scan(
                "voices", [("owner", owner), ("voice_id", ots.INF_MIN)],
                [("owner", owner), ("voice_id", ots.INF_MAX)], column_filter=column_filter)]
            voices.sort(key=records.voice_sort_key)
            return voices[page * page_size:(page + 1) * page_size], len(voices)

        return await self._run(_list)

    def _all_voices(self) -> list[dict[str, Any]]:
        """Every voice row: a scan of the whole table (at most ~1000 voices per DashScope account)."""
        ots = _ots()
        return [_decode(row, _VOICE_RAW) for row in self._scan(
            "voices", [("owner", ots.INF_MIN), ("voice_id", ots.INF_MIN)],
            [("owner", ots.INF_MAX), ("voice_id", ots.INF_MAX)])]

    async def list_visible_voices(self, user_id: str, *, include_public: bool = True, gender: str | None = None,
                                  page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        """Scans the whole voices table when public ones are included (they may be anyone's)."""
        records.check_page(page, page_size, 0)
        ots = _ots()

        def _list() -> tuple[list[dict[str, Any]], int]:
            if include_public:
                rows = self._all_voices()
            else:
                rows = [_decode(row, _VOICE_RAW) for row in self._scan(
                    "voices", [("owner", user_id), ("voice_id", ots.INF_MIN)],
                    [("owner", user_id), ("voice_id", ots.INF_MAX)])]
            voices = [v for v in rows if (v.get("owner") == user_id or (include_public and v.get("public") is True))
                      and (gender is None or v.get("gender") == gender)]
            voices.sort(key=records.voice_sort_key)
            return voices[page * page_size:(page + 1) * page_size], len(voices)

        return await self._run(_list)

    async def count_voices(self, *, owner: str | None = None, enrolled_by: str | None = None) -> int:
        """A range scan of the owner's voices, or of the whole table without ``owner``."""
        ots = _ots()

        def _count() -> int:
            if owner is None:
                rows = self._all_voices()
            else:
                rows = [_decode(row, _VOICE_RAW) for row in self._scan(
                    "voices", [("owner", owner), ("voice_id", ots.INF_MIN)],
                    [("owner", owner), ("voice_id", ots.INF_MAX)])]
            return sum(1 for v in rows if enrolled_by is None or v.get("enrolled_by") == enrolled_by)

        return await self._run(_count)

    async def delete_voice(self, voice_id: str) -> bool:
        ots = _ots()

        def _delete() -> bool:
            owner = self._voice_owner(voice_id)
            if owner is None:
                return False
            existed = True
            try:
                self.client.delete_row(self._t("voices"), [("owner", owner), ("voice_id", voice_id)],
                                       ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST))
            except ots.OTSServiceError as exc:
                if not _is_condition_failure(exc):
                    raise
                existed = False
            self.client.delete_row(self._t("voice_owner"), [("voice_id", voice_id)], None)
            return existed

        return await self._run(_delete)

    # -- user settings --------------------------------------------------------------------------

    async def get_user_settings(self, user_id: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            row = self._get("settings", [("user_id", user_id)])
            if row is None:
                return None
            return {n[2:]: json.loads(v) for n, v, _ in row.attribute_columns if n.startswith("v_")}

        return await self._run(_get)

    async def put_user_settings(self, user_id: str, values: dict[str, Any]) -> None:
        records.check_field_names(values, "settings")
        ots = _ots()
        updates: dict[str, list[Any]] = {
            # _updated_at keeps the row alive even when every field is deleted
            "put": [(f"v_{k}", dumps(v)) for k, v in values.items() if v is not None]
            + [("_updated_at", records.now_iso())]}
        deletes = [f"v_{k}" for k, v in values.items() if v is None]
        if deletes:
            updates["delete_all"] = deletes

        def _put() -> None:
            # update_row merges server-side: concurrent writers of different fields both win
            self.client.update_row(self._t("settings"), ots.Row([("user_id", user_id)], updates),
                                   ots.Condition(ots.RowExistenceExpectation.IGNORE))

        await self._run(_put)

    # -- events -----------------------------------------------------------------------------

    async def claim_event(self, event_key: str, owner: str = "") -> bool:
        return await self._run(self._put_if_absent, "events", [("event_key", event_key)],
                               [("owner", owner), ("first_seen", records.now_iso())])

    async def get_event(self, event_key: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            row = self._get("events", [("event_key", event_key)])
            if row is None:
                return None
            attrs = {n: v for n, v, _ in row.attribute_columns}
            outcome = attrs.get("outcome")
            return {"event_key": event_key, "owner": attrs.get("owner", ""),
                    "first_seen": attrs.get("first_seen"),
                    "outcome": json.loads(outcome) if outcome is not None else None,
                    "outcome_at": attrs.get("outcome_at")}

        return await self._run(_get)

    async def set_event_outcome(self, event_key: str, outcome: dict[str, Any]) -> None:
        ots = _ots()
        pk = [("event_key", event_key)]

        def _set() -> None:
            now = records.now_iso()
            while True:
                try:
                    self.client.update_row(
                        self._t("events"), ots.Row(pk, {"put": [("outcome", dumps(outcome)), ("outcome_at", now)]}),
                        ots.Condition(ots.RowExistenceExpectation.EXPECT_EXIST))
                    return
                except ots.OTSServiceError as exc:
                    if not _is_condition_failure(exc):
                        raise
                # never claimed: record it as seen now, with its outcome
                if self._put_if_absent("events", pk, [("owner", ""), ("first_seen", now),
                                                       ("outcome", dumps(outcome)), ("outcome_at", now)]):
                    return

        await self._run(_set)

    # -- cache ------------------------------------------------------------------------------

    async def get_cache(self, cache_key: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            row = self._get("cache", [("cache_key", cache_key)])
            if row is None:
                return None
            value: dict[str, Any] = json.loads(dict((n, v) for n, v, _ in row.attribute_columns)["value"])
            return value

        return await self._run(_get)

    async def put_cache(self, cache_key: str, value: dict[str, Any]) -> None:
        ots = _ots()
        row = ots.Row([("cache_key", cache_key)], [("value", dumps(value)), ("updated_at", records.now_iso())])
        await self._run(self.client.put_row, self._t("cache"), row)

    async def cache_entries(self) -> list[tuple[str, dict[str, Any]]]:
        ots = _ots()

        def _all() -> list[tuple[str, dict[str, Any]]]:
            rows = self._scan("cache", [("cache_key", ots.INF_MIN)], [("cache_key", ots.INF_MAX)])
            return [(str(row.primary_key[0][1]),
                     json.loads(dict((n, v) for n, v, _ in row.attribute_columns)["value"])) for row in rows]

        return await self._run(_all)

    async def clear_cache(self) -> int:
        ots = _ots()

        def _clear() -> int:
            keys = [row.primary_key for row in
                    self._scan("cache", [("cache_key", ots.INF_MIN)], [("cache_key", ots.INF_MAX)])]
            for pk in keys:
                self.client.delete_row(self._t("cache"), pk, None)
            return len(keys)

        return await self._run(_clear)
