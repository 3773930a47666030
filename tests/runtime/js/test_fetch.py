"""fetch() goes to the host callback in the wire format of appfn.sdk.fetch; aborts and timeouts hold."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from appfn.errors import EgressDeniedError, FetchTimeoutError

from .conftest import FakeHost, make_context, wire_response

# PLATFORM.md §9, example A, written as the docs write it (one `const response`, so it compiles).
SYNC_CUSTOMER_TO_CRM = """\
export default async (context: Customer): Promise<Resp> => {
  const { event, data: customer } = context.payload;
  const crmRecord = {
    external_id: customer.id,
    first_name: customer.first_name,
    last_name: customer.last_name,
    email: customer.email,
    phone: `${customer.mobile_code}${customer.mobile}`,
    merchant_id: context.merchant.id,
    event_type: event,
  };
  const response = await fetch(context.settings.crmApiUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Authorization: `Bearer ${context.settings.crmApiKey}`,
    },
    body: JSON.stringify(crmRecord),
  });
  const result = await response.json();
  return Resp.success().setData({ customer_id: customer.id, crm_id: result.id });
};
"""


def test_docs_example_sync_customer_to_crm(js) -> None:
    host = FakeHost(lambda req: wire_response({"id": "crm-9"}, status=201, url=req["url"]))
    customer = {
        "id": 77,
        "first_name": "Sara",
        "last_name": "A",
        "email": "s@x.sa",
        "mobile_code": "+966",
        "mobile": 555,
    }
    out = js.run(SYNC_CUSTOMER_TO_CRM, make_context(customer), fetch=host, timeout_s=5)
    assert out["error"] is None, out
    assert out["response"]["data"] == {"customer_id": 77, "crm_id": "crm-9"}
    (req,) = host.requests
    assert req["url"] == "https://crm.example" and req["method"] == "POST"
    assert req["headers"] == {"authorization": "Bearer k-123", "content-type": "application/json"}
    assert json.loads(base64.b64decode(req["body_b64"])) == {
        "external_id": 77, "first_name": "Sara", "last_name": "A", "email": "s@x.sa", "phone": "+966555",
        "merchant_id": 1305146709, "event_type": "customer.created",
    }  # fmt: skip
    # No signal: the host is told the time left in the invocation.
    assert 4.0 < req["timeout"] <= 5.0


def test_response_api(js) -> None:
    host = FakeHost(
        lambda req: wire_response(
            "héllo", status=404, headers=[["Content-Type", "text/plain"], ["X-Multi", "a"], ["x-multi", "b"]],
            url="https://final.example/after-redirect",
        )
    )  # fmt: skip
    out = js.body(
        "const r = await fetch(new URL('https://api.example/x?y=1'));\n"
        "const copy = r.clone();\n"
        "const buf = await copy.arrayBuffer();\n"
        "return Resp.success().setData({ ok: r.ok, status: r.status, statusText: r.statusText, url: r.url,\n"
        "  redirected: r.redirected, ct: r.headers.get('content-type'), multi: r.headers.get('X-MULTI'),\n"
        "  text: await r.text(), bytes: buf.byteLength, used: r.bodyUsed,\n"
        "  again: await r.text().catch((e: any) => e.name) });",
        fetch=host,
    )
    assert out["response"]["data"] == {
        "ok": False, "status": 404, "statusText": "Not Found", "url": "https://final.example/after-redirect",
        "redirected": True, "ct": "text/plain", "multi": "a, b", "text": "héllo", "bytes": 6, "used": True,
        "again": "TypeError",
    }  # fmt: skip
    assert host.requests[0]["url"] == "https://api.example/x?y=1" and host.requests[0]["body_b64"] is None


def test_request_bodies(js) -> None:
    host = FakeHost(lambda req: wire_response({}, url=req["url"]))
    out = js.body(
        "await fetch('https://a.example/form', { method: 'put', body: new URLSearchParams({ q: 'a b' }) });\n"
        "await fetch('https://a.example/bin', { method: 'POST', body: new Uint8Array([0, 255, 7]) });\n"
        "await fetch('https://a.example/text', { method: 'POST', body: 'plain',\n"
        "  headers: new Headers([['X-Trace', '1']]) });\n"
        "const errs: string[] = [];\n"
        "for (const bad of [() => fetch('https://a.example', { body: 'x' }), () => fetch('/relative'),\n"
        "                   () => fetch('ftp://a.example/')]) {\n"
        "  await bad().catch((e: any) => errs.push(e.name + ': ' + e.message));\n"
        "}\n"
        "return Resp.success().setData({ errs });",
        fetch=host,
    )
    form, binary, text = host.requests
    assert form["method"] == "PUT" and base64.b64decode(form["body_b64"]) == b"q=a+b"
    assert form["headers"] == {"content-type": "application/x-www-form-urlencoded;charset=UTF-8"}
    assert base64.b64decode(binary["body_b64"]) == bytes([0, 255, 7]) and binary["headers"] == {}
    assert text["headers"] == {"content-type": "text/plain;charset=UTF-8", "x-trace": "1"}
    assert out["response"]["data"]["errs"] == [
        "TypeError: fetch: a GET or HEAD request cannot have a body",
        'TypeError: fetch: only absolute http(s) URLs can be fetched, got "/relative"',
        'TypeError: fetch: only absolute http(s) URLs can be fetched, got "ftp://a.example/"',
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"error": {"kind": "egress_denied", "message": "10.0.0.1 is private"}},
            "TypeError|egress_denied|fetch failed: 10.0.0.1 is private",
        ),
        ({"error": {"kind": "timeout", "message": "no answer in 2 s"}}, "TimeoutError|timeout|no answer in 2 s"),
        ({"error": {"kind": "too_large", "message": "over 5 MB"}}, "TypeError|too_large|fetch failed: over 5 MB"),
        (EgressDeniedError("blocked host", "https://x"), "TypeError|egress_denied|fetch failed: blocked host"),
        (FetchTimeoutError("slow", "https://x"), "TimeoutError|timeout|slow"),
        (RuntimeError("boom"), "TypeError|network|fetch failed: RuntimeError: boom"),
        (TimeoutError("read timed out"), "TimeoutError|timeout|read timed out"),
    ],
)
def test_host_errors_become_fetch_rejections(js, answer: Any, expected: str) -> None:
    out = js.body(
        "try { await fetch('https://x.example'); return Resp.success(); }\n"
        "catch (e: any) { return Resp.error(`${e.name}|${e.cause}|${e.message}`); }",
        fetch=FakeHost(lambda req: answer),
    )
    assert out["response"]["error"] == expected


def test_abort_signal_timeout_rejects_in_js_and_cancels_the_host_call(js) -> None:
    host = FakeHost(delay_s=1.0)
    start = time.perf_counter()
    out = js.body(
        "try { await fetch('https://slow.example', { signal: AbortSignal.timeout(80) }); return Resp.success(); }\n"
        "catch (e: any) { return Resp.error(e.name).setStatus(503); }",
        fetch=host,
    )
    elapsed = time.perf_counter() - start
    assert out["response"]["error"] == "TimeoutError" and out["response"]["status"] == 503
    assert elapsed < 0.6
    assert 0.0 < host.requests[0]["timeout"] <= 0.08  # the remaining timeout went to the host
    assert host.cancelled == 1


def test_abort_controller_aborts_an_inflight_fetch(js) -> None:
    host = FakeHost(delay_s=1.0)
    out = js.body(
        "const c = new AbortController();\n"
        "setTimeout(() => c.abort(), 30);\n"
        "const err = await fetch('https://slow.example', { signal: c.signal }).catch((e: any) => e);\n"
        "const pre = await fetch('https://x.example', { signal: AbortSignal.abort() }).catch((e: any) => e.name);\n"
        "return Resp.success().setData({ name: err.name, isDom: err instanceof DOMException, pre });",
        fetch=host,
    )
    assert out["response"]["data"] == {"name": "AbortError", "isDom": True, "pre": "AbortError"}
    assert len(host.requests) == 1 and host.cancelled == 1
    assert host.requests[0]["timeout"] > 1.0  # no deadline on a plain controller: the invocation's


def test_parallel_fetches_overlap(js) -> None:
    host = FakeHost(lambda req: wire_response({"u": req["url"]}), delay_s=0.1)
    start = time.perf_counter()
    out = js.body(
        "const urls = [1, 2, 3, 4].map((i) => `https://a.example/${i}`);\n"
        "const all = await Promise.all(urls.map((u) => fetch(u).then((r) => r.json())));\n"
        "return Resp.success().setData({ all: all.map((x: any) => x.u) });",
        fetch=host,
    )
    assert out["response"]["data"]["all"] == [f"https://a.example/{i}" for i in range(1, 5)]
    assert time.perf_counter() - start < 0.35


def test_fetch_count_is_capped(js) -> None:
    out = js.body(
        "let n = 0;\n"
        "try { for (;;) { await fetch('https://a.example'); n++; } }\n"
        "catch (e: any) { return Resp.error(e.message).setData({ n }); }",
        timeout_s=10,
    )
    assert out["response"]["data"] == {"n": 100}
    assert out["response"]["error"] == "fetch: over 100 calls in one invocation"


def test_host_calls_in_flight_are_capped(js) -> None:
    host = FakeHost(delay_s=0.05)
    out = js.body(
        "const all = await Promise.allSettled(Array.from({ length: 40 }, () => fetch('https://a.example')));\n"
        "const digests = await Promise.allSettled(Array.from({ length: 40 }, () =>\n"
        "  crypto.subtle.digest('SHA-256', new Uint8Array(8))));\n"
        "const why = all.find((r) => r.status === 'rejected') as any;\n"
        "return Resp.success().setData({ ok: all.filter((r) => r.status === 'fulfilled').length,\n"
        "  why: why.reason.message, dig: digests.filter((r) => r.status === 'fulfilled').length });",
        fetch=host,
    )
    assert out["response"]["data"] == {"ok": 32, "why": "fetch failed: over 32 host calls in flight", "dig": 32}
    assert len(host.requests) == 32
