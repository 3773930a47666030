"""Host-side fetch: real HTTP against servers on 127.0.0.1 only.

Every refusal test also checks that no TCP connection was attempted: the policy is decided
before connect, so nothing here ever sends a packet to a non-loopback address.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpx
import pytest

from appfn.errors import EgressDeniedError, FetchError, FetchTimeoutError, ResponseTooLargeError
from appfn.runtime import egress
from appfn.runtime.egress import EgressClient, EgressPolicy, Fetcher
from appfn.sdk.fetch import build_request, parse_response

LOOPBACK = EgressPolicy(allow=("127.0.0.1",))
_release = threading.Event()  # lets slow handlers finish at teardown


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse can be observed

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = getattr(self, "_" + parts.path.strip("/").replace("-", "_"), None)
        if route is None:
            self._send(404, b"no such route", "text/plain")
        else:
            route(query, body)

    def _send(self, status: int, body: bytes, ctype: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _echo(self, query: dict[str, str], body: bytes) -> None:
        seen = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(),
        }
        self._send(int(query.get("status", 200)), json.dumps(seen).encode(), X_Reply="yes")

    def _redirect(self, query: dict[str, str], body: bytes) -> None:
        self._send(int(query.get("code", 302)), b"", "text/plain", Location=query["to"])

    def _loop(self, query: dict[str, str], body: bytes) -> None:
        self._send(302, b"", "text/plain", Location=f"/loop?n={int(query.get('n', 0)) + 1}")

    def _slow(self, query: dict[str, str], body: bytes) -> None:
        _release.wait(float(query["s"]))
        self._send(200, b"{}")

    def _big(self, query: dict[str, str], body: bytes) -> None:
        data = b"x" * int(query["n"])
        if "stream" not in query:
            self._send(200, data, "text/plain")
            return
        # No Content-Length: the size is only known by reading, so the cap must cut the stream.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, len(data), 4096):
            self.wfile.write(data[i : i + 4096])
        self.close_connection = True

    def _gzip(self, query: dict[str, str], body: bytes) -> None:
        packed = gzip.compress(b"\0" * int(query["n"]), compresslevel=9)
        self._send(200, packed, "application/octet-stream", Content_Encoding="gzip")

    def _setcookie(self, query: dict[str, str], body: bytes) -> None:
        self._send(200, b"{}", Set_Cookie="session=abc; Path=/")


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 stalls concurrent connects for a second

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out or hit the size cap hang up mid-response, on purpose


def _serve(server: http.server.ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{server.server_address[0]}:{server.server_address[1]}"
    finally:
        _release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``127.0.0.1:<port>`` of a plain HTTP server."""
    yield from _serve(QuietServer(("127.0.0.1", 0), Handler))


@pytest.fixture
def port(server: str) -> int:
    return int(server.rsplit(":", 1)[1])


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real TCP connect the egress backend makes (host it connected to)."""
    seen: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def spy(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        seen.append(host)
        return await original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", spy)
    return seen


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the egress resolver answers from this table (others resolve normally)."""
    table: dict[str, list[str]] = {}
    original = egress._resolve

    async def resolve(host: str, port: int) -> list[Any]:
        if host in table:
            return [egress.ipaddress.ip_address(a) for a in table[host]]
        return await original(host, port)

    monkeypatch.setattr(egress, "_resolve", resolve)
    return table


