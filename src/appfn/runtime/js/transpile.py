"""TypeScript (or JavaScript) → the CommonJS the engine runs, with sucrase inside mini-racer.

``transpile(source, filename)`` strips the types and turns ``export default`` / ``import`` into
``exports.default`` / ``require`` (the engine's ``require`` shim then names any Node module that
is not available). Line numbers are preserved, so stack traces point into the source. The output
ends with a ``//# sourceURL=<filename>`` line that the engine uses for stack traces.

Sucrase only parses; V8 finds a few more syntax errors (a ``const`` declared twice, a bad regex
literal), so the output is also compiled — never run — before it is returned. Results, failures
included, are cached by sha256 of the filename and the source.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import re
import threading
from collections import OrderedDict
from importlib import resources

from py_mini_racer import JSEvalException, JSTimeoutException, MiniRacer

from appfn.errors import HandlerLoadError
from appfn.runtime.js._v8 import ensure_v8

MAX_SOURCE_CHARS = 1_000_000
SOURCE_URL = "\n//# sourceURL="
_CACHE_SIZE = 512
_TIMEOUT_S = 5.0
# The function wrapper the engine uses; it sits on line 1 so the source's line numbers hold.
WRAPPER_PREFIX = "function (exports, require, module) {"

_JS = r"""
var __appfn_transforms = function (filename) {
  // TypeScript drops imports used only as types; plain JS keeps every import (side effects).
  return /\.[cm]?js$/.test(filename) ? ["imports"] : ["typescript", "imports"];
};
var __appfn_transpile = function (source, filename) {
  var opts = {transforms: __appfn_transforms(filename), disableESTransforms: true, production: true,
              filePath: filename};
  try {
    var code = __appfn_sucrase.transform(source, opts).code;
  } catch (e) {
    var loc = e.loc || {};
    var message = String(e.message).replace(/^Error transforming [^:]*: /, "").replace(/ \(\d+:\d+\)$/, "");
    return {error: message, name: e.name || "SyntaxError",
            line: loc.line, column: loc.column};
  }
  try {
    new Function("exports", "require", "module", code);  // compiles only; cannot escape the body
  } catch (e) {
    return {code: code, compile_error: e.name + ": " + e.message};
  }
  return {code: code};
};
var __appfn_locate = function (source, filename, line, column) {
  // Map a (line, 0-based column) of sucrase's output back to the source with its source map.
  var opts = {transforms: __appfn_transforms(filename), disableESTransforms: true, production: true,
              filePath: filename, sourceMapOptions: {compiledFilename: filename + ".js"}};
  var map = __appfn_sucrase.transform(source, opts).sourceMap;
  var pos = __appfn_sucrase.originalPositionFor(new __appfn_sucrase.TraceMap(map), {line: line, column: column});
  return pos.line == null ? null : [pos.line, pos.column];
};
"""

_V8_LOCATION = re.compile(r"^<anonymous>:(\d+): (\w*Error): (.*)$")


def _read_asset(name: str) -> str:
    return resources.files("appfn.runtime.js").joinpath(name).read_text(encoding="utf-8")


def _new_racer() -> MiniRacer:
    """A MiniRacer with its own loop thread, whatever thread (or running loop) asks for it."""
    ensure_v8()
    box: list[MiniRacer | BaseException] = []

    def make() -> None:  # no running loop in this thread, so mini-racer starts its own
        try:
            box.append(MiniRacer())
        except BaseException as exc:
            box.append(exc)

    thread = threading.Thread(target=make, name="appfn-js-transpiler-init")
    thread.start()
    thread.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    racer = box[0]
    # Close it while the interpreter is whole: a MiniRacer left for the finaliser can hang the exit.
    atexit.register(racer.close)
    return racer


class _Transpiler:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._racer: MiniRacer | None = None
        self._pid = 0
        self._cache: OrderedDict[str, tuple[str, str, int | None]] = OrderedDict()

    def _context(self) -> MiniRacer:
        with self._lock:
            if self._racer is None or self._pid != os.getpid():
                # (After a fork the parent's context is unusable; it is left alone, not closed.)
                racer = _new_racer()
                racer.set_hard_memory_limit(256 * 2**20)
                racer.eval(_read_asset("vendor/sucrase.js"))
                racer.eval(_JS)
                self._racer, self._pid = racer, os.getpid()
            return self._racer

    def transpile(self, source: str, filename: str) -> str:
        if not isinstance(source, str):
            raise TypeError(f"source must be a str, got {type(source).__name__}")
        filename = _safe_filename(filename)
        key = hashlib.sha256(f"{filename}\0{source}".encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            hit = self._compute(source, filename)
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        kind, text, line = hit
        if kind == "error":
            raise HandlerLoadError(text, line)
        return text

    def _compute(self, source: str, filename: str) -> tuple[str, str, int | None]:
        if len(source) > MAX_SOURCE_CHARS:
            return ("error", f"{filename}: the source is over {MAX_SOURCE_CHARS:,} characters", None)
        racer = self._context()
        try:
            raw = racer.call("__appfn_transpile", source, filename, timeout_sec=_TIMEOUT_S)
        except JSTimeoutException:
            return ("error", f"{filename}: transpiling took over {_TIMEOUT_S:g} s", None)
        if "error" in raw:
            line, column = raw.get("line"), raw.get("column")
            where = f"{filename}:{line}:{column}" if line else filename
            return ("error", f"{where}: {raw['name']}: {raw['error']}", line)
        code = raw["code"]
        if "compile_error" in raw:
            line, column = self._locate_v8_error(racer, source, filename, code)
            where = f"{filename}:{line}:{column}" if line else filename
            return ("error", f"{where}: {raw['compile_error']}", line)
        return ("ok", code + SOURCE_URL + filename, None)

    def _locate_v8_error(
        self, racer: MiniRacer, source: str, filename: str, code: str
    ) -> tuple[int | None, int | None]:
        """Line and 1-based column of V8's syntax error in the source, from a throwaway context.

        ``new Function`` names no position, so the wrapped code is evaluated as a script, which
        gives one. A script can be tricked into running part of the code (Annex B HTML comments
        hide a brace from V8 but not from sucrase), hence the throwaway context with tight limits.
        """
        scratch = _new_racer()
        try:
            scratch.set_hard_memory_limit(32 * 2**20)
            scratch.eval(f"void {WRAPPER_PREFIX}{code}\n}};", timeout_sec=1.0)
            return None, None
        except JSEvalException as exc:
            lines = str(exc).split("\n")
            match = _V8_LOCATION.match(lines[0])
            if not match:
                return None, None
            line = int(match.group(1))
            caret = lines[2].find("^") if len(lines) > 2 else -1
            if caret < 0:
                return line, None
            if line == 1:
                caret -= len("void " + WRAPPER_PREFIX)
            try:
                mapped = racer.call("__appfn_locate", source, filename, line, max(caret, 0))
            except JSEvalException:
                mapped = None
            return (mapped[0], mapped[1] + 1) if mapped else (line, caret + 1)
        finally:
            atexit.unregister(scratch.close)
            scratch.close()


def _safe_filename(filename: str) -> str:
    # It ends up in a //# sourceURL comment and in stack frames: keep it to one plain token.
    cleaned = re.sub(r"[^A-Za-z0-9._/-]", "_", str(filename or "")).strip("/") or "handler.ts"
    return cleaned[:200]


def split_source_url(code: str) -> tuple[str, str]:
    """``(code, filename)`` of a transpile() output; plain code gets ``handler.js``."""
    head, sep, tail = code.rpartition(SOURCE_URL)
    if sep and "\n" not in tail:
        return head, _safe_filename(tail)
    return code, "handler.js"


_TRANSPILER = _Transpiler()


def transpile(source: str, filename: str = "handler.ts") -> str:
    """The engine-ready JS for ``source``; raises HandlerLoadError (with ``.line``) on a syntax error.

    Blocks the caller for the transpile (about 1 ms warm, plus about 40 ms to start sucrase once per
    process); from a running event loop prefer ``await transpile_async(...)``.
    """
    return _TRANSPILER.transpile(source, filename)


async def transpile_async(source: str, filename: str = "handler.ts") -> str:
    """transpile() on a worker thread, so the event loop keeps running meanwhile."""
    return await asyncio.to_thread(_TRANSPILER.transpile, source, filename)
