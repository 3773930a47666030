"""The globals a function finds, as the original runtime provides them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from typing import Any

import pytest


def data(out: dict[str, Any]) -> Any:
    assert out["error"] is None, out
    return out["response"]["data"]


def ret(js, expr_body: str) -> Any:
    """Run a body that ends with `return <value>`, wrapped into Resp data under `v`."""
    return data(
        js.body(f"const __v = await (async () => {{\n{expr_body}\n}})();\nreturn Resp.success().setData({{ v: __v }});")
    )["v"]


# ------------------------------------------------------------------ console
def test_console_levels_and_formatting(js) -> None:
    out = js.body(
        "console.log('plain', 1, true, null, undefined, [1, 'a'], { a: { b: { c: { d: 1 } } } });\n"
        "console.info('info'); console.debug('debug');\n"
        "console.warn('careful'); console.error(new TypeError('bad thing'));\n"
        "console.log('%s is %d years and %j', 'Sara', 31.9, { x: 1 }, 'extra');\n"
        "console.log('two\\nlines');\n"
        "console.log(new Map([['k', 1]]), new Set([1]), new Date(0), /re/g, () => 1, Symbol('s'), 10n);\n"
        "console.log(Resp.success().setData({ a: 1 }));\n"
        "return Resp.success();"
    )
    assert out["console"][:8] == [
        "plain 1 true null undefined [ 1, 'a' ] { a: { b: { c: [Object] } } }",
        "info",
        "debug",
        "[warn] careful",
        "[error] TypeError: bad thing",
        "    at default (handler.ts:4)",
        'Sara is 31.9 years and {"x":1} extra',
        "two",
    ]
    assert out["console"][8:] == [
        "lines",
        "Map(1) { 'k' => 1 } Set(1) { 1 } 1970-01-01T00:00:00.000Z /re/g [Function: (anonymous)] Symbol(s) 10n",
        "Resp { success: true, data: { a: 1 }, status: 200, message: null, fields: null }",
    ]


def test_console_is_capped_with_the_runtime_marker(js) -> None:
    out = js.body("for (let i = 0; i < 1500; i++) console.log('line', i);\nreturn Resp.success();")
    assert len(out["console"]) == 1001
    assert out["console"][999] == "line 999"
    assert out["console"][-1] == "[console output truncated: 500 more line(s) not shown]"
    out = js.body("for (let i = 0; i < 100; i++) console.log('x'.repeat(1000));\nreturn Resp.success();")
    assert len(out["console"]) == 66  # 65 lines of 1001 bytes fit in 64 KiB, then the marker
    assert out["console"][-1] == "[console output truncated: 35 more line(s) not shown]"
    out = js.body("console.log('y'.repeat(5000));\nreturn Resp.success();")
    assert out["console"] == ["y" * 4096 + "... [line cut at 4096 characters]"]


def test_console_lines_flushed_before_a_runaway_are_kept(js) -> None:
    out = js.body(
        "console.log('before');\nawait new Promise((r) => setTimeout(r, 20));\nconsole.log('after wait');\n"
        "await new Promise((r) => setTimeout(r, 20));\nwhile (true) {}",
        timeout_s=0.4,
    )
    assert out["error_kind"] == "timeout"
    assert out["console"] == ["before", "after wait"]


# ------------------------------------------------------------------ timers
def test_timers_order_and_clear(js) -> None:
    v = ret(
        js,
        "const seen: string[] = [];\n"
        "setTimeout(() => seen.push('t20'), 20);\n"
        "setTimeout(() => seen.push('t0'), 0);\n"
        "setTimeout(() => seen.push('tnone'));\n"
        "const id = setTimeout(() => seen.push('cleared'), 5); clearTimeout(id);\n"
        "queueMicrotask(() => seen.push('micro'));\n"
        "Promise.resolve().then(() => seen.push('promise'));\n"
        "let n = 0; const iv = setInterval(() => { if (++n === 3) clearInterval(iv); seen.push('iv' + n); }, 2);\n"
        "setTimeout((a: string, b: string) => seen.push(a + b), 1, 'ar', 'gs');\n"
        "const t0 = Date.now(); await new Promise((r) => setTimeout(r, 50));\n"
        "seen.push(Date.now() - t0 >= 49 ? 'waited' : 'early');\n"
        "return seen;",
    )
    assert v[:2] == ["micro", "promise"]
    assert v.index("t0") < v.index("t20") and v.index("tnone") < v.index("t20")
    assert "cleared" not in v and "args" in v
    assert [x for x in v if x.startswith("iv")] == ["iv1", "iv2", "iv3"]
    assert v[-1] == "waited"


# ------------------------------------------------------------------ web APIs
def test_url_and_search_params(js) -> None:
    v = ret(
        js,
        "const u = new URL('/search?q=hello world&page=1#top', 'https://Bücher.de:443/a/');\n"
        "u.searchParams.append('tag', 'a&b');\n"
        "const p = new URLSearchParams({ x: '1 2', y: 'é' });\n"
        "return { href: u.href, host: u.host, q: u.searchParams.get('q'), path: u.pathname, hash: u.hash,\n"
        "  p: p.toString(), keys: [...new URLSearchParams('a=1&b=2&a=3').getAll('a')], can: URL.canParse('nope') };",
    )
    assert v == {
        "href": "https://xn--bcher-kva.de/search?q=hello+world&page=1&tag=a%26b#top",
        "host": "xn--bcher-kva.de",
        "q": "hello world",
        "path": "/search",
        "hash": "#top",
        "p": "x=1+2&y=%C3%A9",
        "keys": ["1", "3"],
        "can": False,
    }
    assert "TypeError: Invalid URL" in js.body("new URL('not a url');")["error"]


def test_text_encoding_and_base64(js) -> None:
    v = ret(
        js,
        "const bytes = new TextEncoder().encode('é€😀');\n"
        "return { bytes: Array.from(bytes), back: new TextDecoder().decode(bytes), enc: new TextEncoder().encoding,\n"
        "  b64: btoa('hello\\u00ff'), un: atob('aGVsbG8='), lax: new TextDecoder().decode(new Uint8Array([0xff])) };",
    )
    assert v["bytes"] == list("é€😀".encode())
    assert v["back"] == "é€😀" and v["enc"] == "utf-8"
    assert v["b64"] == base64.b64encode("hello\u00ff".encode("latin-1")).decode()
    assert v["un"] == "hello" and v["lax"] == "\ufffd"
    assert js.body("btoa('€');")["error"].startswith("InvalidCharacterError")
    v = ret(js, "return [atob(' aGk '), atob('aGk'), atob('aGk='), atob('AP8='), btoa('')];")
    assert v == ["hi", "hi", "hi", "\x00\xff", ""]
    for bad in ("'a'", "'aGk=='", "'a*b='"):
        assert js.body(f"atob({bad});")["error"].startswith("InvalidCharacterError"), bad


def test_structured_clone(js) -> None:
    v = ret(
        js,
        "const src: any = { d: new Date(5), m: new Map([[1, { deep: [1, 2] }]]), s: new Set(['a']), n: null };\n"
        "src.self = src;\n"
        "const c = structuredClone(src);\n"
        "return { same: c === src, cyc: c.self === c, d: c.d instanceof Date && c.d.getTime(),\n"
        "  deep: c.m.get(1).deep, copied: c.m.get(1) !== src.m.get(1), set: [...c.s] };",
    )
    assert v == {"same": False, "cyc": True, "d": 5, "deep": [1, 2], "copied": True, "set": ["a"]}
    assert js.body("structuredClone({ f() {} });")["error_kind"] == "exception"


def test_headers(js) -> None:
    v = ret(
        js,
        "const h = new Headers({ 'Content-Type': 'application/json', 'X-A': '1' });\n"
        "h.append('x-a', '2'); h.set('Accept', ' text/html ');\n"
        "h.append('Set-Cookie', 'a=1'); h.append('set-cookie', 'b=2');\n"
        "h.delete('content-type');\n"
        "return { a: h.get('X-A'), has: h.has('ACCEPT'), accept: h.get('accept'), missing: h.get('nope'),\n"
        "  entries: [...h], cookies: h.getSetCookie(), copy: new Headers(h).get('x-a'),\n"
        "  pairs: new Headers([['k', 'v']]).get('K') };",
    )
    assert v["a"] == "1, 2" and v["has"] is True and v["accept"] == "text/html" and v["missing"] is None
    assert v["entries"] == [["accept", "text/html"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "1, 2"]]
    assert v["cookies"] == ["a=1", "b=2"] and v["copy"] == "1, 2" and v["pairs"] == "v"
    assert "TypeError: Invalid header name" in js.body("new Headers({ 'bad name': 'x' });")["error"]


def test_abort_controller_and_signal(js) -> None:
    v = ret(
        js,
        "const c = new AbortController(); const seen: string[] = [];\n"
        "c.signal.addEventListener('abort', () => seen.push('listener'));\n"
        "c.signal.onabort = () => seen.push('onabort');\n"
        "c.abort(); c.abort();\n"
        "let thrown = ''; try { c.signal.throwIfAborted(); } catch (e: any) { thrown = e.name; }\n"
        "const t = AbortSignal.timeout(10);\n"
        "const fired = await new Promise((r) => t.addEventListener('abort', () => r(t.reason.name)));\n"
        "const any = AbortSignal.any([new AbortController().signal, AbortSignal.abort('why')]);\n"
        "return { seen, aborted: c.signal.aborted, reason: c.signal.reason.name, code: c.signal.reason.code,\n"
        "  thrown, fired, any: [any.aborted, any.reason], isErr: c.signal.reason instanceof DOMException };",
    )
    assert v == {
        "seen": ["onabort", "listener"], "aborted": True, "reason": "AbortError", "code": 20,
        "thrown": "AbortError", "fired": "TimeoutError", "any": [True, "why"], "isErr": True,
    }  # fmt: skip


def test_response_constructor_and_helpers(js) -> None:
    v = ret(
        js,
        "const r = new Response('{\"a\":1}', { status: 201, headers: { 'X-Y': 'z' } });\n"
        "const j = Response.json({ b: 2 });\n"
        "const c = r.clone();\n"
        "return { status: r.status, ok: r.ok, text: r.statusText, xy: r.headers.get('x-y'), body: await r.json(),\n"
        "  used: r.bodyUsed, clone: await c.text(), jt: j.headers.get('content-type'), jb: await j.json() };",
    )
    assert v == {
        "status": 201, "ok": True, "text": "Created", "xy": "z", "body": {"a": 1}, "used": True,
        "clone": '{"a":1}', "jt": "application/json", "jb": {"b": 2},
    }  # fmt: skip


def test_misc_globals(js) -> None:
    v = ret(
        js,
        "return { wasm: typeof WebAssembly, gc: typeof (globalThis as any).gc, perf: typeof performance.now(),\n"
        "  self: self === globalThis,\n"
        "  intl: new Intl.NumberFormat('en-US').format(1234.5), json: JSON.stringify({ a: [1] }),\n"
        "  date: typeof new Date().toISOString(), event: new Event('x').type, et: typeof EventTarget };",
    )
    assert v == {
        "wasm": "undefined", "gc": "undefined", "perf": "number", "self": True, "intl": "1,234.5", "json": '{"a":[1]}',
        "date": "string", "event": "x", "et": "function",
    }  # fmt: skip


def test_no_state_leaks_between_invocations(js) -> None:
    assert data(js.body("(globalThis as any).leak = 1; return Resp.success().setData({ v: 1 });")) == {"v": 1}
    assert ret(js, "return typeof (globalThis as any).leak;") == "undefined"


# ------------------------------------------------------------------ crypto
def test_get_random_values_and_uuid(js) -> None:
    v = ret(
        js,
        "const a = crypto.getRandomValues(new Uint8Array(64)); const b = crypto.getRandomValues(new Uint32Array(4));\n"
        "const errs: string[] = [];\n"
        "for (const bad of [() => crypto.getRandomValues(new Uint8Array(65537)),\n"
        "                   () => crypto.getRandomValues(new Float32Array(2) as any)]) {\n"
        "  try { bad(); } catch (e: any) { errs.push(e.name); } }\n"
        "return { a: Array.from(a), b: Array.from(b), u1: crypto.randomUUID(), u2: crypto.randomUUID(), errs };",
    )
    assert len(set(v["a"])) > 32 and any(v["b"])
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert uuid4.match(v["u1"]) and uuid4.match(v["u2"]) and v["u1"] != v["u2"]
    assert v["errs"] == ["QuotaExceededError", "TypeMismatchError"]
    other = ret(js, "return Array.from(crypto.getRandomValues(new Uint8Array(64)));")
    assert other != v["a"]  # a fresh key per invocation


def test_chacha20_matches_rfc_8439_block_vector(js) -> None:
    key = list(struct.unpack("<8I", bytes(range(32))))
    nonce = list(struct.unpack("<3I", bytes.fromhex("000000090000004a00000000")))
    v = ret(js, f"return Array.from((globalThis as any).__appfn_chacha20_block({key}, 1, {nonce}));")
    assert bytes(v).hex() == (
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
    )


@pytest.mark.parametrize("alg", ["SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_subtle_digest_matches_hashlib(js, alg: str) -> None:
    v = ret(
        js,
        f"const d = await crypto.subtle.digest('{alg}', new TextEncoder().encode('abc é'));\n"
        "return Array.from(new Uint8Array(d));",
    )
    assert bytes(v) == hashlib.new(alg.replace("-", "").lower(), "abc é".encode()).digest()


def test_hmac_sign_verify_and_export(js) -> None:
    v = ret(
        js,
        "const enc = new TextEncoder();\n"
        "const key = await crypto.subtle.importKey('raw', enc.encode('secret'), { name: 'HMAC', hash: 'SHA-256' },\n"
        "  true, ['sign', 'verify']);\n"
        "const sig = await crypto.subtle.sign('HMAC', key, enc.encode('payload'));\n"
        "const good = await crypto.subtle.verify({ name: 'HMAC' }, key, sig, enc.encode('payload'));\n"
        "const bad = await crypto.subtle.verify('HMAC', key, sig, enc.encode('tampered'));\n"
        "const raw = await crypto.subtle.exportKey('raw', key);\n"
        "let unsupported = ''; try { await crypto.subtle.encrypt({ name: 'AES-GCM' } as any, key, sig); }\n"
        "catch (e: any) { unsupported = e.name; }\n"
        "return { sig: Array.from(new Uint8Array(sig)), good, bad, raw: new TextDecoder().decode(raw),\n"
        "  alg: key.algorithm, type: key.type, unsupported };",
    )
    assert bytes(v["sig"]) == hmac.new(b"secret", b"payload", "sha256").digest()
    assert v["good"] is True and v["bad"] is False and v["raw"] == "secret"
    assert v["alg"] == {"name": "HMAC", "hash": {"name": "SHA-256"}, "length": 48}
    assert v["type"] == "secret" and v["unsupported"] == "NotSupportedError"


# ------------------------------------------------------------------ modules
@pytest.mark.parametrize(
    "source",
    [
        "import fs from 'fs';\nexport default async () => Resp.success().setData({ f: typeof fs });\n",
        "import { exec } from 'child_process';\nexport default async () => { exec('ls'); return Resp.success(); };\n",
        "export default async () => { require('node:net'); return Resp.success(); };\n",
        "import { readFile } from 'fs/promises';\n"
        "export default async () => { await readFile('x'); return Resp.success(); };\n",
        "import 'zlib';\nexport default async () => Resp.success();\n",
    ],
)
def test_unsupported_node_modules_throw_naming_the_module(js, source: str) -> None:
    out = js.run(source)
    module = re.search(r"(?:from |import |require\()'([^']+)'", source)
    assert module is not None
    name = module.group(1)
    assert out["error_kind"] in ("load", "exception")
    assert f'The Node module "{name}" is not available: App Functions run in a V8 isolate, not Node.js' in out["error"]


def test_npm_imports_are_refused_and_node_crypto_maps_to_web_crypto(js) -> None:
    out = js.run("import axios from 'axios';\nexport default async () => Resp.success().setData({ a: !!axios });\n")
    assert out["error_kind"] == "load" and 'Cannot import "axios"' in out["error"]
    # TypeScript drops an import that is only used as a type, as tsc does.
    out = js.run("import { Customer } from '@salla/types';\nexport default async (c: Customer) => Resp.success();\n")
    assert out["error"] is None
    out = js.run(
        "import { randomUUID, webcrypto } from 'node:crypto';\n"
        "export default async () => Resp.success().setData({ u: randomUUID().length, same: webcrypto === crypto });\n"
    )
    assert data(out) == {"u": 36, "same": True}
