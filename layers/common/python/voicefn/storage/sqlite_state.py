"""SQLite StateStore (local runtime and tests).

One connection guarded by a lock. WAL mode and ``BEGIN IMMEDIATE`` make read-modify-write
operations safe across processes too (``voicefn serve`` and a CLI may share the file). Nested
values are JSON text.

Where a call runs: a worker thread by default, so the event loop never blocks on disk. Point
operations on the hot path (a cache entry, a voice, a rate bucket, a spend hold) run on the loop
itself: their SQL takes 5-30 us while a thread hop takes about 200 us here (issue 13). They never
wait there: the connection's lock is only tried, SQLite's busy timeout is 0 for them (another
process writing means "go to the thread"), and the WAL is checkpointed from the thread, never by
a commit on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from voicefn.storage import records
from voicefn.storage.records import dumps

T = TypeVar("T")

_BUSY_TIMEOUT_MS = 10_000
_CHECKPOINT_CHANGES = 1000  # rows written between two WAL checkpoints


def _is_busy(err: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock."""
    text = str(err).lower()
    return "locked" in text or "busy" in text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- AUTOINCREMENT: ids are never reused
    user_id TEXT NOT NULL,
    type TEXT,
    idempotency_key TEXT,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS history_idem ON history(user_id, idempotency_key);
