"""The host half of ``context.fetch``: performs a function's HTTP request under the egress policy.

A function never touches the network. ``appfn.sdk.fetch.build_request`` turns its call into a
wire request, the worker hands that to the host, and :class:`Fetcher` performs it and answers
with a wire response (or ``{"error": {"kind", "message"}}``) that ``parse_response`` reads.

Where the policy is enforced matters. The check runs inside the connection pool's network
backend (:class:`_VettingBackend`): it resolves the hostname itself, vets every address, and
opens the socket to a vetted IP, while TLS still verifies the certificate against the URL's
hostname. So a DNS name that points at 10.0.0.5, a redirect to 169.254.169.254 and DNS
rebinding between check and connect are all refused, and a refused request never sends a packet.

One :class:`EgressClient` (one httpx client and connection pool) is meant to be shared by every
invocation on an event loop; a :class:`Fetcher` per invocation adds the call budget, the
deadline, the platform's header hook and the call records for the execution log.
"""

from __future__ import annotations

import base64
import binascii
import http.cookiejar
import ipaddress
import logging
import math
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpx

from appfn import __version__
from appfn.errors import EgressDeniedError

__all__ = ["EgressClient", "EgressPolicy", "Fetcher", "HeaderHook"]

log = logging.getLogger(__name__)

