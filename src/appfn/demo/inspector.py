"""The request inspector: a stand-in for the CRM, the mail provider, the carrier... that records
every request sent to it, so a newcomer sees what the provider would have received.

Any request to ``/inspect/<bin>/<anything>`` (any method) is recorded and answered ``200 {"ok":
true, "id": "<record id>"}``; the bin is the first path segment (``/inspect/crm/contacts`` ->
``crm``). Functions reach it at ``<public_url>/inspect/...``: those requests never leave the
process (``Inspector.fetch``, used by ``appfn.dispatch.outbound``), so the egress policy needs no
hole for loopback, and each record says which app, installation, store, event and trigger sent it.
Requests that arrive over HTTP are recorded too (``source: "http"``, no attribution).

What is kept (docs/demo-store.md): method, URL and path, query, headers and body. Secrets are
masked **before** anything is written: a header, query parameter or JSON body key whose name looks
like a credential (``Authorization``, ``X-Api-Key``, ``Cookie``, ``*token*``, ``*secret*``,
``*password*``, ``*key``...) keeps its scheme and, when long enough, its last 4 characters
(``Bearer ****abcd``). The body is parsed JSON when it is JSON, else text (``binary`` as base64
is not kept), capped at ``MAX_BODY_CHARS``. The newest ``max_requests`` records are kept.

    with db.session() as s:
        record = record_request(s, NewInspectedRequest(...))
        records = list_requests(s, partner_id=None, bin="crm", limit=20)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appfn import __version__, store
from appfn.demo.models import DemoInspectedRequestRow as Row
from appfn.errors import NotFoundError, ValidationError
from appfn.masking import is_secret_name, mask_json, mask_secret
from appfn.store._common import new_id, utcnow

PREFIX = "/inspect"
MAX_BODY_CHARS = 65_536  # of the body as kept (text or JSON); more is cut and marked truncated
BIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SOURCES = ("function", "preview", "http")
_PREFIX_RE = re.compile(re.escape(PREFIX) + r"(?=/|$)")
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"})


# --------------------------------------------------------------------------- masking


def mask_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case name -> value (repeated headers joined with ", "), credentials masked."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in _HOP_HEADERS:
            continue
        shown = mask_secret(value) if is_secret_name(key) else value
        out[key] = f"{out[key]}, {shown}" if key in out else shown
    return out


def masked_query(query: str) -> tuple[dict[str, Any], str]:
    """The query as ``{name: value or [values]}`` and as text, credential values masked."""
    pairs = [(k, mask_secret(v) if is_secret_name(k) else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            out[k] = [*out[k], v] if isinstance(out[k], list) else [out[k], v]
        else:
            out[k] = v
    return out, urlencode(pairs, safe="*")


def parse_body(raw: bytes, content_type: str) -> tuple[Any, str, bool]:
    """``(body, kind, truncated)``: parsed JSON (credential keys masked) or text, capped."""
    if not raw:
        return None, "empty", False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "binary", False
    looks_json = "json" in content_type.lower() or text.lstrip()[:1] in ("{", "[")
    if looks_json:
        try:
            parsed = mask_json(json.loads(text))
        except ValueError:
            pass  # not JSON after all: kept as text
        else:
            dumped = json.dumps(parsed, ensure_ascii=False)
            if len(dumped) <= MAX_BODY_CHARS:
                return parsed, "json", False
            return dumped[:MAX_BODY_CHARS], "text", True  # masked first, then cut
    if len(text) > MAX_BODY_CHARS:
        return text[:MAX_BODY_CHARS], "text", True
    return text, "text", False


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class NewInspectedRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    source: str = "http"
    partner_id: str | None = None
    app_id: str | None = None
    installation_id: str | None = None
    store_id: int | None = None
    event_id: str | None = None
    trigger: str | None = None


@dataclass(frozen=True)
class InspectedRequest:
    id: str
    bin: str
    method: str
    url: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any = field(repr=False)
    body_kind: str
    body_bytes: int
    body_truncated: bool
    source: str
    partner_id: str | None
    app_id: str | None
    installation_id: str | None
    store_id: int | None
    event_id: str | None
    trigger: str | None
    created_at: datetime


def split_target(url: str) -> tuple[str, str, str, str]:
    """``(bin, path after the bin, query, URL without its query)`` of an inspector URL.
    ValidationError when the path has no valid bin."""
    parts = urlsplit(url)
    path = parts.path
    found = _PREFIX_RE.search(path)  # the public URL may have a path of its own before /inspect
    rest = path[found.end() :] if found else path
    segments = rest.lstrip("/").split("/", 1)
    bin_name = segments[0]
    if not BIN_RE.match(bin_name):
        raise ValidationError(
            "bin", f"{PREFIX}/<bin>/...: the bin must be 1-64 letters, digits, '.', '_' or '-', got {bin_name!r}"
        )
    inner = "/" + segments[1] if len(segments) > 1 else "/"
    return bin_name, inner, parts.query, urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def record_request(session: Session, new: NewInspectedRequest, *, keep: int = 1000) -> InspectedRequest:
    """Mask, store and return the request; drop the oldest past ``keep``."""
    bin_name, inner, query, bare_url = split_target(new.url)
    query_values, query_text = masked_query(query)
    headers = mask_headers(new.headers)
    body, kind, truncated = parse_body(new.body, headers.get("content-type", ""))
    if new.source not in SOURCES:
        raise ValidationError("source", f"must be one of {', '.join(SOURCES)}")
    row = Row(
        id=new_id("req"),
        bin=bin_name,
        method=new.method.upper()[:16],
        url=bare_url + (f"?{query_text}" if query_text else ""),
        path=inner,
        query=query_values,
        headers=headers,
        body=body,
        body_kind=kind,
        body_bytes=len(new.body),
        body_truncated=truncated,
        source=new.source,
        partner_id=new.partner_id,
        app_id=new.app_id,
        installation_id=new.installation_id,
        store_id=new.store_id,
        event_id=new.event_id,
        trigger=new.trigger,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    _prune(session, keep)
    return _to_record(row)


def _prune(session: Session, keep: int) -> None:
    oldest_kept = session.execute(
        select(Row.created_at, Row.id).order_by(Row.created_at.desc(), Row.id.desc()).offset(keep - 1).limit(1)
    ).first()
    if oldest_kept is not None:
        session.execute(delete(Row).where(Row.created_at < oldest_kept.created_at))


def _owned(stmt: Any, partner_id: str | None) -> Any:
    return stmt if partner_id is None else stmt.where(Row.partner_id == partner_id)


def list_requests(
    session: Session,
    *,
    partner_id: str | None,
    bin: str | None = None,
    app_id: str | None = None,
    event_id: str | None = None,
    limit: int = 50,
) -> list[InspectedRequest]:
    """Newest first. A partner (``partner_id``) sees the records its own apps' functions made;
    the operator (None) sees every record, those that came over HTTP included."""
    stmt = _owned(select(Row), partner_id)
    for column, value in ((Row.bin, bin), (Row.app_id, app_id), (Row.event_id, event_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(Row.created_at.desc(), Row.id.desc()).limit(limit)
    return [_to_record(r) for r in session.execute(stmt).scalars()]


def get_request(session: Session, request_id: str, *, partner_id: str | None) -> InspectedRequest:
    row = session.execute(_owned(select(Row), partner_id).where(Row.id == request_id)).scalar_one_or_none()
    if row is None:
        raise NotFoundError("inspected request", request_id)
    return _to_record(row)


def delete_requests(session: Session, *, partner_id: str | None, bin: str | None = None) -> int:
    """Delete the caller's records (every record for the operator), of one bin or all; the count."""
    stmt = _owned(delete(Row), partner_id)
    if bin is not None:
        stmt = stmt.where(Row.bin == bin)
    return int(session.execute(stmt).rowcount or 0)


