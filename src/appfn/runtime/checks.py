"""Save-time checks of a function's source, for any language: ``check_function``.

    from appfn.runtime.checks import check_function
    check_function(source, "handler.ts", trigger="customer.created")   # or language="typescript"

Raises ``HandlerLoadError`` (``.line`` set when one line is at fault) with a message that names
the line, and the column for syntax errors. Nothing here runs the function's code.

- Python: ``appfn.runtime.loader.check_source`` (parses; needs a ``handler(context)``).
- TypeScript / JavaScript (``check_js_source``), the original's save rules: the first line and the
  last line must be the trigger's template lines (``TemplateMismatchError`` gives the expected
  ones), and the body is type-stripped with the same transpiler the runtime uses, so a syntax
  error fails the save with line and column. The transpiled code is cached by source, so the
  worker that later runs this version does not transpile it again in this process.

The transpiler runs in V8, which must be started on the main thread: a server calls
``appfn.runtime.jsload.start_v8()`` there at start-up (a first use on another thread raises
SandboxError rather than risking mini-racer's crash; see ``appfn.runtime.jsload``).
"""

from __future__ import annotations

import re

from appfn.catalog.model import Trigger, load_catalog
from appfn.catalog.templates import LAST_LINE, first_line, normalize_lang
from appfn.errors import HandlerLoadError, TemplateMismatchError
from appfn.runtime.jsload import ensure_v8
from appfn.runtime.languages import DEFAULT_FILENAMES, resolve_language
from appfn.runtime.loader import check_source

__all__ = ["TemplateMismatchError", "check_function", "check_js_source"]


def check_function(
    source: str,
    filename: str | None = None,
    *,
    language: str | None = None,
    trigger: Trigger | str | None = None,
) -> None:
    """Refuse ``source`` unless it can be saved as a function for ``trigger`` (HandlerLoadError).

    The language comes from ``language`` (``python``/``typescript``/``javascript`` or ``py``/``ts``/
    ``js``) or else from ``filename``'s extension. TypeScript and JavaScript need the trigger.
    """
    if not isinstance(source, str):
        raise HandlerLoadError(f"the source must be text, got {type(source).__name__}")
    lang = resolve_language(filename, language) if filename else resolve_language(None, language or "python")
    name = filename or DEFAULT_FILENAMES[lang]
    if lang == "python":
        check_source(source, name)
        return
    if trigger is None:
        raise ValueError(f"checking {lang} needs the trigger (its template gives the first line)")
    check_js_source(source, trigger, language=lang, filename=name)


def check_js_source(
    source: str, trigger: Trigger | str, *, language: str = "typescript", filename: str | None = None
) -> None:
    """The original's save rules for TypeScript/JavaScript (see the module's docstring)."""
    spec = trigger if isinstance(trigger, Trigger) else load_catalog().get(trigger)
    lang = normalize_lang(language)
    name = filename or DEFAULT_FILENAMES["typescript" if lang == "ts" else "javascript"]
    expected_first = first_line(spec, lang)
    lines = source.removeprefix("\ufeff").splitlines()
    _check_first(lines, spec, lang, expected_first, name)
    last = len(lines)
    while last > 1 and not lines[last - 1].strip():
        last -= 1
    if last < 2 or lines[last - 1].strip() != LAST_LINE:
        got = lines[last - 1].strip() if last >= 2 else "(nothing after the first line)"
        raise TemplateMismatchError(
            f"{name}:{last}: the last line must be the template's closing line {LAST_LINE!r}, got {got!r}; "
            f"a function is `{expected_first}` … `{LAST_LINE}` with everything else between them",
            max(last, 1),
            expected_first,
            LAST_LINE,
        )
    ensure_v8()  # SandboxError, not a crash, when V8 was not started on the main thread
    from appfn.runtime.js import transpile

    transpile(source, name)  # raises HandlerLoadError "handler.ts:LINE:COLUMN: SyntaxError: ..."


def _check_first(lines: list[str], spec: Trigger, lang: str, expected: str, name: str) -> None:
    got = lines[0].rstrip() if lines else ""
    if got == expected or (lang == "ts" and _any_type_accepted(spec) and _same_but_type(got, expected)):
        return
    raise TemplateMismatchError(
        f"{name}:1: the first line must be the template line for {spec.name}: expected {expected!r}, "
        f"got {got!r}; the last line must be {LAST_LINE!r}",
        1,
        expected,
        LAST_LINE,
    )


def _any_type_accepted(spec: Trigger) -> bool:
    # The catalog does not know the original's context type for these triggers (templates.py names
    # them), so code pasted from the original may name another type: any one type name is accepted.
    return spec.context_type is None


def _same_but_type(got: str, expected: str) -> bool:
    start = expected.index("context: ") + len("context: ")
    end = expected.index(")", start)
    pattern = re.escape(expected[:start]) + r"[A-Za-z_$][A-Za-z0-9_$.]*" + re.escape(expected[end:])
    return re.fullmatch(pattern, got) is not None
