"""The ingestion routes served as bare ASGI (``IngestEndpoints``) answer exactly as the FastAPI
routes they stand in front of: same statuses, bodies and headers, for good and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appfn import store
from appfn.api.app import create_app
from appfn.api.routes.events import IngestEndpoints
from appfn.config import Settings
from appfn.platform import Platform
from tests.api.conftest import DEMO_STORE, Server, customer_event

HEADERS = ("content-type", "retry-after", "www-authenticate")


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """One platform (not started: nothing runs the jobs) behind two apps, with and without the fast path."""
    settings = Settings(data_dir=tmp_path / "data", max_batch_events=3, max_body_bytes=64 * 1024)
    platform = Platform(settings)
    operator = platform.ensure_operator_key().operator_key
    with platform.db.session() as session:
        store.upsert_store(session, DEMO_STORE, "Demo", is_demo=True)
        store.upsert_store(session, 777, "Real shop", is_demo=False)
        partner = store.create_partner(session, "P")
        _, partner_key = store.create_key(session, "partner", partner.id, name="k")
    platform.accepting = True
    fast = create_app(platform, manage_lifecycle=False)
    slow = create_app(platform, manage_lifecycle=False)
    slow.user_middleware = [m for m in slow.user_middleware if m.cls is not IngestEndpoints]
    assert any(m.cls is IngestEndpoints for m in fast.user_middleware)
    try:
        yield {"platform": platform, "operator": operator, "partner": partner_key, "fast": fast, "slow": slow}
    finally:
        platform.broker.close()
        platform.db.engine.dispose()


async def _both(twins: dict[str, Any], path: str, content: bytes, key: str | None) -> list[tuple[int, Any, dict]]:
    answers = []
    for name in ("slow", "fast"):
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        transport = httpx.ASGITransport(app=twins[name])
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.post(path, content=content, headers=headers)
        kept = {h: answer.headers[h] for h in HEADERS if h in answer.headers}
        answers.append((answer.status_code, answer.json(), kept))
    return answers


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


BAD = [
    ("/v1/events", b"{", "operator"),
    ("/v1/events", b"\xff\xfe", "operator"),
    ("/v1/events", b"[]", "operator"),
    ("/v1/events", b'{"event": 5}', "operator"),
    ("/v1/events", b'{"a": "\\ud800"}', "operator"),
    ("/v1/events", _json(customer_event(email=5)), "operator"),
    ("/v1/events", _json({**customer_event(), "extra": 1, "merchant": "x"}), "operator"),
    ("/v1/events", _json({**customer_event(), "event": "shipment.creating"}), "operator"),
    ("/v1/events", _json({**customer_event(), "event": "customer.craeted"}), "operator"),
    ("/v1/events", _json({**customer_event(), "merchant": 999999}), "operator"),
    ("/v1/events", _json({**customer_event(), "merchant": 777}), "partner"),
    ("/v1/events", _json(customer_event()), None),
    ("/v1/events", _json(customer_event()), "afk_not_a_key"),
    ("/v1/events:batch", b'{"events": "no"}', "operator"),
    ("/v1/events:batch", b'{"events": []}', "operator"),
    ("/v1/events:batch", _json({"events": [customer_event()] * 4}), "operator"),
    ("/v1/events:batch", _json({"events": [customer_event(), customer_event(email=5), {"event": "x"}]}), "operator"),
    ("/v1/events:batch", _json({"events": [customer_event(), {**customer_event(), "merchant": 5}]}), "operator"),
    ("/v1/events:batch", _json({"events": [{**customer_event(), "event": "shipment.creating"}]}), "operator"),
    ("/v1/events:batch", _json({"events": [customer_event()]}), None),
    ("/v1/events", b"{" + b" " * 70_000 + b"}", "operator"),
]


@pytest.mark.parametrize(("path", "content", "who"), BAD)
def test_bad_input_gets_the_same_answer(twins: dict[str, Any], path: str, content: bytes, who: str | None) -> None:
    slow, fast = asyncio.run(_both(twins, path, content, twins.get(who, who) if who else None))
    assert 400 <= slow[0] < 500
    assert fast == slow


def test_accepted_events_and_duplicates_get_the_same_answer(twins: dict[str, Any]) -> None:
    async def scenario() -> None:
        for name in ("a", "b"):  # the slow app accepts it first, the fast one sees a duplicate
            one = _json(customer_event(f"evt-{name}"))
            first, again = await _both(twins, "/v1/events", one, twins["operator"])
            assert first[0] == again[0] == 202
            assert first[1] == {"id": f"evt-{name}", "event": "customer.created", "duplicate": False, "jobs": 0}
            assert again[1] == {**first[1], "duplicate": True}
            assert first[2] == again[2] == {"content-type": "application/json"}
        batch = _json({"events": [customer_event("b-1"), customer_event("b-2"), customer_event("b-1")]})
        slow, fast = await _both(twins, "/v1/events:batch", batch, twins["partner"])
        assert slow[0] == fast[0] == 202
        assert [e["duplicate"] for e in slow[1]["events"]] == [False, False, True]
        assert [e["duplicate"] for e in fast[1]["events"]] == [True, True, True]

    asyncio.run(scenario())
    with twins["platform"].db.read_session() as session:
        assert {e.id for e in store.list_events(session)} == {"evt-a", "evt-b", "b-1", "b-2"}


def test_backlog_and_shutdown_answers_are_the_same(twins: dict[str, Any]) -> None:
    platform = twins["platform"]
    platform.ingestor.max_backlog = 0
    slow, fast = asyncio.run(_both(twins, "/v1/events", _json(customer_event()), twins["operator"]))
    assert slow[0] == 429 and "retry-after" in slow[2] and fast == slow
    platform.accepting = False
    slow, fast = asyncio.run(_both(twins, "/v1/events:batch", b"{", twins["operator"]))
    assert slow[0] == 503 and slow[2]["retry-after"] == "5" and fast == slow


def test_over_http_a_streamed_body_over_the_limit_is_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"events": ['
        for _ in range(40):
            yield b" " * 500_000

    with server.client() as client:
        answer = client.post("/v1/events:batch", content=chunks(), headers={"Content-Type": "application/json"})
        assert answer.status_code == 413 and answer.json()["error"] == "request body too large"
        assert client.post("/v1/events", content=b"{" + b" " * 2_000_000 + b"}").status_code == 413
        spec = client.get("/openapi.json").json()
        assert {"/v1/events", "/v1/events:batch"} <= set(spec["paths"])
        assert client.get("/v1/events").status_code == 405  # other methods go on to FastAPI


@pytest.mark.parametrize(
    ("header", "status"),
    [("Bearer {key}", 202), ("bearer {key}", 202), ("BEARER {key}", 202), ("Basic {key}", 401),
     ("Bearer  ", 401), ("Bearer", 401), ("Bearer afk_unknown", 401), ("{key}", 401)],
)  # fmt: skip
def test_every_spelling_of_the_key_gets_the_same_answer(twins: dict[str, Any], header: str, status: int) -> None:
    # The fast path reads a recently verified key straight from the raw headers: warm the cache
    # first, so that both apps answer from it where they can.
    async def scenario() -> list[tuple[int, Any]]:
        await _both(twins, "/v1/events", _json(customer_event()), twins["operator"])
        answers = []
        for name in ("slow", "fast"):
            headers = {"Content-Type": "application/json", "Authorization": header.format(key=twins["operator"])}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=twins[name]), base_url="http://t") as c:
                answer = await c.post("/v1/events", content=_json(customer_event()), headers=headers)
            answers.append((answer.status_code, answer.headers.get("www-authenticate")))
        return answers

    slow, fast = asyncio.run(scenario())
    assert slow == fast and slow[0] == status


def test_data_beyond_what_orjson_encodes_is_stored_as_sent(twins: dict[str, Any]) -> None:
    # Integers past 64 bits keep the decoded data (the stdlib encodes it); NaN is stored as null.
    big = {**customer_event("big-1"), "data": {**customer_event()["data"], "points": 2**70}}
    nan = b'{"id": "nan-1", "event": "customer.created", "merchant": %d, "data": {"id": 1, "first_name": "A", ' \
          b'"last_name": "B", "mobile": 5, "mobile_code": "+9", "email": "e", "score": NaN}}' % DEMO_STORE  # fmt: skip
    fast = twins["fast"]

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fast), base_url="http://t") as client:
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {twins['operator']}"}
            for body in (_json(big), nan):
                answer = await client.post("/v1/events", content=body, headers=headers)
                assert answer.status_code == 202, answer.text

    asyncio.run(scenario())
    with twins["platform"].db.read_session() as session:
        assert store.get_event(session, "big-1").data["points"] == 2**70
        assert store.get_event(session, "nan-1").data["score"] is None


@pytest.mark.parametrize(
    ("headers", "sent", "status"),
    [
        ([(b"content-length", b"40")], 40, 200),  # one length within the limit: passed through
        ([(b"content-length", b"60")], 60, 413),  # over: refused before reading
        ([(b"transfer-encoding", b"chunked")], 60, 413),  # no length: the bytes are counted
        ([(b"content-length", b"40"), (b"content-length", b"40")], 60, 413),  # two lengths: counted
        ([(b"content-length", b"40"), (b"transfer-encoding", b"chunked")], 60, 413),
    ],
)
def test_body_limit_counts_whenever_the_length_is_not_plain(headers: list, sent: int, status: int) -> None:
    from appfn.api.bodylimit import BodyLimit

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> int:
        chunks = [{"type": "http.request", "body": b"x" * 20, "more_body": True} for _ in range(sent // 20)]
        chunks[-1]["more_body"] = False
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return chunks.pop(0)

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await BodyLimit(inner, max_bytes=50)({"type": "http", "path": "/x", "headers": headers}, receive, send)
        return out[0]["status"]

    assert asyncio.run(scenario()) == status