CREATE INDEX IF NOT EXISTS history_user ON history(user_id, type, id);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_owner ON tasks(owner, created_at);
CREATE TABLE IF NOT EXISTS voices (
    voice_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    target_model TEXT,
    prefix TEXT,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS voices_owner ON voices(owner, created_at, voice_id);
CREATE TABLE IF NOT EXISTS settings (
    user_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    event_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    outcome TEXT,
    outcome_at TEXT
);
CREATE TABLE IF NOT EXISTS rates (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL            -- GCRA theoretical arrival time, epoch ms
);
CREATE TABLE IF NOT EXISTS spend (
    user_id TEXT NOT NULL,
    bucket TEXT NOT NULL,           -- YYYY-MM (month) or YYYY-MM-DD (day)
    spent INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, bucket)
);
CREATE TABLE IF NOT EXISTS cache (
    cache_key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


class SqliteStateStore:
    """StateStore on one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # autocommit mode: transactions are explicit (BEGIN IMMEDIATE) where they matter
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                     timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        # commits never checkpoint (one could fsync on the loop): the worker thread does it
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn.executescript(_SCHEMA)
        self._checkpointed_at = 0  # the connection's total_changes at the last checkpoint
        self._checkpoints: set[asyncio.Future[Any]] = set()

    def __repr__(self) -> str:
        return f"SqliteStateStore({str(self.path)!r})"

    @classmethod
    def from_settings(cls, settings: Any) -> "SqliteStateStore":
        return cls(settings.sqlite_path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._locked, fn, *args)

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            try:
                return fn(*args)
            finally:
                if self._conn.total_changes - self._checkpointed_at >= _CHECKPOINT_CHANGES:
                    self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the WAL into the database (the lock is held). PASSIVE: never waits on readers."""
        with contextlib.suppress(sqlite3.Error):  # busy, or closed meanwhile (shutdown): next time
            self._checkpointed_at = self._conn.total_changes
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _quick(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a point operation on the loop when that cannot block, else as :meth:`_run`."""
        if not self._lock.acquire(blocking=False):
            return await self._run(fn, *args)  # a worker holds the connection
        try:
            self._conn.execute("PRAGMA busy_timeout=0")
            try:
                return fn(*args)
            except sqlite3.OperationalError as err:
                if not _is_busy(err):
                    raise
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            finally:
                self._conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
                if self._conn.total_changes - self._checkpointed_at >= _CHECKPOINT_CHANGES:
                    self._checkpointed_at = self._conn.total_changes
                    self._schedule_checkpoint()
        finally:
            self._lock.release()
        return await self._run(fn, *args)  # another process holds the write lock: wait there

    def _schedule_checkpoint(self) -> None:
        job = asyncio.get_running_loop().run_in_executor(None, self._locked, self._checkpoint)
        self._checkpoints.add(job)
        job.add_done_callback(self._checkpoints.discard)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- history ----------------------------------------------------------------------------

    async def add_history(self, user_id: str, record: dict[str, Any],
                          idempotency_key: str | None = None) -> int:
        row = records.history_row(record)

        def _add() -> int:
            with self._transaction() as db:
                cur = db.execute(
                    "INSERT OR IGNORE INTO history (user_id, type, idempotency_key, created_at, record)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (user_id, row.get("type"), idempotency_key, row["created_at"], dumps(row)))
                if cur.rowcount == 1:
                    assert cur.lastrowid is not None  # set by the INSERT that just happened
                    return int(cur.lastrowid)
                # the unique (user_id, idempotency_key) index said: recorded before
                found = db.execute("SELECT id FROM history WHERE user_id = ? AND idempotency_key = ?",
                                   (user_id, idempotency_key)).fetchone()
                return int(found["id"])

        return await self._run(_add)

    async def list_history(self, user_id: str, *, type: str | None = None, page: int = 1,
                           page_size: int = 20) -> tuple[list[dict[str, Any]], int]:
        records.check_page(page, page_size, 1)
        where, args = "user_id = ?", [user_id]
        if type is not None:
            where, args = where + " AND type = ?", args + [type]

        def _list() -> tuple[list[dict[str, Any]], int]:
            total = self._conn.execute(f"SELECT COUNT(*) FROM history WHERE {where}", args).fetchone()[0]
            rows = self._conn.execute(
                f"SELECT id, record FROM history WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                args + [page_size, (page - 1) * page_size]).fetchall()
            return [{"id": r["id"], **json.loads(r["record"])} for r in rows], int(total)

        return await self._run(_list)

    async def get_history(self, user_id: str, record_id: int) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT id, record FROM history WHERE user_id = ? AND id = ?",
                                   (user_id, int(record_id))).fetchone()
            return {"id": r["id"], **json.loads(r["record"])} if r else None

        return await self._run(_get)

    async def update_history(self, user_id: str, record_id: int, changes: dict[str, Any]) -> bool:
        changes = records.history_changes(changes)

        def _update() -> bool:
            with self._transaction() as db:
                r = db.execute("SELECT record FROM history WHERE user_id = ? AND id = ?",
                               (user_id, int(record_id))).fetchone()
                if r is None:
                    return False
                row = records.merge_fields(json.loads(r["record"]), changes)
                # type and created_at are also columns (list filters on type): keep them in step
                db.execute("UPDATE history SET type = ?, created_at = ?, record = ? WHERE id = ?",
                           (row.get("type"), str(row.get("created_at", "")), dumps(row),
                            int(record_id)))
                return True

        return await self._run(_update)

    # -- tasks ------------------------------------------------------------------------------

    async def create_task(self, task: dict[str, Any]) -> bool:
        row = records.new_task(task)

        def _create() -> bool:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO tasks (task_id, owner, kind, status, created_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (row["task_id"], row["owner"], row["kind"], row["status"], row["created_at"], dumps(row)))
            return cur.rowcount == 1

        return await self._run(_create)

    async def get_task(self, task_id: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT data FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
            return json.loads(r["data"]) if r else None

        return await self._run(_get)

    async def update_task(self, task_id: str, changes: dict[str, Any],
                          expect_status: str | tuple[str, ...] | None = None,
                          expect_fields: dict[str, Any] | None = None) -> bool:
        changes = records.task_changes(changes)
        expected = records.expected_statuses(expect_status)
        fields = records.expected_fields(expect_fields) or {}

        def _update() -> bool:
            with self._transaction() as db:
                r = db.execute("SELECT data FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
                if r is None:
                    return False
                task = json.loads(r["data"])
                if expected is not None and task.get("status") not in expected:
                    return False
                if any(task.get(name) != value or (value is not None and type(task.get(name)) is not type(value))
                       for name, value in fields.items()):
                    return False
                for name, value in changes.items():
                    if value is None:
                        task.pop(name, None)
                    else:
                        task[name] = value
                db.execute("UPDATE tasks SET status = ?, data = ? WHERE task_id = ?",
                           (task["status"], dumps(task), task_id))
                return True

        return await self._run(_update)

    async def list_tasks(self, *, owner: str | None = None, kind: str | None = None,
                         statuses: tuple[str, ...] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if owner is not None:
            clauses.append("owner = ?")
            args.append(owner)
        if kind is not None:
            clauses.append("kind = ?")
            args.append(kind)
        if statuses is not None:
            if not statuses:
                return []
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(statuses)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""

        def _list() -> list[dict[str, Any]]:
            rows = self._conn.execute(
                f"SELECT data FROM tasks {where} ORDER BY created_at, task_id LIMIT ?",
                args + [max(0, int(limit))]).fetchall()
            return [json.loads(r["data"]) for r in rows]

        return await self._run(_list)

    # -- voices -----------------------------------------------------------------------------

    async def put_voice(self, voice: dict[str, Any]) -> None:
        def _put() -> None:
            with self._transaction() as db:
                r = db.execute("SELECT data FROM voices WHERE voice_id = ?", (voice.get("voice_id"),)).fetchone()
                row = records.new_voice(voice, json.loads(r["data"]) if r else None)
                db.execute(
                    "INSERT OR REPLACE INTO voices (voice_id, owner, target_model, prefix, created_at, data)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (row["voice_id"], row["owner"], row.get("target_model"), row.get("prefix"),
                     row["created_at"], dumps(row)))

        await self._run(_put)

    async def get_voice(self, voice_id: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT data FROM voices WHERE voice_id = ?", (voice_id,)).fetchone()
            return json.loads(r["data"]) if r else None

        return await self._quick(_get)

    async def list_voices(self, owner: str, *, model: str | None = None, prefix: str | None = None,
                          page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        records.check_page(page, page_size, 0)
        where, args = "owner = ?", [owner]
        if model is not None:
            where, args = where + " AND target_model = ?", args + [model]
        if prefix is not None:
            where, args = where + " AND prefix = ?", args + [prefix]
        return await self._voice_page(where, args, page, page_size)

    async def _voice_page(self, where: str, args: list[Any], page: int,
                          page_size: int) -> tuple[list[dict[str, Any]], int]:
        """One page of the voices matching ``where`` (oldest first), and how many match."""
        def _list() -> tuple[list[dict[str, Any]], int]:
            total = self._conn.execute(f"SELECT COUNT(*) FROM voices WHERE {where}", args).fetchone()[0]
            rows = self._conn.execute(
                f"SELECT data FROM voices WHERE {where} ORDER BY created_at, voice_id LIMIT ? OFFSET ?",
                [*args, page_size, page * page_size]).fetchall()
            return [json.loads(r["data"]) for r in rows], int(total)

        return await self._run(_list)

    async def list_visible_voices(self, user_id: str, *, include_public: bool = True, gender: str | None = None,
                                  page: int = 0, page_size: int = 10) -> tuple[list[dict[str, Any]], int]:
        records.check_page(page, page_size, 0)
        where, args = "(owner = ?" + (" OR json_extract(data, '$.public') = 1)" if include_public else ")"), [user_id]
        if gender is not None:
            where, args = where + " AND json_extract(data, '$.gender') = ?", args + [gender]
        return await self._voice_page(where, args, page, page_size)

    async def count_voices(self, *, owner: str | None = None, enrolled_by: str | None = None) -> int:
        clauses: list[str] = ["1 = 1"]
        args: list[str] = []
        if owner is not None:
            clauses, args = clauses + ["owner = ?"], args + [owner]
        if enrolled_by is not None:
            clauses, args = clauses + ["json_extract(data, '$.enrolled_by') = ?"], args + [enrolled_by]

        def _count() -> int:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM voices WHERE {' AND '.join(clauses)}",
                                          args).fetchone()[0])

        return await self._run(_count)

    async def delete_voice(self, voice_id: str) -> bool:
        def _delete() -> bool:
            return self._conn.execute("DELETE FROM voices WHERE voice_id = ?", (voice_id,)).rowcount == 1

        return await self._run(_delete)

    # -- user settings --------------------------------------------------------------------------

    async def get_user_settings(self, user_id: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT data FROM settings WHERE user_id = ?", (user_id,)).fetchone()
            return json.loads(r["data"]) if r else None

        return await self._quick(_get)

    async def put_user_settings(self, user_id: str, values: dict[str, Any]) -> None:
        records.check_field_names(values, "settings")

        def _put() -> None:
            with self._transaction() as db:
                r = db.execute("SELECT data FROM settings WHERE user_id = ?", (user_id,)).fetchone()
                merged = json.loads(r["data"]) if r else {}
                for name, value in values.items():
                    if value is None:
                        merged.pop(name, None)
                    else:
                        merged[name] = value
                db.execute("INSERT OR REPLACE INTO settings (user_id, data, updated_at) VALUES (?, ?, ?)",
                           (user_id, dumps(merged), records.now_iso()))

        await self._run(_put)

    # -- events -----------------------------------------------------------------------------

    async def claim_event(self, event_key: str, owner: str = "") -> bool:
        def _claim() -> bool:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO events (event_key, owner, first_seen) VALUES (?, ?, ?)",
                (event_key, owner, records.now_iso()))
            return cur.rowcount == 1

        return await self._run(_claim)

    async def get_event(self, event_key: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT * FROM events WHERE event_key = ?", (event_key,)).fetchone()
            if r is None:
                return None
            return {"event_key": r["event_key"], "owner": r["owner"], "first_seen": r["first_seen"],
                    "outcome": json.loads(r["outcome"]) if r["outcome"] is not None else None,
                    "outcome_at": r["outcome_at"]}

        return await self._run(_get)

    async def set_event_outcome(self, event_key: str, outcome: dict[str, Any]) -> None:
        def _set() -> None:
            now = records.now_iso()
            self._conn.execute(
                "INSERT INTO events (event_key, owner, first_seen, outcome, outcome_at) VALUES (?, '', ?, ?, ?)"
                " ON CONFLICT(event_key) DO UPDATE SET outcome = excluded.outcome, outcome_at = excluded.outcome_at",
                (event_key, now, dumps(outcome), now))

        await self._run(_set)

    # -- cache ------------------------------------------------------------------------------

    async def get_cache(self, cache_key: str) -> dict[str, Any] | None:
        def _get() -> dict[str, Any] | None:
            r = self._conn.execute("SELECT value FROM cache WHERE cache_key = ?", (cache_key,)).fetchone()
            return json.loads(r["value"]) if r else None

        return await self._quick(_get)

    async def put_cache(self, cache_key: str, value: dict[str, Any]) -> None:
        def _put() -> None:
            self._conn.execute("INSERT OR REPLACE INTO cache (cache_key, value, updated_at) VALUES (?, ?, ?)",
                               (cache_key, dumps(value), records.now_iso()))

        await self._run(_put)

    # -- limits -----------------------------------------------------------------------------
    # Each is one BEGIN IMMEDIATE transaction: the write lock is taken before the read, so two
    # processes on one data dir decide one after the other.

    @staticmethod
    def _take_rate_in(db: sqlite3.Connection, key: str, now_ms: int, interval_ms: int, burst: int) -> int:
        r = db.execute("SELECT tat FROM rates WHERE key = ?", (key,)).fetchone()
        tat = max(int(r["tat"]) if r else now_ms, now_ms) + interval_ms
        wait = tat - now_ms - interval_ms * burst
        if wait > 0:
            return wait
        db.execute("INSERT INTO rates (key, tat) VALUES (?, ?)"
                   " ON CONFLICT(key) DO UPDATE SET tat = excluded.tat", (key, tat))
        return 0

    async def take_rate(self, key: str, now_ms: int, interval_ms: int, burst: int) -> int:
        def _take() -> int:
            with self._transaction() as db:
                return self._take_rate_in(db, key, now_ms, interval_ms, burst)

        return await self._quick(_take)

    async def peek_rate(self, key: str) -> int | None:
        def _peek() -> int | None:
            r = self._conn.execute("SELECT tat FROM rates WHERE key = ?", (key,)).fetchone()
            return int(r["tat"]) if r else None

        return await self._quick(_peek)

    def _add_spend_rows(self, db: sqlite3.Connection, user_id: str, buckets: tuple[str, str],
                        held: int, spent: int) -> None:
        for bucket in buckets:
            db.execute("INSERT INTO spend (user_id, bucket, spent, held) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT(user_id, bucket) DO UPDATE SET spent = spent + excluded.spent,"
                       " held = held + excluded.held", (user_id, bucket, spent, held))

    def _hold_in(self, db: sqlite3.Connection, user_id: str, month: str, day: str, amount: int,
                 day_cap: int | None, month_cap: int | None) -> bool:
        for bucket, cap in ((day, day_cap), (month, month_cap)):
            if cap is None:
                continue
            r = db.execute("SELECT spent + held AS used FROM spend WHERE user_id = ? AND bucket = ?",
                           (user_id, bucket)).fetchone()
            if (int(r["used"]) if r else 0) + amount > cap:
                return False
        self._add_spend_rows(db, user_id, (day, month), amount, 0)
        return True

    async def hold_spend(self, user_id: str, month: str, day: str, amount: int,
                         day_cap: int | None, month_cap: int | None) -> bool:
        records.check_spend_buckets(month, day)

        def _hold() -> bool:
            with self._transaction() as db:
                return self._hold_in(db, user_id, month, day, amount, day_cap, month_cap)

        return await self._quick(_hold)

    async def take_rate_and_hold(self, key: str, now_ms: int, interval_ms: int, burst: int, user_id: str,
                                 month: str, day: str, amount: int, day_cap: int | None,
                                 month_cap: int | None) -> tuple[int, bool]:
        records.check_spend_buckets(month, day)

        def _both() -> tuple[int, bool]:
            with self._transaction() as db:
                wait = self._take_rate_in(db, key, now_ms, interval_ms, burst)
                if wait > 0:
                    return wait, False
                return 0, self._hold_in(db, user_id, month, day, amount, day_cap, month_cap)

        return await self._quick(_both)

    async def add_spend(self, user_id: str, month: str, day: str, *, held: int = 0, spent: int = 0) -> None:
        records.check_spend_buckets(month, day)

        def _add() -> None:
            with self._transaction() as db:
                self._add_spend_rows(db, user_id, (day, month), held, spent)

        await self._quick(_add)

    async def get_spend(self, user_id: str, month: str, day: str) -> dict[str, int]:
        records.check_spend_buckets(month, day)

        def _get() -> dict[str, int]:
            out = {"day_spent": 0, "day_held": 0, "month_spent": 0, "month_held": 0}
            for prefix, bucket in (("day", day), ("month", month)):
                r = self._conn.execute("SELECT spent, held FROM spend WHERE user_id = ? AND bucket = ?",
                                       (user_id, bucket)).fetchone()
                if r:
                    out[f"{prefix}_spent"], out[f"{prefix}_held"] = int(r["spent"]), int(r["held"])
            return out

        return await self._quick(_get)

    async def cache_entries(self) -> list[tuple[str, dict[str, Any]]]:
        def _all() -> list[tuple[str, dict[str, Any]]]:
            rows = self._conn.execute("SELECT cache_key, value FROM cache").fetchall()
            return [(r["cache_key"], json.loads(r["value"])) for r in rows]

        return await self._run(_all)

    async def clear_cache(self) -> int:
        def _clear() -> int:
            return int(self._conn.execute("DELETE FROM cache").rowcount)

        return await self._run(_clear)
