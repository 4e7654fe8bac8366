"""A wire-level fake Tablestore for tests: a loopback HTTP server speaking Tablestore's protocol.

The real ``tablestore.OTSClient`` talks to it over HTTP exactly as it talks to Tablestore: the SDK
encodes protobuf requests with PlainBuffer rows and signs them; this server checks the request
signature and content MD5, decodes the request with the SDK's own protobuf classes, applies
Tablestore's semantics, and answers with protobuf + PlainBuffer built by the SDK's own
``PlainBufferBuilder``, signed the way the SDK verifies responses. Requests' PlainBuffer rows are
read by a small reader here (the SDK ships only a response-side reader, which cannot read the
INF_MIN/INF_MAX/auto-increment placeholders or update-cell types that requests carry); it checks
every cell and row CRC8 with the SDK's CRC code.

Semantics implemented: CreateTable (PK schema, auto-increment), PutRow/UpdateRow/DeleteRow with
row-existence conditions and column conditions (single, composite NOT/AND/OR, pass_if_missing),
auto-increment primary keys (time-based, strictly increasing, returned with RT_PK), UpdateRow
put/delete/delete_all/increment, GetRow, GetRange forward/backward with INF_MIN/INF_MAX, filters
and paging (``max_rows_per_range`` rows scanned per call, so clients must follow
``next_start_primary_key``, as with real Tablestore). Errors carry Tablestore's codes and HTTP
statuses (``OTSConditionCheckFail`` 403, ``OTSObjectNotExist`` 404, ``OTSObjectAlreadyExist`` 409,
``OTSParameterInvalid`` 400, ``OTSAuthFailed`` 403).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import tablestore.protobuf.table_store_filter_pb2 as filter_pb2
import tablestore.protobuf.table_store_pb2 as pb2
from tablestore.auth import SignV2, call_signature_method_sha1
from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder
from tablestore.plainbuffer.plain_buffer_crc8 import PlainBufferCrc8 as Crc

HEADER = 0x75
TAG_ROW_PK, TAG_ROW_DATA, TAG_CELL, TAG_CELL_NAME, TAG_CELL_VALUE = 1, 2, 3, 4, 5
TAG_CELL_TYPE, TAG_CELL_TIMESTAMP, TAG_DELETE_ROW_MARKER, TAG_ROW_CHECKSUM, TAG_CELL_CHECKSUM = 6, 7, 8, 9, 10
VT_INTEGER, VT_DOUBLE, VT_BOOLEAN, VT_STRING, VT_BLOB = 0, 1, 2, 3, 7
VT_INF_MIN, VT_INF_MAX, VT_AUTO_INCREMENT = 9, 10, 11
OP_DELETE_ALL, OP_DELETE_ONE, OP_INCREMENT = 1, 3, 4


class InfMin:
    """Placeholder for INF_MIN read off the wire."""


class InfMax:
    """Placeholder for INF_MAX read off the wire."""


class AutoIncr:
    """Placeholder for PK_AUTO_INCR read off the wire."""


class OtsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> OtsError:
    return OtsError(400, "OTSParameterInvalid", message)


# -- PlainBuffer request reader -------------------------------------------------------------------

class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _bad("plainbuffer: unexpected end")
        self.pos += 1
        return self.data[self.pos - 1]

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _bad("plainbuffer: unexpected end")
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def int32(self) -> int:
        return struct.unpack("<i", self.take(4))[0]

    def int64(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def expect(self, tag: int) -> None:
        got = self.byte()
        if got != tag:
            raise _bad(f"plainbuffer: expected tag {tag}, got {got}")


def _read_value(r: _Reader, crc: int) -> tuple[Any, int]:
    """A TAG_CELL_VALUE payload (tag already consumed): length-prefixed typed value."""
    r.int32()
    vtype = r.byte()
    crc = Crc.crc_int8(crc, vtype)
    if vtype == VT_INTEGER:
        value = r.int64()
        return value, Crc.crc_int64(crc, value)
    if vtype in (VT_STRING, VT_BLOB):
        size = r.int32()
        raw = r.take(size)
        crc = Crc.crc_bytes(Crc.crc_int32(crc, size), raw)
        return (raw.decode("utf-8") if vtype == VT_STRING else bytearray(raw)), crc
    if vtype == VT_BOOLEAN:
        value = bool(r.byte())
        return value, Crc.crc_int8(crc, 1 if value else 0)
    if vtype == VT_DOUBLE:
        bits = r.int64()
        return struct.unpack("<d", struct.pack("<q", bits))[0], Crc.crc_int64(crc, bits)
    if vtype in (VT_INF_MIN, VT_INF_MAX, VT_AUTO_INCREMENT):
        return {VT_INF_MIN: InfMin, VT_INF_MAX: InfMax, VT_AUTO_INCREMENT: AutoIncr}[vtype], crc
    raise _bad(f"plainbuffer: unknown value type {vtype}")


def _read_cell(r: _Reader, row_crc: int) -> tuple[tuple[str, Any, int | None, int | None], int]:
    r.expect(TAG_CELL_NAME)
    name = r.take(r.int32()).decode("utf-8")
    crc = Crc.crc_string(0, name)
    value, op, ts = None, None, None
    if r.peek() == TAG_CELL_VALUE:
        r.byte()
        value, crc = _read_value(r, crc)
    if r.peek() == TAG_CELL_TYPE:
        r.byte()
        op = r.byte()
    if r.peek() == TAG_CELL_TIMESTAMP:
        r.byte()
        ts = r.int64()
        crc = Crc.crc_int64(crc, ts)
    if op is not None:
        crc = Crc.crc_int8(crc, op)
    r.expect(TAG_CELL_CHECKSUM)
    if r.byte() != crc:
        raise _bad(f"plainbuffer: cell checksum mismatch on {name!r}")
    return (name, value, op, ts), Crc.crc_int8(row_crc, crc)


def read_row(data: bytes) -> tuple[list[tuple[str, Any]], list[tuple[str, Any, int | None, int | None]], bool]:
    """(primary key, attribute cells (name, value, op, ts), delete marker) of one request row."""
    r = _Reader(bytes(data))
    if r.int32() != HEADER:
        raise _bad("plainbuffer: bad header")
    r.expect(TAG_ROW_PK)
    pk: list[tuple[str, Any]] = []
    cells: list[tuple[str, Any, int | None, int | None]] = []
    row_crc = 0
    while r.peek() == TAG_CELL:
        r.byte()
        (name, value, _, _), row_crc = _read_cell(r, row_crc)
        pk.append((name, value))
    if r.peek() == TAG_ROW_DATA:
        r.byte()
        while r.peek() == TAG_CELL:
            r.byte()
            cell, row_crc = _read_cell(r, row_crc)
            cells.append(cell)
    deleted = r.peek() == TAG_DELETE_ROW_MARKER
    if deleted:
        r.byte()
    row_crc = Crc.crc_int8(row_crc, 1 if deleted else 0)
    r.expect(TAG_ROW_CHECKSUM)
    if r.byte() != row_crc:
        raise _bad("plainbuffer: row checksum mismatch")
    return pk, cells, deleted


def read_variant(data: bytes) -> Any:
    """A bare serialized column value (filters): type byte + value."""
    r = _Reader(bytes(data))
    vtype = r.byte()
    if vtype == VT_INTEGER:
        return r.int64()
    if vtype in (VT_STRING, VT_BLOB):
        raw = r.take(r.int32())
        return raw.decode("utf-8") if vtype == VT_STRING else bytearray(raw)
    if vtype == VT_BOOLEAN:
        return bool(r.byte())
    if vtype == VT_DOUBLE:
        return struct.unpack("<d", r.take(8))[0]
    raise _bad(f"filter: unknown value type {vtype}")


# -- ordering and filters -------------------------------------------------------------------------

def _pk_sort_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for v in values:
        if v is InfMin:
            out.append((0,))
        elif v is InfMax:
            out.append((2,))
        elif isinstance(v, str):
            out.append((1, v.encode("utf-8")))  # Tablestore orders strings bytewise
        elif isinstance(v, (bytes, bytearray)):
            out.append((1, bytes(v)))
        else:
            out.append((1, v))
    return tuple(out)


def _compare(comparator: int, actual: Any, expected: Any) -> bool:
    if type(actual) is not type(expected) and not (
            isinstance(actual, (int, float)) and isinstance(expected, (int, float))):
        return comparator == filter_pb2.CT_NOT_EQUAL
    return {
        filter_pb2.CT_EQUAL: lambda: actual == expected,
        filter_pb2.CT_NOT_EQUAL: lambda: actual != expected,
        filter_pb2.CT_GREATER_THAN: lambda: actual > expected,
        filter_pb2.CT_GREATER_EQUAL: lambda: actual >= expected,
        filter_pb2.CT_LESS_THAN: lambda: actual < expected,
        filter_pb2.CT_LESS_EQUAL: lambda: actual <= expected,
    }[comparator]()


def filter_passes(filter_bytes: bytes, columns: dict[str, Any]) -> bool:
    """Evaluate a serialized ``Filter`` (conditions and range filters) against a row's columns."""
    f = filter_pb2.Filter()
    f.ParseFromString(filter_bytes)
    if f.type == filter_pb2.FT_SINGLE_COLUMN_VALUE:
        single = filter_pb2.SingleColumnValueFilter()
        single.ParseFromString(f.filter)
        if single.column_name not in columns:
            return not single.filter_if_missing
        return _compare(single.comparator, columns[single.column_name], read_variant(single.column_value))
    if f.type == filter_pb2.FT_COMPOSITE_COLUMN_VALUE:
        comp = filter_pb2.CompositeColumnValueFilter()
        comp.ParseFromString(f.filter)
        results = [filter_passes(sub.SerializeToString(), columns) for sub in comp.sub_filters]
        if comp.combinator == filter_pb2.LO_NOT:
            if len(results) != 1:
                raise _bad("NOT takes exactly one sub-condition")
            return not results[0]
        if len(results) < 2:
            raise _bad("AND/OR take at least two sub-conditions")
        return all(results) if comp.combinator == filter_pb2.LO_AND else any(results)
    raise _bad(f"unsupported filter type {f.type}")