def run(
    policy: EgressPolicy,
    *requests: dict[str, Any],
    hook: Callable[[httpx.URL], dict[str, str]] | None = None,
    deadline: float | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Perform requests through one Fetcher; return (wire responses, call records)."""

    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        fetcher = Fetcher(policy, hook)
        try:
            return [await fetcher.fetch(r, deadline) for r in requests], fetcher.calls
        finally:
            await fetcher.aclose()

    return asyncio.run(go())


def one(policy: EgressPolicy, request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return run(policy, request, **kwargs)[0][0]


def error_of(wire: dict[str, Any]) -> tuple[str, str]:
    assert "error" in wire, wire
    return wire["error"]["kind"], wire["error"]["message"]


# --------------------------------------------------------------------------- allowed traffic


def test_get_and_post_json_round_trip(server: str) -> None:
    get = build_request(f"http://{server}/echo?a=1", headers={"X-Custom": "v1"})
    post = build_request(f"http://{server}/echo", "POST", json={"order": 7, "ok": True})
    (got, posted), _ = run(LOOPBACK, get, post)

    resp = parse_response(got, get["url"])
    assert resp.status == 200 and resp.ok
    assert resp.headers["x-reply"] == "yes"
    assert resp.url == get["url"]
    assert resp.json()["headers"]["x-custom"] == "v1"
    assert resp.json()["path"] == "/echo?a=1"
    assert got["duration_ms"] > 0

    echoed = parse_response(posted, post["url"]).json()
    assert echoed["method"] == "POST"
    assert json.loads(echoed["body"]) == {"order": 7, "ok": True}
    assert echoed["headers"]["content-type"] == "application/json"


def test_404_is_a_normal_response(server: str) -> None:
    wire = one(LOOPBACK, build_request(f"http://{server}/echo?status=404"))
    resp = parse_response(wire, "x")
    assert resp.status == 404 and not resp.ok
    with pytest.raises(FetchError, match="404"):
        resp.raise_for_status()


def test_cidr_allow(server: str) -> None:
    wire = one(EgressPolicy(allow=("127.0.0.0/8",)), build_request(f"http://{server}/echo"))
    assert wire["status"] == 200


def test_allow_by_host_name(port: int) -> None:
    wire = one(EgressPolicy(allow=("localhost",)), build_request(f"http://localhost:{port}/echo"))
    assert wire["status"] == 200, wire


def test_framing_headers_from_the_function_are_dropped(server: str) -> None:
    req = build_request(f"http://{server}/echo", "POST", body="abc", headers={"Content-Length": "999"})
    echoed = parse_response(one(LOOPBACK, req), "x").json()
    assert echoed["body"] == "abc"
    assert echoed["headers"]["content-length"] == "3"


# --------------------------------------------------------------------------- refusals


def test_loopback_refused_without_allow(server: str, connects: list[str]) -> None:
    wire = one(EgressPolicy(), build_request(f"http://{server}/echo"))
    kind, message = error_of(wire)
    assert kind == "egress_denied"
    assert message == (
        "egress denied: 127.0.0.1 is a loopback address (allow it with --allow-egress 127.0.0.1)"
    )
    assert connects == []
    with pytest.raises(EgressDeniedError, match="loopback"):
        parse_response(wire, "x")


def test_localhost_refused(port: int, connects: list[str]) -> None:
    kind, message = error_of(one(EgressPolicy(), build_request(f"http://localhost:{port}/echo")))
    assert kind == "egress_denied"
    assert message.startswith("egress denied: localhost resolves to ")
    assert "loopback" in message and "--allow-egress localhost" in message
    assert connects == []


def test_metadata_address_refused_before_any_connection(connects: list[str]) -> None:
    started = time.monotonic()
    kind, message = error_of(one(EgressPolicy(), build_request("http://169.254.169.254/latest/meta-data/")))
    assert time.monotonic() - started < 0.5
    assert kind == "egress_denied"
    assert message == (
        "egress denied: 169.254.169.254 is a link-local/cloud metadata address "
        "(allow it with --allow-egress 169.254.169.254)"
    )
    assert connects == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("10.1.2.3", "a private address"),
        ("192.168.1.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("100.64.0.1", "CGNAT"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "IPv4-mapped form of 127.0.0.1, a loopback address"),
        ("[::ffff:169.254.169.254]", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("[::]", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("[fe80::1]", "link-local"),
        ("[fd00:ec2::254]", "metadata"),
        ("[fc00::1]", "private"),
        ("240.0.0.1", "reserved"),
        ("[64:ff9b::a01:203]", "NAT64 form of 10.1.2.3"),
        ("[2002:7f00:1::]", "6to4 form of 127.0.0.1"),
        ("2130706433", "2130706433 resolves to 127.0.0.1"),  # integer form of 127.0.0.1
        ("127.1", "127.1 resolves to 127.0.0.1"),
    ],
)
def test_non_public_addresses_refused(host: str, reason: str, connects: list[str]) -> None:
    kind, message = error_of(one(EgressPolicy(), build_request(f"http://{host}:8080/x")))
    assert kind == "egress_denied"
    assert reason in message
    assert "--allow-egress" in message
    assert connects == []


def test_name_resolving_to_loopback_refused_when_only_another_ip_allowed(
    port: int, connects: list[str]
) -> None:
    kind, message = error_of(
        one(EgressPolicy(allow=("127.0.0.2",)), build_request(f"http://localhost:{port}/"))
    )
    assert kind == "egress_denied"
    assert "localhost resolves to" in message
    assert connects == []


def test_dns_name_pointing_inside_is_refused(fake_dns: dict[str, list[str]], connects: list[str]) -> None:
    fake_dns["shop.example"] = ["10.1.2.3"]
    kind, message = error_of(one(EgressPolicy(), build_request("https://shop.example/api")))
    assert kind == "egress_denied"
    assert message == (
        "egress denied: shop.example resolves to 10.1.2.3, which is a private address "
        "(allow it with --allow-egress shop.example)"
    )
    assert connects == []


def test_connects_to_the_vetted_address_only(
    port: int, fake_dns: dict[str, list[str]], connects: list[str]
) -> None:
    # The name resolves once; the socket goes to the vetted IP, the Host header keeps the name.
    fake_dns["mixed.example"] = ["10.9.9.9", "127.0.0.1"]
    wire = one(LOOPBACK, build_request(f"http://mixed.example:{port}/echo"))
    assert wire["status"] == 200, wire
    assert parse_response(wire, "x").json()["headers"]["host"] == f"mixed.example:{port}"
    assert connects == ["127.0.0.1"]


def test_deny_wins_over_allow(server: str, fake_dns: dict[str, list[str]], connects: list[str]) -> None:
    policy = EgressPolicy(allow=("127.0.0.0/8", "api.example"), deny=("127.0.0.1", "*.blocked.example"))
    kind, message = error_of(one(policy, build_request(f"http://{server}/")))
    assert kind == "egress_denied"
    assert message == "egress denied: 127.0.0.1 is in the operator's egress deny list (127.0.0.1/32)"
    fake_dns["api.example"] = ["127.0.0.1"]
    assert "deny list" in error_of(one(policy, build_request("http://api.example/")))[1]
    kind, message = error_of(one(policy, build_request("http://x.blocked.example/")))
    assert message == "egress denied: x.blocked.example is in the operator's egress deny list"
    assert connects == []


def test_redirect_to_denied_addresses_refused(server: str, port: int, connects: list[str]) -> None:
    for target in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.2:{port}/echo"):
        kind, message = error_of(one(LOOPBACK, build_request(f"http://{server}/redirect?to={target}")))
        assert kind == "egress_denied", message
        assert target.split("/")[2].split(":")[0] in message
    assert connects == ["127.0.0.1", "127.0.0.1"]  # only the allowed server was ever dialled


def test_redirect_followed_and_hook_asked_again_per_hop(server: str, port: int) -> None:
    def hook(url: httpx.URL) -> dict[str, str]:
        return {"X-Admin-Token": "secret"} if url.host == "127.0.0.1" else {}

    policy = EgressPolicy(allow=("127.0.0.1", "localhost"))
    same = build_request(f"http://{server}/redirect?to=/echo?hop=2")
    other = build_request(
        f"http://{server}/redirect?to=http://localhost:{port}/echo", headers={"X-Mine": "1"}
    )
    (same_wire, other_wire), _ = run(policy, same, other, hook=hook)

    assert same_wire["url"] == f"http://{server}/echo?hop=2"
    assert parse_response(same_wire, "x").json()["headers"]["x-admin-token"] == "secret"
    seen = parse_response(other_wire, "x").json()["headers"]
    assert other_wire["url"] == f"http://localhost:{port}/echo"
    assert "x-admin-token" not in seen  # the secret never follows a redirect to another host
    assert seen["x-mine"] == "1"


def test_too_many_redirects(server: str) -> None:
    kind, message = error_of(
        one(EgressPolicy(allow=("127.0.0.1",), max_redirects=3), build_request(f"http://{server}/loop"))
    )
    assert kind == "limit"
    assert "more than 3 times" in message


def test_redirect_to_other_scheme_refused(server: str) -> None:
    kind, message = error_of(one(LOOPBACK, build_request(f"http://{server}/redirect?to=ftp://127.0.0.1/x")))
    assert kind == "invalid"
    assert "ftp://127.0.0.1/x" in message


def test_connection_refused_is_a_connection_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    kind, message = error_of(one(LOOPBACK, build_request(f"http://127.0.0.1:{free}/")))
    assert kind == "connection"
    assert message.startswith(
        f"GET http://127.0.0.1:{free}/ failed: could not connect to 127.0.0.1 port {free}"
    )


def test_next_vetted_address_tried_when_one_refuses(
    port: int, fake_dns: dict[str, list[str]], connects: list[str]
) -> None:
    fake_dns["two.example"] = ["127.0.0.2", "127.0.0.1"]  # the server listens on 127.0.0.1 only
    wire = one(EgressPolicy(allow=("127.0.0.0/8",)), build_request(f"http://two.example:{port}/echo"))
    assert wire["status"] == 200, wire
    assert connects == ["127.0.0.2", "127.0.0.1"]


# --------------------------------------------------------------------------- limits


def test_response_cap(server: str) -> None:
    policy = EgressPolicy(allow=("127.0.0.1",), max_response_bytes=1000)
    (exact, declared, streamed), calls = run(
        policy,
        build_request(f"http://{server}/big?n=1000"),
        build_request(f"http://{server}/big?n=1001"),
        build_request(f"http://{server}/big?n=50000&stream=1"),
    )
    assert len(parse_response(exact, "x").content) == 1000
    for wire in (declared, streamed):
        kind, message = error_of(wire)
        assert kind == "too_large"
        assert "1000-byte limit" in message and f"http://{server}/big" in message
    with pytest.raises(ResponseTooLargeError):
        parse_response(streamed, "x")
    assert [c["response_bytes"] for c in calls] == [1000, 0, 0]


def test_gzip_is_decoded_and_capped_after_decoding(server: str) -> None:
    policy = EgressPolicy(allow=("127.0.0.1",), max_response_bytes=1_000_000)
    started = time.monotonic()
    (small, bomb), _ = run(
        policy,
        build_request(f"http://{server}/gzip?n=5000"),
        build_request(f"http://{server}/gzip?n=20000000"),
    )
    assert parse_response(small, "x").content == b"\0" * 5000
    assert not any(k.lower() in ("content-encoding", "content-length") for k, _ in small["headers"])
    assert error_of(bomb)[0] == "too_large"  # ~20 KB on the wire, 20 MB decoded: never inflated
    assert time.monotonic() - started < 5


def test_per_call_timeout(server: str) -> None:
    started = time.monotonic()
    kind, message = error_of(one(LOOPBACK, build_request(f"http://{server}/slow?s=3", timeout=0.3)))
    assert 0.25 < time.monotonic() - started < 1.5
    assert kind == "timeout"
    assert message == f"GET http://{server}/slow?s=3 timed out after 0.3s (the requested timeout)"


def test_timeout_capped_by_policy(server: str) -> None:
    policy = EgressPolicy(allow=("127.0.0.1",), max_timeout_s=0.3)
    started = time.monotonic()
    wire = one(policy, build_request(f"http://{server}/slow?s=3", timeout=20))
    assert time.monotonic() - started < 1.5
    assert "maximum per-call timeout" in error_of(wire)[1]
    with pytest.raises(FetchTimeoutError):
        parse_response(wire, "x")


def test_deadline_shortens_the_timeout(server: str) -> None:
    started = time.monotonic()
    wire = one(LOOPBACK, build_request(f"http://{server}/slow?s=3", timeout=10), deadline=started + 0.3)
    assert time.monotonic() - started < 1.5
    kind, message = error_of(wire)
    assert kind == "timeout" and "invocation's deadline" in message


def test_deadline_already_passed(server: str, connects: list[str]) -> None:
    wire = one(LOOPBACK, build_request(f"http://{server}/echo"), deadline=time.monotonic() - 1)
    assert error_of(wire) == (
        "timeout",
        f"GET http://{server}/echo not sent: the invocation's deadline has passed",
    )
    assert connects == []


def test_max_calls(server: str) -> None:
    policy = EgressPolicy(allow=("127.0.0.1",), max_calls=2)
    req = build_request(f"http://{server}/echo")
    wires, calls = run(policy, req, req, req, req, req)
    assert [w.get("status") for w in wires[:2]] == [200, 200]
    for wire in wires[2:]:
        kind, message = error_of(wire)
        assert kind == "limit" and "more than 2 calls" in message
    assert len(calls) == 3  # the first refusal is logged; a loop of refusals is not


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ({"url": "ftp://127.0.0.1/x", "method": "GET"}, "only http and https"),
        ({"url": "file:///etc/passwd"}, "only http and https"),
        ({"url": "http:///nohost"}, "no host"),
        ({"url": 42}, "URL string"),
        ({"url": "http://127.0.0.1/", "method": "FOO BAR"}, "unsupported HTTP method 'FOO BAR'"),
        ({"url": "http://127.0.0.1/", "method": "CONNECT"}, "unsupported HTTP method"),
        ({"url": "http://127.0.0.1/", "headers": {"Bad Name": "x"}}, "invalid header name"),
        ({"url": "http://127.0.0.1/", "headers": {"X-A": "a\r\nHost: evil"}}, "without line breaks"),
        ({"url": "http://127.0.0.1/", "headers": ["x"]}, "object of strings"),
        ({"url": "http://127.0.0.1/", "body_b64": "***"}, "not valid base64"),
        ({"url": "http://127.0.0.1/", "body_b64": "A" * 2_000_000}, "larger than 1048576 bytes"),
        ({"url": "http://127.0.0.1/", "timeout": -1}, "positive number"),
        ({"url": "http://127.0.0.1/", "timeout": "5"}, "positive number"),
        ("http://127.0.0.1/", "must be an object"),
    ],
)
def test_invalid_requests(request_: Any, fragment: str, connects: list[str]) -> None:
    kind, message = error_of(one(LOOPBACK, request_))
    assert kind == "invalid"
    assert fragment in message
    assert connects == []


def test_huge_body_from_the_sdk_is_invalid() -> None:
    kind, _ = error_of(one(LOOPBACK, build_request("http://127.0.0.1:1/", "POST", body=b"x" * 1_048_577)))
    assert kind == "invalid"


# --------------------------------------------------------------------------- hook, records, sharing


def test_header_hook_adds_and_overrides(server: str) -> None:
    seen_urls: list[httpx.URL] = []

    def hook(url: httpx.URL) -> dict[str, str]:
        seen_urls.append(url)
        return {"x-admin-token": "platform-secret", "X-Added": "yes"}

    req = build_request(f"http://{server}/echo", headers={"X-Admin-Token": "function-value"})
    (wire,), calls = run(LOOPBACK, req, hook=hook)
    headers = parse_response(wire, "x").json()["headers"]
    assert headers["x-admin-token"] == "platform-secret"
    assert headers["x-added"] == "yes"
    assert seen_urls == [httpx.URL(f"http://{server}/echo")]
    assert "platform-secret" not in json.dumps(calls)


def test_call_records(server: str) -> None:
    reqs = [
        build_request(
            f"http://{server}/echo?q=1", "POST", json={"a": 1}, headers={"Authorization": "Bearer s3"}
        ),
        build_request(f"http://{server}/echo?status=404"),
        build_request("http://169.254.169.254/"),
        {"url": "http://user:pw@127.0.0.1:1/x?y=2", "method": "BREW"},
    ]
    wires, calls = run(LOOPBACK, *reqs)
    assert [set(c) for c in calls] == [
        {"method", "url", "status", "duration_ms", "error", "request_bytes", "response_bytes"}
    ] * 4
    first, second, denied, invalid = calls
    assert first["method"] == "POST" and first["url"] == f"http://{server}/echo?q=1"
    assert first["status"] == 200 and first["error"] is None
    assert first["request_bytes"] == len(b'{"a": 1}')
    assert first["response_bytes"] == len(parse_response(wires[0], "x").content)
    assert second["status"] == 404
    assert denied["status"] is None and denied["error"]["kind"] == "egress_denied"
    assert invalid["url"] == "http://127.0.0.1:1/x?y=2"  # credentials never reach the log
    assert invalid["error"]["kind"] == "invalid"
    assert all(c["duration_ms"] >= 0 for c in calls)
    assert "s3" not in json.dumps(calls)


def test_cookies_are_not_kept_between_calls(server: str) -> None:
    (_, wire), _ = run(
        LOOPBACK, build_request(f"http://{server}/setcookie"), build_request(f"http://{server}/echo")
    )
    assert "cookie" not in parse_response(wire, "x").json()["headers"]


def test_shared_client_reuses_connections(server: str, connects: list[str]) -> None:
    async def go() -> list[int]:
        async with EgressClient(LOOPBACK) as client:
            statuses = []
            for _ in range(3):  # three invocations, one pool
                fetcher = client.fetcher()
                statuses.append((await fetcher.fetch(build_request(f"http://{server}/echo")))["status"])
                await fetcher.aclose()  # does not close the shared client
            return statuses

    assert asyncio.run(go()) == [200, 200, 200]
    assert connects == ["127.0.0.1"]


def test_shared_client_survives_timeouts_and_concurrency(server: str) -> None:
    async def go() -> tuple[dict[str, Any], list[Any]]:
        async with EgressClient(LOOPBACK) as client:
            fetcher = client.fetcher()
            timed_out = await fetcher.fetch(build_request(f"http://{server}/slow?s=3", timeout=0.2))
            many = await asyncio.gather(
                *(client.fetcher().fetch(build_request(f"http://{server}/echo?i={i}")) for i in range(30))
            )
            return timed_out, many

    timed_out, many = asyncio.run(go())
    assert error_of(timed_out)[0] == "timeout"
    assert [w.get("status") for w in many] == [200] * 30


def test_fetcher_policy_must_match_the_shared_client() -> None:
    async def go() -> None:
        async with EgressClient(LOOPBACK) as client:
            client.fetcher(policy=EgressPolicy(allow=("127.0.0.1",), max_calls=3))  # limits may differ
            with pytest.raises(ValueError, match="allow/deny"):
                Fetcher(EgressPolicy(), client=client)

    asyncio.run(go())


@pytest.mark.parametrize("entry", ["http://x.example", "a b", "", "10.0.0.0/33", "*."])
def test_policy_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match="not a host name, IP address or CIDR"):
        EgressPolicy(allow=(entry,))


# --------------------------------------------------------------------------- TLS keeps the hostname


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only ``shop.example``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=shop.example",
         "-addext", "subjectAltName=DNS:shop.example"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for address in _serve(server):
        yield address, cert


def test_tls_verifies_the_url_hostname_not_the_ip(
    tls_server: tuple[str, Path], fake_dns: dict[str, list[str]], connects: list[str]
) -> None:
    address, cert = tls_server
    port = address.rsplit(":", 1)[1]
    fake_dns["shop.example"] = ["127.0.0.1"]

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with EgressClient(LOOPBACK, ssl_context=ssl.create_default_context(cafile=cert)) as client:
            fetcher = client.fetcher()
            by_name = await fetcher.fetch(build_request(f"https://shop.example:{port}/echo"))
            by_ip = await fetcher.fetch(build_request(f"https://127.0.0.1:{port}/echo"))
            return by_name, by_ip

    by_name, by_ip = asyncio.run(go())
    assert by_name["status"] == 200, by_name  # socket to 127.0.0.1, certificate checked for shop.example
    kind, message = error_of(by_ip)
    assert kind == "connection" and "CERTIFICATE_VERIFY_FAILED" in message
    assert connects == ["127.0.0.1", "127.0.0.1"]
