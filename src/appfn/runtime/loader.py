"""Load a Python function's source and find its ``handler``, with errors that name the line.

``check_source`` is static (it parses, never executes) so the platform can refuse a bad
save without running stranger's code; ``load_handler`` executes the module and is only
ever called inside a sandboxed worker.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
import traceback
import types
from collections.abc import Callable
from typing import Any

from appfn.errors import HandlerLoadError

HANDLER_NAME = "handler"


def check_source(source: str, filename: str = "handler.py") -> None:
    """Raise HandlerLoadError when the source cannot define a usable ``handler(context)``."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    handler = next((n for n in defs if n.name == HANDLER_NAME), None)
    if handler is None:
        assigned = any(
            isinstance(n, ast.Assign | ast.ImportFrom | ast.Import) and HANDLER_NAME in ast.dump(n)
            for n in tree.body
        )
        if not assigned:
            raise HandlerLoadError(_missing_message([n.name for n in defs]))
        return  # bound by assignment or import: only loading can tell
    args = handler.args
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if args.vararg is None and (len(positional) < 1 or required > 1):
        raise HandlerLoadError(_signature_message(len(positional), required), handler.lineno)


def load_handler(source: str, filename: str = "handler.py") -> Callable[..., Any]:
    """Execute the source as module ``handler`` and return its handler (inside the sandbox)."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise _syntax_error(exc) from None
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType("handler")
    module.__file__ = filename
    sys.modules["handler"] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        line = user_line(exc, filename)
        raise HandlerLoadError(f"loading the module failed: {type(exc).__name__}: {exc}", line) from None
    handler = module.__dict__.get(HANDLER_NAME)
    if handler is None:
        names = [k for k, v in module.__dict__.items() if callable(v) and not k.startswith("_")]
        raise HandlerLoadError(_missing_message(names))
    if not callable(handler):
        raise HandlerLoadError(f"'handler' is a {type(handler).__name__}, not a function")
    _check_signature(handler)
    return handler


def _check_signature(handler: Callable[..., Any]) -> None:
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if len(positional) < 1 or len(required) > 1:
        line = getattr(getattr(handler, "__code__", None), "co_firstlineno", None)
        raise HandlerLoadError(_signature_message(len(positional), len(required)), line)


def user_line(exc: BaseException, filename: str) -> int | None:
    """The last line of the user's file in the exception's traceback."""
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else None


def _syntax_error(exc: SyntaxError) -> HandlerLoadError:
    where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
    return HandlerLoadError(f"{type(exc).__name__}: {exc.msg} ({where})", exc.lineno)


def _missing_message(names: list[str]) -> str:
    found = f" (found: {', '.join(names)})" if names else ""
    return f"no function named 'handler' in the source{found}; define def handler(context): ..."


def _signature_message(positional: int, required: int) -> str:
    return (
        "handler must take exactly one argument, the context: def handler(context); "
        f"it takes {positional} positional parameter(s), {required} required"
    )