def _to_record(row: Row) -> InspectedRequest:
    return InspectedRequest(
        id=row.id, bin=row.bin, method=row.method, url=row.url, path=row.path, query=dict(row.query),
        headers=dict(row.headers), body=row.body, body_kind=row.body_kind, body_bytes=row.body_bytes,
        body_truncated=row.body_truncated, source=row.source, partner_id=row.partner_id, app_id=row.app_id,
        installation_id=row.installation_id, store_id=row.store_id, event_id=row.event_id, trigger=row.trigger,
        created_at=row.created_at,
    )  # fmt: skip


def ack(record_id: str) -> dict[str, Any]:
    """What the inspector answers: enough for a CRM client that reads ``id`` from the answer."""
    return {"ok": True, "id": record_id}


# --------------------------------------------------------------------------- the in-process route


class Inspector:
    """Answers functions' requests to ``<public_url>/inspect/...`` in-process (see module doc)."""

    def __init__(self, db: store.Database, public_url: str, *, keep: int = 1000) -> None:
        self.db = db
        self.public_url = public_url.rstrip("/")
        self.base = self.public_url + PREFIX
        self.keep = max(1, keep)

    def handles(self, url: str) -> bool:
        return url == self.base or url.startswith((self.base + "/", self.base + "?"))

    def record(self, new: NewInspectedRequest) -> InspectedRequest:
        with self.db.session() as session:
            return record_request(session, new, keep=self.keep)

    async def fetch(self, request: dict[str, Any], caller: Any) -> dict[str, Any]:
        """Record a function's wire request; answer a wire response (or ``{"error": ...}``)."""
        url = str(request["url"])
        method = request.get("method") or "GET"
        raw_headers = request.get("headers") or {}
        if not isinstance(method, str) or not isinstance(raw_headers, dict):
            return _error("invalid", f"fetch of {url}: method must be a string and headers an object")
        try:
            body = base64.b64decode(request["body_b64"], validate=True) if request.get("body_b64") else b""
        except (binascii.Error, ValueError, TypeError):
            return _error("invalid", f"request body for {url} is not valid base64")
        headers = [(str(k), str(v)) for k, v in raw_headers.items()]
        names = {k.lower() for k, _ in headers}
        host = urlsplit(url).netloc
        headers = [("host", host), *headers] if "host" not in names else headers
        if "user-agent" not in names:
            headers.append(("user-agent", f"appfn-fetch/{__version__}"))  # what a real provider would see
        if body and "content-length" not in names:
            headers.append(("content-length", str(len(body))))
        new = NewInspectedRequest(
            method=method, url=url, headers=headers, body=body, source=getattr(caller, "source", "function"),
            partner_id=getattr(caller, "partner_id", None), app_id=getattr(caller, "app_id", None),
            installation_id=getattr(caller, "installation_id", None), store_id=getattr(caller, "store_id", None),
            event_id=getattr(caller, "event_id", None), trigger=getattr(caller, "trigger", None),
        )  # fmt: skip
        try:
            record = await asyncio.to_thread(self._record_attributed, new)
        except ValidationError as exc:
            return _answer(url, 404, {"ok": False, "error": str(exc)})
        return _answer(url, 200, ack(record.id))

    def _record_attributed(self, new: NewInspectedRequest) -> InspectedRequest:
        with self.db.session() as session:
            if new.installation_id and (new.partner_id is None or new.app_id is None):
                try:  # a preview knows only the installation: name its app, partner and store
                    inst = store.get_installation(session, new.installation_id, partner_id=None)
                    new = replace(new, partner_id=inst.partner_id, app_id=inst.app_id, store_id=inst.store_id)
                except NotFoundError:
                    pass
            return record_request(session, new, keep=self.keep)


def _answer(url: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    content = json.dumps(body).encode()
    return {
        "status": status,
        "headers": [["content-type", "application/json"], ["content-length", str(len(content))]],
        "url": url,
        "body_b64": base64.b64encode(content).decode(),
    }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}
