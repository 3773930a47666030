"""The JS/TS engine: functions written for the original V8-isolate runtime, run unchanged.

- ``transpile(source, filename)``: TypeScript/JavaScript → engine-ready JS (sucrase in mini-racer).
- ``JsEngine().invoke(code, context, fetch=..., timeout_s=...)``: one run in a fresh context.
- ``fn, console = await JsEngine().load(code, timeout_s=...)`` then ``await fn.invoke(context, ...)``: the
  warm path, one context reused by the invocations of one function version.

Node is needed only to rebuild the vendored assets (``npm --prefix js ci && npm --prefix js run build``).
"""

from appfn.runtime.js import _v8  # noqa: F401  (starts V8 on the main thread first)
from appfn.runtime.js.engine import JsEngine, JsFunction
from appfn.runtime.js.transpile import split_source_url, transpile, transpile_async

__all__ = ["JsEngine", "JsFunction", "split_source_url", "transpile", "transpile_async"]
