"""The wire protocol between `lake` processes and the engine's owner: length-prefixed JSON.

A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Nothing on the wire
can run code (pickle could): the decoder builds only the plain JSON types and the few tagged
values below, and refuses any other tag.

Values that JSON has no type for travel as objects tagged `"$t"`, so that what a query returns
arrives as Spark returned it: `date`, `datetime` (naive stays naive, an offset is kept),
`timedelta`, `Decimal` (as its exact string), `bytes`/`bytearray` (base64), non-finite floats,
tuples, maps whose keys are not plain strings (or that hold a "$t" key), Spark `Row`s, and the
runtime's own `QueryOutcome` and `Landing`.

Messages:
  client hello   {"hello": "lake-engine", "version": 1}
  server hello   {"hello": "lake-engine", "version": 1, "pid": N, "role": "daemon"|...}
  request        {"op": "query", "args": [...]}
  reply          {"ok": value} | {"error": {"kind": "...", "message": "..."}}
  while working  {"working": seconds}   (a heartbeat every few seconds, so that a client
                                         can tell a long request from a dead engine)"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import json
import math
import os
import socket
import struct
import time
from typing import Any

MAGIC = "lake-engine"
VERSION = 1
HEADER = struct.Struct(">I")
MAX_REQUEST_BYTES = 1 << 20  # 1 MiB: a request is a key, a SQL text or a StartExecution input
MAX_REPLY_BYTES = 1 << 30  # 1 GiB: a query's rows (say LIMIT for more)
READ_TIMEOUT_S = 30.0  # no frame (reply or heartbeat) for this long: the other side is stuck
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (None where the platform
    cannot tell)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _, uid, _ = _CREDENTIALS.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _CREDENTIALS.size))
    return uid


def same_user(sock: socket.socket) -> bool:
    """Whether the other end is this user (SO_PEERCRED: filled in by the kernel, unforgeable)."""
    uid = peer_uid(sock)
    return uid is None or uid == os.getuid()


class ProtocolError(Exception):
    """A frame or a value that is not this protocol's."""


class FrameTooLarge(ProtocolError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"a message of {size:,} bytes is over the limit of {limit:,} bytes")
        self.size = size
        self.limit = limit


# --- values ------------------------------------------------------------------------------
def encode(value: Any) -> Any:
    """A value as plain JSON (tagged where JSON has no type for it)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$t": "float", "v": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"$t": "decimal", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {
            "$t": "timedelta",
            "d": value.days,
            "s": value.seconds,
            "us": value.microseconds,
        }
    if isinstance(value, bytearray):
        return {"$t": "bytearray", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, bytes):
        return {"$t": "bytes", "v": base64.b64encode(value).decode()}
    row_fields = getattr(value, "__fields__", None)
    if isinstance(value, tuple) and type(value).__name__ == "Row":  # pyspark.sql.Row
        if row_fields is not None:
            return {"$t": "row", "fields": list(row_fields), "v": [encode(v) for v in value]}
        return {"$t": "row", "v": [encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"$t": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and "$t" not in value:
            return {k: encode(v) for k, v in value.items()}
        return {"$t": "map", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    kind = type(value).__name__
    if kind in _RECORDS and dataclasses.is_dataclass(value):
        return {
            "$t": kind,
            "v": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    raise ProtocolError(f"cannot send a value of type {kind}")


def decode(value: Any) -> Any:
    """The inverse of `encode`; refuses unknown tags."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get("$t")
    if tag is None:
        return {k: decode(v) for k, v in value.items()}
    try:
        return _DECODERS[tag](value)
    except KeyError as e:
        raise ProtocolError(f"unknown value tag {tag!r}") from e
    except (TypeError, ValueError, decimal.InvalidOperation) as e:
        raise ProtocolError(f"malformed {tag!r} value: {e}") from e


def _record(kind: str):
    def build(value: dict) -> Any:
        cls = _RECORDS[kind]()
        fields = {f.name for f in dataclasses.fields(cls)}
        data = {k: decode(v) for k, v in value["v"].items() if k in fields}
        if kind == "QueryOutcome":
            data["rows"] = [tuple(row) for row in data.get("rows", [])]
        return cls(**data)

    return build


def _row(value: dict) -> Any:
    from pyspark.sql import Row

    values = [decode(v) for v in value["v"]]
    if "fields" in value:
        return Row(**dict(zip(value["fields"], values, strict=True)))
    return Row(*values)


def _float(value: dict) -> float:
    text = value["v"]
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"not a non-finite float: {text!r}")
    return float(text)


def _query_outcome() -> type:
    from lake.aws.sql_engine import QueryOutcome

    return QueryOutcome


def _landing() -> type:
    from lake.runtime.eventbridge import Landing

    return Landing


_RECORDS = {"QueryOutcome": _query_outcome, "Landing": _landing}

_DECODERS = {
    "float": _float,
    "decimal": lambda v: decimal.Decimal(v["v"]),
    "datetime": lambda v: dt.datetime.fromisoformat(v["v"]),
    "date": lambda v: dt.date.fromisoformat(v["v"]),
    "timedelta": lambda v: dt.timedelta(days=v["d"], seconds=v["s"], microseconds=v["us"]),
    "bytes": lambda v: base64.b64decode(v["v"], validate=True),
    "bytearray": lambda v: bytearray(base64.b64decode(v["v"], validate=True)),
    "tuple": lambda v: tuple(decode(x) for x in v["v"]),
    "map": lambda v: {_hashable(decode(k)): decode(x) for k, x in v["v"]},
    "row": _row,
    **{kind: _record(kind) for kind in _RECORDS},
}


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


# --- frames ------------------------------------------------------------------------------
def pack(message: Any) -> bytes:
    """One frame: the length, then the message as UTF-8 JSON (values encoded)."""
    body = json.dumps(encode(message), ensure_ascii=False, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def send(sock: socket.socket, message: Any) -> None:
    sock.sendall(pack(message))


def _read_exactly(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    chunks = []
    left = size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the rest of the message did not arrive in time")
            sock.settimeout(remaining)
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side hung up")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(
    sock: socket.socket,
    *,
    max_bytes: int,
    idle_timeout: float | None,
    frame_timeout: float | None = 30.0,
) -> Any:
    """One message. Waits up to `idle_timeout` seconds for a frame to begin (None: forever),
    then up to `frame_timeout` for the whole of it. Raises EOFError when the other side hung up
    between frames, TimeoutError, FrameTooLarge, or ProtocolError for anything not JSON."""
    sock.settimeout(idle_timeout)
    first = sock.recv(HEADER.size)
    if not first:
        raise EOFError("the other side hung up")
    deadline = None if frame_timeout is None else time.monotonic() + frame_timeout
    header = first + _read_exactly(sock, HEADER.size - len(first), deadline)
    (size,) = HEADER.unpack(header)
    if size > max_bytes:
        raise FrameTooLarge(size, max_bytes)
    body = _read_exactly(sock, size, deadline)
    try:
        return decode(json.loads(body.decode("utf-8")))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError, JSONDecodeError included
        raise ProtocolError(f"not a JSON message: {e}") from e