HeaderHook = Callable[[httpx.URL], dict[str, str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_REQUEST_BYTES = 1_048_576
MAX_URL_CHARS = 8192
MAX_HEADERS = 100
MAX_HEADER_BYTES = 65_536
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Framing and hop-by-hop headers belong to the host's HTTP client, not to the function.
DROPPED_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
# A gzip body may be a little larger than what it decodes to; allow for that on the raw side.
_RAW_SLACK = 65_536

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")

# Only for wording: all of these are already refused as non-public addresses.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_IETF_PROTOCOL = ipaddress.ip_network("192.0.0.0/24")  # Python 3.11 calls parts of it global
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class EgressPolicy:
    """What functions may reach. ``allow``/``deny`` take hosts, IPs and CIDRs.

    A host entry matches that exact name; ``*.example.com`` matches its subdomains. ``deny``
    wins over ``allow``; ``allow`` lifts the built-in refusal of non-public addresses.
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    max_response_bytes: int = 1_048_576
    default_timeout_s: float = 10.0
    max_timeout_s: float = 30.0
    max_calls: int = 50
    max_redirects: int = 5

    def __post_init__(self) -> None:
        # Accept lists from config loaders but keep the policy hashable and comparable.
        object.__setattr__(self, "allow", tuple(self.allow))
        object.__setattr__(self, "deny", tuple(self.deny))
        _Rules.parse(self)  # raises ValueError on a bad entry, at startup rather than per call
        for name in ("max_response_bytes", "default_timeout_s", "max_timeout_s", "max_calls"):
            if not getattr(self, name) > 0:
                raise ValueError(f"egress policy: {name} must be positive, got {getattr(self, name)!r}")
        if self.max_redirects < 0:
            raise ValueError(f"egress policy: max_redirects must be >= 0, got {self.max_redirects!r}")


@dataclass(frozen=True)
class _Entries:
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # ".example.com" for "*.example.com"
    networks: tuple[IPNetwork, ...] = ()

    def has_host(self, host: str) -> bool:
        return host in self.hosts or any(host.endswith(s) for s in self.suffixes)

    def network_for(self, ip: IPAddress) -> IPNetwork | None:
        return next((n for n in self.networks if ip.version == n.version and ip in n), None)


@dataclass(frozen=True)
class _Rules:
    allow: _Entries
    deny: _Entries

    @classmethod
    def parse(cls, policy: EgressPolicy) -> _Rules:
        return cls(_parse_entries(policy.allow, "allow"), _parse_entries(policy.deny, "deny"))


def _parse_entries(entries: Iterable[str], kind: str) -> _Entries:
    hosts: set[str] = set()
    suffixes: list[str] = []
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = str(raw).strip().strip("[]")
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = _normalise_host(entry.removeprefix("*."))
        if not name or "/" in name or ":" in name or not all(_is_label(p) for p in name.split(".")):
            raise ValueError(f"egress policy: {kind} entry {raw!r} is not a host name, IP address or CIDR")
        if entry.startswith("*."):
            suffixes.append("." + name)
        else:
            hosts.add(name)
    return _Entries(frozenset(hosts), tuple(suffixes), tuple(networks))


def _is_label(label: str) -> bool:
    return 0 < len(label) <= 63 and re.fullmatch(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?", label) is not None


def _normalise_host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


# --------------------------------------------------------------------------- address vetting


def _unwrap(ip: IPAddress) -> tuple[IPAddress, str | None]:
    """The IPv4 address an IPv6 form carries (mapped, NAT64, 6to4), with the form's name."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped, "IPv4-mapped"
        if any(ip in net for net in _NAT64):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
        if ip.sixtofour is not None:
            return ip.sixtofour, "6to4"
    return ip, None


def _non_public_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address, or None if it is."""
    if ip in _METADATA:
        return "a link-local/cloud metadata address"
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.version == 4 and ip in _CGNAT, "a shared (CGNAT) address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (ip.version == 4 and ip in _IETF_PROTOCOL, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _refusal(rules: _Rules, host: str, ip: IPAddress) -> tuple[str, bool] | None:
    """None if ``host`` may be reached at ``ip``; else (why, whether --allow-egress would lift it)."""
    inner, form = _unwrap(ip)
    for candidate in (ip, inner):
        denied_by = rules.deny.network_for(candidate)
        if denied_by is not None:
            return f"in the operator's egress deny list ({denied_by})", False
    if rules.allow.has_host(host) or any(rules.allow.network_for(c) for c in (ip, inner)):
        return None
    reason = _non_public_reason(inner)
    if reason is None:
        return None
    return (f"the {form} form of {inner}, {reason}" if form else reason), True


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's preferred order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(sockaddr[0]), None)
    return list(seen)


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class _VettingBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets and connects; the one place egress is decided.

    httpcore hands ``connect_tcp`` the URL's host and, separately, gives the same hostname to
    ``start_tls`` as ``server_hostname``, so connecting to the vetted IP keeps SNI and the
    certificate check on the name the function asked for.
    """

    def __init__(self, rules: _Rules, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._rules = rules
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.vetted_addresses(host, port, timeout)
        failures: list[str] = []
        for ip in addresses:  # in resolver order, one at a time; the per-call timeout bounds the lot
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectTimeout:
                if len(addresses) == 1:
                    raise
                why = "timed out"
            except httpcore.ConnectError as exc:
                why = _root_cause(exc)
            failures.append(why if str(ip) == host else f"{ip}: {why}")
        raise httpcore.ConnectError(f"could not connect to {host} port {port}: {'; '.join(failures)}")

    async def vetted_addresses(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        name = _normalise_host(host)
        if self._rules.deny.has_host(name):
            raise EgressDeniedError(f"egress denied: {name} is in the operator's egress deny list", name)
        literal = _literal_ip(name)
        addresses = [literal] if literal is not None else await self._resolve(name, port, timeout)
        refusals = [(ip, _refusal(self._rules, name, ip)) for ip in addresses]
        # A name with mixed answers is reached only at its vetted addresses.
        allowed = [ip for ip, refusal in refusals if refusal is None]
        if allowed:
            return allowed
        ip, refusal = refusals[0]
        assert refusal is not None
        raise EgressDeniedError(_denied_message(name, ip, *refusal, literal=literal is not None), name)

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            with anyio.fail_after(timeout):
                addresses = await _resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"could not resolve {host}: no addresses")
        return addresses

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise EgressDeniedError("egress denied: unix sockets are not reachable from functions", path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _root_cause(exc: BaseException) -> str:
    """The innermost reason (e.g. "[Errno 111] Connection refused"), not anyio's summary."""
    while True:
        if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            return str(exc) or type(exc).__name__


def _denied_message(host: str, ip: IPAddress, why: str, can_allow: bool, *, literal: bool) -> str:
    subject = f"{ip} is {why}" if literal else f"{host} resolves to {ip}, which is {why}"
    hint = f" (allow it with --allow-egress {ip if literal else host})" if can_allow else ""
    return f"egress denied: {subject}{hint}"


# --------------------------------------------------------------------------- httpx plumbing


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class _Transport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool that uses :class:`_VettingBackend`.

    ``httpx.AsyncHTTPTransport`` (0.28) cannot be given a network backend, so this mirrors its
    ``handle_async_request`` with public httpx/httpcore API only. httpcore's exceptions are
    left as they are; :func:`_classify` knows both families.
    """

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _NoCookies(http.cookiejar.CookiePolicy):
    """The client is shared by every invocation: never store or send cookies between calls."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = True

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


# --------------------------------------------------------------------------- request checks


class _Fail(Exception):
    """A per-call problem that becomes ``{"error": {"kind", "message"}}``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def wire(self) -> dict[str, Any]:
        return {"error": {"kind": self.kind, "message": self.message}}


@dataclass(frozen=True)
class _Prepared:
    method: str
    url: httpx.URL
    headers: list[tuple[str, str]]
    body: bytes | None
    timeout: float | None


def _prepare(request: Any) -> _Prepared:
    """Check a wire request from untrusted code; raise ``_Fail("invalid", ...)`` on anything off."""
    if not isinstance(request, dict):
        raise _Fail("invalid", f"fetch request must be an object, got {type(request).__name__}")
    method = request.get("method", "GET")
    if not isinstance(method, str) or method not in METHODS:
        raise _Fail(
            "invalid", f"unsupported HTTP method {method!r} (use one of {', '.join(sorted(METHODS))})"
        )
    url = _check_url(request.get("url"))
    return _Prepared(
        method=method,
        url=url,
        headers=_check_headers(request.get("headers"), url),
        body=_check_body(request.get("body_b64"), url),
        timeout=_check_timeout(request.get("timeout"), url),
    )


def _check_url(raw: Any) -> httpx.URL:
    if not isinstance(raw, str):
        raise _Fail("invalid", f"fetch needs a URL string, got {type(raw).__name__}")
    if len(raw) > MAX_URL_CHARS:
        raise _Fail("invalid", f"URL is longer than {MAX_URL_CHARS} characters: {raw[:80]}...")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise _Fail("invalid", f"invalid URL {raw!r}: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise _Fail("invalid", f"only http and https URLs can be fetched, got {raw!r}")
    if not url.host:
        raise _Fail("invalid", f"URL {raw!r} has no host")
    return url


def _check_headers(raw: Any, url: httpx.URL) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise _Fail("invalid", f"headers for {url} must be an object of strings")
    if len(raw) > MAX_HEADERS:
        raise _Fail("invalid", f"too many headers for {url} ({len(raw)} > {MAX_HEADERS})")
    out: list[tuple[str, str]] = []
    size = 0
    for name, value in raw.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise _Fail("invalid", f"invalid header name {name!r} for {url}")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            raise _Fail("invalid", f"header {name!r} for {url} must be printable ASCII without line breaks")
        size += len(name) + len(value)
        if name.lower() not in DROPPED_HEADERS:
            out.append((name, value))
    if size > MAX_HEADER_BYTES:
        raise _Fail("invalid", f"headers for {url} are larger than {MAX_HEADER_BYTES} bytes")
    return out


def _check_body(raw: Any, url: httpx.URL) -> bytes | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _Fail("invalid", f"request body for {url} must be base64 text")
    too_big = _Fail("invalid", f"request body for {url} is larger than {MAX_REQUEST_BYTES} bytes")
    if len(raw) > (MAX_REQUEST_BYTES + 2) // 3 * 4:  # refuse before decoding anything
        raise too_big
    try:
        body = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _Fail("invalid", f"request body for {url} is not valid base64") from None
    if len(body) > MAX_REQUEST_BYTES:
        raise too_big
    return body


def _check_timeout(raw: Any, url: httpx.URL) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw <= 0:
        raise _Fail("invalid", f"timeout for {url} must be a positive number of seconds, got {raw!r}")
    return float(raw)


def _redacted(url: Any) -> str:
    """The URL for the execution log: query kept, user:password dropped."""
    if isinstance(url, httpx.URL):
        return str(url.copy_with(userinfo=b"")) if url.userinfo else str(url)
    if not isinstance(url, str):
        return repr(url)[:200]
    if "@" not in url:  # no userinfo possible: skip a second URL parse on the hot path
        return url
    try:
        return _redacted(httpx.URL(url))
    except Exception:  # unparseable: it never went anywhere, keep a short prefix
        return url[:200]


# --------------------------------------------------------------------------- responses


class _Body:
    """Collects a response body without holding more than the cap plus one chunk.

    gzip is decoded here, not by httpx, so the cap applies to decoded bytes and a small
    compressed body cannot expand into gigabytes in memory.
    """

    def __init__(self, content_encoding: str, cap: int) -> None:
        self.cap = cap
        encoding = content_encoding.strip().lower()
        self.decoder = zlib.decompressobj(zlib.MAX_WBITS | 16) if encoding in ("gzip", "x-gzip") else None
        self.raw_limit = cap + _RAW_SLACK if self.decoder else cap
        self.raw_bytes = 0
        self.data = bytearray()

    @property
    def decoded(self) -> bool:
        return self.decoder is not None

    def feed(self, chunk: bytes) -> bool:
        """Add a raw chunk; False once the body is past the cap."""
        self.raw_bytes += len(chunk)
        if self.decoder is None:
            self.data += chunk
            return len(self.data) <= self.cap and self.raw_bytes <= self.raw_limit
        # max_length = room + 1: producing that much proves the body is too large.
        self.data += self.decoder.decompress(chunk, self.cap - len(self.data) + 1)
        return len(self.data) <= self.cap and self.raw_bytes <= self.raw_limit

    def finish(self) -> bool:
        if self.decoder is not None:
            self.data += self.decoder.flush()
        return len(self.data) <= self.cap


def _response_headers(response: httpx.Response, decoded: bool) -> list[list[str]]:
    # Once we decoded gzip, Content-Encoding/Length describe bytes the function never sees.
    skip = {"content-encoding", "content-length"} if decoded else set()
    return [[k, v] for k, v in response.headers.multi_items() if k.lower() not in skip]


async def _read_body(response: httpx.Response, cap: int) -> _Body:
    body = _Body(response.headers.get("content-encoding", ""), cap)
    declared = response.headers.get("content-length", "")
    has_body = response.request.method != "HEAD" and response.status_code not in (204, 304)
    if has_body and declared.isdigit() and int(declared) > body.raw_limit:
        raise _too_large(response.url, cap, f"it declares {declared} bytes")
    try:
        async for chunk in response.aiter_raw():
            if not body.feed(chunk):
                raise _too_large(response.url, cap)
        if not body.finish():
            raise _too_large(response.url, cap)
    except zlib.error as exc:
        raise _Fail(
            "connection", f"response from {_redacted(response.url)} has a broken gzip body: {exc}"
        ) from None
    return body


def _too_large(url: httpx.URL, cap: int, detail: str = "") -> _Fail:
    extra = f"; {detail}" if detail else ""
    return _Fail("too_large", f"response from {_redacted(url)} is larger than the {cap}-byte limit{extra}")


def _classify(exc: BaseException, method: str, url: httpx.URL, timeout: float, why: str) -> _Fail:
    """Turn whatever httpx/httpcore/our backend raised into a wire error for the function."""
    target = f"{method} {_redacted(url)}"
    if isinstance(exc, EgressDeniedError):
        return _Fail("egress_denied", str(exc))
    if isinstance(exc, TimeoutError | httpx.TimeoutException | httpcore.TimeoutException):
        return _Fail("timeout", f"{target} timed out after {timeout:.3g}s ({why})")
    detail = str(exc) or type(exc).__name__
    return _Fail("connection", f"{target} failed: {detail}")


# --------------------------------------------------------------------------- public API


class EgressClient:
    """The shared half: one httpx client and connection pool behind the egress policy.

    Create one per event loop and reuse it for every invocation (``fetcher()`` is cheap);
    building one costs tens of milliseconds, mostly loading the CA bundle, and a fresh pool
    also pays a new TCP/TLS handshake on every first call.
    """

    def __init__(
        self,
        policy: EgressPolicy | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy or EgressPolicy()
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=50)
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_VettingBackend(_Rules.parse(self.policy), network_backend),
        )
        self._client = httpx.AsyncClient(
            transport=_Transport(pool),
            # No env proxies, netrc or SSL_CERT_FILE: a proxy would move the check to its address.
            trust_env=False,
            cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
            follow_redirects=False,
            # gzip only: we decode it ourselves under the size cap (see _Body).
            headers={"User-Agent": f"appfn-fetch/{__version__}", "Accept-Encoding": "gzip"},
        )

    def fetcher(self, header_hook: HeaderHook | None = None, policy: EgressPolicy | None = None) -> Fetcher:
        """A per-invocation :class:`Fetcher` over this client's pool."""
        return Fetcher(policy or self.policy, header_hook, client=self)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> EgressClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _perform(self, req: _Prepared, policy: EgressPolicy, hook: HeaderHook | None) -> dict[str, Any]:
        """Send ``req`` and follow redirects (each hop vetted at connect); raise ``_Fail`` on failure."""
        request = self._client.build_request(
            req.method, req.url, headers=req.headers, content=req.body, timeout=req.timeout
        )
        hooked = _apply_hook(request, hook)
        for _ in range(policy.max_redirects + 1):
            response = await self._client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    body = await _read_body(response, policy.max_response_bytes)
                    return _wire_response(response, body)
                nxt = response.next_request
            finally:
                await response.aclose()
            if nxt.url.scheme not in ("http", "https"):
                raise _Fail("invalid", f"{_redacted(request.url)} redirected to unsupported URL {nxt.url}")
            # Headers from the hook were meant for the previous URL: drop them, ask again.
            for name in hooked:
                nxt.headers.pop(name, None)
            request, hooked = nxt, _apply_hook(nxt, hook)
        raise _Fail(
            "limit", f"{_redacted(req.url)} redirected more than {policy.max_redirects} times (max_redirects)"
        )


def _apply_hook(request: httpx.Request, hook: HeaderHook | None) -> list[str]:
    """Set the platform's headers (over the function's); return their names."""
    if hook is None:
        return []
    added = hook(request.url) or {}
    for name, value in added.items():
        request.headers[name] = value
    return list(added)


def _wire_response(response: httpx.Response, body: _Body) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": _response_headers(response, body.decoded),
        "url": str(response.url),
        "body_b64": base64.b64encode(bytes(body.data)).decode("ascii"),
    }


@dataclass(frozen=True)
class _Budget:
    seconds: float
    why: str


class Fetcher:
    """Performs one invocation's fetches: call budget, deadline, header hook, call records.

    ``Fetcher(policy)`` owns a private :class:`EgressClient`; pass ``client=`` (or use
    ``EgressClient.fetcher()``) to share a warm pool across invocations.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        header_hook: HeaderHook | None = None,
        *,
        client: EgressClient | None = None,
    ) -> None:
        if client is not None and (client.policy.allow, client.policy.deny) != (policy.allow, policy.deny):
            raise ValueError(
                "a Fetcher's allow/deny must match its EgressClient's: they are enforced in the pool"
            )
        self.policy = policy
        self.header_hook = header_hook
        self._owns_client = client is None
        self._client = client if client is not None else EgressClient(policy)
        self._calls: list[dict[str, Any]] = []
        self._count = 0

    @property
    def calls(self) -> list[dict[str, Any]]:
        """One record per call, for the execution log (no header values: they can hold secrets)."""
        return [dict(c) for c in self._calls]

    async def fetch(self, request: dict[str, Any], deadline: float | None = None) -> dict[str, Any]:
        """Perform a wire request; return a wire response or ``{"error": {...}}``.

        Never raises for a per-request problem. ``deadline`` is the invocation's own
        ``time.monotonic()`` deadline; the call's timeout never runs past it.
        """
        started = time.monotonic()
        self._count += 1
        try:
            result = await self._fetch(request, deadline)
        except _Fail as fail:
            result = fail.wire
        except Exception:  # a host bug must not take the invocation down with it; it is logged
            log.exception("egress: unexpected error performing a fetch")
            result = _Fail("connection", "fetch failed: internal error in the platform (logged)").wire
        duration_ms = (time.monotonic() - started) * 1000
        if "error" not in result:
            result["duration_ms"] = round(duration_ms, 3)
        self._record(request, result, duration_ms)
        return result

    async def _fetch(self, request: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        if self._count > self.policy.max_calls:
            url = _redacted(request.get("url") if isinstance(request, dict) else None)
            raise _Fail(
                "limit", f"fetch of {url} refused: more than {self.policy.max_calls} calls in one invocation"
            )
        req = _prepare(request)
        budget = self._budget(req.timeout, deadline)
        if budget.seconds <= 0:
            raise _Fail(
                "timeout", f"{req.method} {_redacted(req.url)} not sent: the invocation's deadline has passed"
            )
        req = _Prepared(req.method, req.url, req.headers, req.body, budget.seconds)
        try:
            # httpx timeouts are per phase; this bounds the whole call, redirects and body included.
            with anyio.fail_after(budget.seconds):
                return await self._client._perform(req, self.policy, self.header_hook)
        except _Fail:
            raise
        except _TRANSPORT_ERRORS as exc:
            raise _classify(exc, req.method, req.url, budget.seconds, budget.why) from None

    def _budget(self, requested: float | None, deadline: float | None) -> _Budget:
        budget = (
            _Budget(requested, "the requested timeout")
            if requested is not None
            else _Budget(self.policy.default_timeout_s, "the default per-call timeout")
        )
        if budget.seconds > self.policy.max_timeout_s:
            budget = _Budget(self.policy.max_timeout_s, "the platform's maximum per-call timeout")
        if deadline is not None and deadline - time.monotonic() < budget.seconds:
            budget = _Budget(deadline - time.monotonic(), "cut short by the invocation's deadline")
        return budget

    def _record(self, request: Any, result: dict[str, Any], duration_ms: float) -> None:
        # Past the limit, keep only the first refusal: a looping function must not grow the log.
        if self._count > self.policy.max_calls + 1:
            return
        raw = request if isinstance(request, dict) else {}
        method = raw.get("method", "GET")
        self._calls.append(
            {
                "method": method if isinstance(method, str) else repr(method)[:20],
                "url": _redacted(raw.get("url")),
                "status": result.get("status"),
                "duration_ms": round(duration_ms, 3),
                "error": result.get("error"),
                "request_bytes": _b64_size(raw.get("body_b64")),
                "response_bytes": _b64_size(result.get("body_b64")),
            }
        )

    async def aclose(self) -> None:
        """Close the client if this Fetcher created it; a shared client is left open."""
        if self._owns_client:
            await self._client.aclose()


_TRANSPORT_ERRORS = (
    TimeoutError,
    OSError,
    EgressDeniedError,
    httpx.HTTPError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


def _b64_size(text: Any) -> int:
    """Decoded size of base64 text, without decoding it."""
    if not isinstance(text, str) or not text:
        return 0
    return len(text) * 3 // 4 - text[-2:].count("=")
