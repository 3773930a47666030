"""Framing between the platform and a sandboxed worker: 4-byte big-endian length, then JSON.

Frames from a worker are untrusted: the reader caps their size and the caller checks
their fields. Message types (``t``):

    parent -> worker   load {language, filename, return_type, limits, seccomp_bpf,
                             source (Python) | code (JS: transpiled)}   (once, first)
                       invoke {context, cpu_s, timeout_s, remaining_s, heap_mb}
                       fetch_result {n, response}
    worker -> parent   spawned                               (imports done, waiting for load)
                       ready {console} | load_error {error, line}
                       fetch {n, request}
                       result {response, error, error_kind, console, recycle}
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

try:  # the platform has orjson (~5x faster on a context); a sandboxed worker sees only the stdlib and appfn
    from orjson import JSONDecodeError as _FastError
    from orjson import dumps as _fast_dumps
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - inside a worker
    _fast_loads, _FastError, _fast_dumps = json.loads, ValueError, None

MAX_FRAME_BYTES = 32 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A frame that breaks the protocol; the worker that sent it is killed."""


def encode(message: dict[str, Any]) -> bytes:
    try:
        body = _fast_dumps(message)  # type: ignore[misc]
    except TypeError:  # inside a worker; or integers past 64 bits, non-string keys: the stdlib takes those
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return _HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_FRAME_BYTES) -> dict[str, Any]:
    """The next message; raises EOFError when the peer closed, ProtocolError on a bad frame."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except (asyncio.IncompleteReadError, ConnectionError):
        raise EOFError from None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes is over the {limit}-byte limit")
    try:
        body = await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        raise EOFError from None
    try:
        try:
            message = _fast_loads(body)
        except _FastError:  # what only the stdlib takes (NaN, integers past 64 bits)
            message = json.loads(body)
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("t"), str):
        raise ProtocolError("frame is not an object with a 't' field")
    return message