# -- the store ----------------------------------------------------------------------------------------

@dataclass
class _Table:
    name: str
    pk_names: list[str]
    pk_types: list[int]
    auto_incr: set[str]
    rows: dict[tuple[Any, ...], dict[str, tuple[Any, int]]] = field(default_factory=dict)
    last_auto: dict[tuple[Any, ...], int] = field(default_factory=dict)


class FakeTablestore:
    """Tables and Tablestore semantics (one lock: every request is atomic)."""

    def __init__(self, max_rows_per_range: int = 5000) -> None:
        self.tables: dict[str, _Table] = {}
        self.lock = threading.Lock()
        self.max_rows_per_range = max_rows_per_range
        self.calls: dict[str, int] = {}

    def handle(self, api: str, body: bytes) -> bytes:
        handler = getattr(self, f"_api_{api}", None)
        if handler is None:
            raise OtsError(400, "OTSUnsupportOperation", f"fake Tablestore does not implement {api}")
        with self.lock:
            self.calls[api] = self.calls.get(api, 0) + 1
            return handler(body)

    # helpers
    def _table(self, name: str) -> _Table:
        table = self.tables.get(name)
        if table is None:
            raise OtsError(404, "OTSObjectNotExist", "Requested table does not exist.")
        return table

    def _pk(self, table: _Table, pk: list[tuple[str, Any]], *, allow_inf: bool = False,
            allow_auto: bool = False) -> tuple[Any, ...]:
        if [n for n, _ in pk] != table.pk_names:
            raise _bad(f"primary key {[n for n, _ in pk]} does not match the schema {table.pk_names}")
        for (name, value), ptype in zip(pk, table.pk_types):
            if value in (InfMin, InfMax):
                if not allow_inf:
                    raise _bad("INF_MIN/INF_MAX are only allowed in range boundaries")
            elif value is AutoIncr:
                if not allow_auto or name not in table.auto_incr:
                    raise _bad(f"{name} is not an auto-increment column here")
            elif ptype == pb2.INTEGER and (not isinstance(value, int) or isinstance(value, bool)):
                raise _bad(f"primary key {name} must be INTEGER")
            elif ptype == pb2.STRING and not isinstance(value, str):
                raise _bad(f"primary key {name} must be STRING")
        return tuple(v for _, v in pk)

    def _assign_auto(self, table: _Table, key: tuple[Any, ...]) -> tuple[Any, ...]:
        if AutoIncr not in key:
            return key
        partition = key[:1]
        # Tablestore's generated values are time-based (microseconds), unique and increasing
        # within a partition, never consecutive by promise: callers must not assume 1, 2, 3
        value = max(int(time.time() * 1_000_000), table.last_auto.get(partition, 0) + 1)
        table.last_auto[partition] = value
        return tuple(value if v is AutoIncr else v for v in key)

    @staticmethod
    def _check_condition(cond: Any, row: dict[str, tuple[Any, int]] | None) -> None:
        if cond.row_existence == pb2.EXPECT_EXIST and row is None:
            raise OtsError(403, "OTSConditionCheckFail", "Condition check failed.")
        if cond.row_existence == pb2.EXPECT_NOT_EXIST and row is not None:
            raise OtsError(403, "OTSConditionCheckFail", "Condition check failed.")
        if cond.HasField("column_condition") and cond.column_condition:
            columns = {n: v for n, (v, _) in (row or {}).items()}
            if not filter_passes(cond.column_condition, columns):
                raise OtsError(403, "OTSConditionCheckFail", "Condition check failed.")

    @staticmethod
    def _consumed(msg: Any, read: int = 0, write: int = 0) -> None:
        msg.consumed.capacity_unit.read = read
        msg.consumed.capacity_unit.write = write

    @staticmethod
    def _row_bytes(pk_names: list[str], key: tuple[Any, ...], row: dict[str, tuple[Any, int]],
                   columns_to_get: list[str]) -> bytes:
        attrs = [(n, v, ts) for n, (v, ts) in sorted(row.items()) if not columns_to_get or n in columns_to_get]
        return bytes(PlainBufferBuilder.serialize_for_put_row(list(zip(pk_names, key)), attrs))

    # APIs
    def _api_CreateTable(self, body: bytes) -> bytes:
        req = pb2.CreateTableRequest()
        req.ParseFromString(body)
        name = req.table_meta.table_name
        if name in self.tables:
            raise OtsError(409, "OTSObjectAlreadyExist", "Requested table already exists.")
        schema = list(req.table_meta.primary_key)
        if not 1 <= len(schema) <= 4:
            raise _bad("a table has 1 to 4 primary key columns")
        auto = {s.name for s in schema if s.HasField("option") and s.option == pb2.AUTO_INCREMENT}
        if schema[0].name in auto:
            raise _bad("the partition key cannot be auto-increment")
        self.tables[name] = _Table(name, [s.name for s in schema], [s.type for s in schema], auto)
        return pb2.CreateTableResponse().SerializeToString()

    def _api_PutRow(self, body: bytes) -> bytes:
        req = pb2.PutRowRequest()
        req.ParseFromString(body)
        table = self._table(req.table_name)
        pk, cells, _ = read_row(req.row)
        key = self._pk(table, pk, allow_auto=True)
        if AutoIncr in key and req.condition.row_existence != pb2.IGNORE:
            raise _bad("auto-increment rows must be written with condition IGNORE")
        key = self._assign_auto(table, key)
        self._check_condition(req.condition, table.rows.get(key))
        now_ms = int(time.time() * 1000)
        table.rows[key] = {name: (value, ts or now_ms) for name, value, _, ts in cells}
        resp = pb2.PutRowResponse()
        self._consumed(resp, write=1)
        if req.HasField("return_content") and req.return_content.return_type == pb2.RT_PK:
            resp.row = bytes(PlainBufferBuilder.serialize_primary_key(list(zip(table.pk_names, key))))
        return resp.SerializeToString()

    def _api_UpdateRow(self, body: bytes) -> bytes:
        req = pb2.UpdateRowRequest()
        req.ParseFromString(body)
        table = self._table(req.table_name)
        pk, cells, _ = read_row(req.row_change)
        key = self._pk(table, pk)
        current = table.rows.get(key)
        self._check_condition(req.condition, current)
        row = dict(current or {})
        now_ms = int(time.time() * 1000)
        for name, value, op, ts in cells:
            if op is None:
                if value is None:
                    raise _bad(f"put of {name} has no value")
                row[name] = (value, ts or now_ms)
            elif op in (OP_DELETE_ALL, OP_DELETE_ONE):  # max_version=1: one version is all versions
                row.pop(name, None)
            elif op == OP_INCREMENT:
                base = row.get(name, (0, 0))[0]
                if not isinstance(base, int) or not isinstance(value, int):
                    raise _bad(f"increment of {name} needs integers")
                row[name] = (base + value, now_ms)
            else:
                raise _bad(f"unknown cell operation {op}")
        table.rows[key] = row
        resp = pb2.UpdateRowResponse()
        self._consumed(resp, write=1)
        return resp.SerializeToString()

    def _api_DeleteRow(self, body: bytes) -> bytes:
        req = pb2.DeleteRowRequest()
        req.ParseFromString(body)
        table = self._table(req.table_name)
        pk, _, deleted = read_row(req.primary_key)
        if not deleted:
            raise _bad("DeleteRow row has no delete marker")
        key = self._pk(table, pk)
        self._check_condition(req.condition, table.rows.get(key))
        table.rows.pop(key, None)
        resp = pb2.DeleteRowResponse()
        self._consumed(resp, write=1)
        return resp.SerializeToString()

    def _api_GetRow(self, body: bytes) -> bytes:
        req = pb2.GetRowRequest()
        req.ParseFromString(body)
        table = self._table(req.table_name)
        pk, _, _ = read_row(req.primary_key)
        key = self._pk(table, pk)
        row = table.rows.get(key)
        resp = pb2.GetRowResponse()
        self._consumed(resp, read=1)
        if row is not None and (not req.filter or filter_passes(req.filter, {n: v for n, (v, _) in row.items()})):
            resp.row = self._row_bytes(table.pk_names, key, row, list(req.columns_to_get))
        else:
            resp.row = b""
        return resp.SerializeToString()

    def _api_GetRange(self, body: bytes) -> bytes:
        req = pb2.GetRangeRequest()
        req.ParseFromString(body)
        table = self._table(req.table_name)
        start = self._pk(table, read_row(req.inclusive_start_primary_key)[0], allow_inf=True)
        end = self._pk(table, read_row(req.exclusive_end_primary_key)[0], allow_inf=True)
        lo, hi = _pk_sort_key(start), _pk_sort_key(end)
        backward = req.direction == pb2.BACKWARD
        if (lo > hi) if not backward else (lo < hi):
            raise _bad("range start and end are in the wrong order for the direction")
        keys = sorted(table.rows, key=_pk_sort_key, reverse=backward)
        if backward:
            in_range = [k for k in keys if hi < _pk_sort_key(k) <= lo]
        else:
            in_range = [k for k in keys if lo <= _pk_sort_key(k) < hi]
        budget = min(req.limit if req.HasField("limit") and req.limit > 0 else 5000, self.max_rows_per_range)
        scanned, rest = in_range[:budget], in_range[budget:]
        out = bytearray()
        for k in scanned:  # the filter applies to scanned rows: a page may come back short or empty
            row = table.rows[k]
            if req.filter and not filter_passes(req.filter, {n: v for n, (v, _) in row.items()}):
                continue
            encoded = self._row_bytes(table.pk_names, k, row, list(req.columns_to_get))
            out += encoded if not out else encoded[4:]  # one header for the whole row list
        resp = pb2.GetRangeResponse()
        self._consumed(resp, read=max(1, len(scanned)))
        resp.rows = bytes(out)
        if rest:
            resp.next_start_primary_key = bytes(
                PlainBufferBuilder.serialize_primary_key(list(zip(table.pk_names, rest[0]))))
        return resp.SerializeToString()


# -- HTTP ------------------------------------------------------------------------------------------------

class FakeTablestoreServer:
    """Serve a :class:`FakeTablestore` on 127.0.0.1, authenticating one access key."""

    def __init__(self, access_key_id: str = "fake-ak", access_key_secret: str = "fake-secret",
                 instance: str = "fake-instance", max_rows_per_range: int = 5000) -> None:
        self.store = FakeTablestore(max_rows_per_range)
        self.access_key_id, self.access_key_secret, self.instance = access_key_id, access_key_secret, instance
        self._signer = SignV2("utf-8")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-ots", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeTablestoreServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def client(self, **kwargs: Any) -> Any:
        from tablestore import OTSClient

        return OTSClient(self.endpoint, self.access_key_id, self.access_key_secret, self.instance,
                         socket_timeout=10, **kwargs)

    def _authenticate(self, path: str, headers: dict[str, str], body: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        if headers.get("x-ots-contentmd5") != md5:
            raise OtsError(400, "OTSParameterInvalid", "Content MD5 mismatch.")
        if headers.get("x-ots-accesskeyid") != self.access_key_id:
            raise OtsError(403, "OTSAuthFailed", "The AccessKeyID is invalid.")
        if headers.get("x-ots-instancename") != self.instance:
            raise OtsError(403, "OTSAuthFailed", "Invalid instance name.")
        signed = {k: v for k, v in headers.items() if k != "x-ots-signature"}
        expected = self._signer._get_request_signature_string(path, signed)
        if headers.get("x-ots-signature") != call_signature_method_sha1(self.access_key_secret, expected, "utf-8"):
            raise OtsError(403, "OTSAuthFailed", "Signature mismatch.")

    def _response_headers(self, path: str, body: bytes) -> dict[str, str]:
        headers = {
            "x-ots-contentmd5": base64.b64encode(hashlib.md5(body).digest()).decode(),
            "x-ots-requestid": uuid.uuid4().hex,
            "x-ots-date": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "x-ots-contenttype": "protocol buffer",
        }
        signature = self._signer.make_response_signature(path, headers, self.access_key_secret)
        headers["authorization"] = f"OTS {self.access_key_id}:{signature}"
        return headers

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # the SDK keeps connections alive
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                api = self.path.strip("/")
                try:
                    fake._authenticate(self.path, headers, body)
                    status, payload = 200, fake.store.handle(api, body)
                except OtsError as err:
                    error = pb2.Error()
                    error.code, error.message = err.code, err.message
                    status, payload = err.status, error.SerializeToString()
                except Exception as exc:  # a bug in the fake: say so instead of hanging the client
                    error = pb2.Error()
                    error.code, error.message = "OTSInternalServerError", f"fake: {exc!r}"
                    status, payload = 500, error.SerializeToString()
                self.send_response(status)
                for name, value in fake._response_headers(self.path, payload).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
