"""Check a context (or a ``payload.data``) against a trigger's schema and say what is wrong.

Every violation is reported, each with a path a person can follow (``payload.data.groups[0]``)
and a sentence (``expected string, got 5``, ``required field missing``), never just "invalid".
``jsonschema`` does the checking; the validators are compiled once per trigger.

Valid input, the common case on the ingestion path, is recognised first by a validator that
``fastjsonschema`` compiles to Python code (~30x faster, measured 0.01 ms against 0.33 ms for a
customer context); only input it rejects goes through ``jsonschema`` to list every violation.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from appfn.catalog.schema import _context_schema, _data_schema
from appfn.errors import Violation

if TYPE_CHECKING:
    from appfn.catalog.model import Catalog

CONTEXT_ROOT = "context"
DATA_ROOT = "payload.data"

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_BRANCHING = ("anyOf", "oneOf")


@functools.cache
def _fast_context(trigger_name: str) -> Any:
    return fastjsonschema.compile(_context_schema(trigger_name))


@functools.cache
def _fast_data(trigger_name: str) -> Any:
    return fastjsonschema.compile(_data_schema(trigger_name))


def _passes(fast: Any, value: Any) -> bool:
    try:
        fast(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@functools.cache
def context_validator(trigger_name: str) -> Draft202012Validator:
    return Draft202012Validator(_context_schema(trigger_name))


@functools.cache
def data_validator(trigger_name: str) -> Draft202012Validator:
    return Draft202012Validator(_data_schema(trigger_name))


def validate_context(catalog: Catalog, trigger_name: str, context: Any) -> list[Violation]:
    """Violations of a whole context for ``trigger_name`` (UnknownTriggerError if not a trigger)."""
    trigger = catalog.get(trigger_name)
    if _passes(_fast_context(trigger.name), context):
        return []
    validator = context_validator(trigger.name)
    found = _collect(validator.iter_errors(context), validator.schema, catalog, trigger.name, CONTEXT_ROOT)
    return _tidy(found, CONTEXT_ROOT)


def validate_data(catalog: Catalog, trigger_name: str, data: Any) -> list[Violation]:
    """Violations of a ``payload.data`` value; paths start with ``payload.data``."""
    trigger = catalog.get(trigger_name)
    if _passes(_fast_data(trigger.name), data):
        return []
    validator = data_validator(trigger.name)
    found = _collect(validator.iter_errors(data), validator.schema, catalog, trigger.name, DATA_ROOT)
    return _tidy(found, DATA_ROOT)


# --- turning jsonschema errors into violations ---------------------------------------------------

_Found = tuple[tuple[Any, ...], str, str]  # (path parts, message, keyword)


def _collect(
    errors: Iterable[ValidationError], root: dict[str, Any], catalog: Catalog, trigger: str, prefix: str
) -> list[_Found]:
    found: list[_Found] = []
    for error in errors:
        found.extend(_explain(error, root, catalog, trigger, prefix))
    return found


def _explain(
    error: ValidationError, root: dict[str, Any], catalog: Catalog, trigger: str, prefix: str
) -> list[_Found]:
    path = tuple(error.absolute_path)
    keyword = str(error.validator)
    value = error.instance

    if keyword == "required":
        missing = [k for k in error.validator_value if isinstance(value, dict) and k not in value]
        return [((*path, k), "required field missing", keyword) for k in missing]
    if keyword == "type":
        return [(path, f"expected {_types(error.validator_value)}, got {_show(value)}", keyword)]
    if keyword in _BRANCHING:
        return _explain_branches(error, root, catalog, trigger, prefix)
    if keyword == "const":
        if _is_event_path(path, prefix):
            return [(path, _event_message(catalog, trigger, value), keyword)]
        return [(path, f"expected {_show(error.validator_value)}, got {_show(value)}", keyword)]
    if keyword == "enum":
        options = ", ".join(_show(v) for v in error.validator_value)
        return [(path, f"expected one of {options}, got {_show(value)}", keyword)]
    if keyword == "pattern":
        title = error.schema.get("title") if isinstance(error.schema, dict) else None
        wanted = title or f"a string matching {error.validator_value}"
        return [(path, f"expected {wanted}, got {_show(value)}", keyword)]
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = set(error.schema.get("properties", {}))
        return [((*path, k), "unexpected field", keyword) for k in value if k not in allowed]
    return [(path, error.message, keyword)]


def _explain_branches(
    error: ValidationError, root: dict[str, Any], catalog: Catalog, trigger: str, prefix: str
) -> list[_Found]:
    """anyOf/oneOf: blame the one branch whose type fits the value, else list the options."""
    path = tuple(error.absolute_path)
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [i for i in range(len(error.validator_value)) if not _rejects_type(branches.get(i, []))]
    wanted = _describe(error.schema, root) if isinstance(error.schema, dict) else "a valid value"

    if fitting and all(branches.get(i) for i in fitting):
        # Several branches fit (e.g. full or short customer): blame the one nearest to passing.
        best = min(fitting, key=lambda i: len(branches[i]))
        subs = branches[best]
        deeper = [s for s in subs if s.relative_path or s.validator == "required"]
        if deeper:
            out: list[_Found] = []
            for sub in subs:
                out.extend(_explain(sub, root, catalog, trigger, prefix))
            return out
    if error.validator == "oneOf" and not error.context:
        return [(path, f"matches more than one of: {wanted}", str(error.validator))]
    return [(path, f"expected {wanted}, got {_show(error.instance)}", str(error.validator))]


def _rejects_type(errors: Sequence[ValidationError]) -> bool:
    # True when the branch refused the value for its kind (string vs object...), not its content.
    for e in errors:
        if e.relative_path:
            continue
        if e.validator == "type":
            return True
        if e.validator in _BRANCHING:
            subs: dict[int, list[ValidationError]] = {}
            for sub in e.context or []:
                subs.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
            if subs and all(_rejects_type(s) for s in subs.values()):
                return True
    return False


def _describe(schema: dict[str, Any], root: dict[str, Any]) -> str:
    """A short noun for what a schema accepts: its title, else its type(s) or branches."""
    if "title" in schema:
        return str(schema["title"])
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = root.get("$defs", {}).get(ref[len("#/$defs/") :])
        if isinstance(target, dict):
            return _describe(target, root)
    for keyword in _BRANCHING:
        if keyword in schema:
            return " or ".join(_describe(b, root) for b in schema[keyword] if isinstance(b, dict))
    if "type" in schema:
        return _types(schema["type"])
    if "const" in schema:
        return _show(schema["const"])
    return "a valid value"


def _is_event_path(path: tuple[Any, ...], prefix: str) -> bool:
    return prefix == CONTEXT_ROOT and path == ("payload", "event")


def _event_message(catalog: Catalog, trigger: str, value: Any) -> str:
    message = f"must be the trigger name {_show(trigger)}, got {_show(value)}"
    if isinstance(value, str):
        named = catalog.suggest(value, n=1)
        if value in catalog:
            message += f" (a context for {_show(value)}, not for {_show(trigger)})"
        elif named == [trigger]:
            message += " (the docs' title of this trigger; payload.event carries the trigger id)"
    return message


def _types(value: Any) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def _show(value: Any) -> str:
    """A value as a person would read it in a message (JSON spelling, shortened)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= 60 else text[:57] + "..."


def format_path(prefix: str, parts: Iterable[Any]) -> str:
    """``payload.data`` + ("groups", 0) -> ``payload.data.groups[0]``; odd keys go in brackets."""
    out = "" if prefix == CONTEXT_ROOT else prefix
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out or prefix


def _sort_key(parts: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in parts)


def _tidy(found: list[_Found], prefix: str) -> list[Violation]:
    # A wrong type makes other complaints about the same value noise: keep only the type one.
    typed = {path for path, _, keyword in found if keyword == "type"}
    seen: set[tuple[tuple[Any, ...], str]] = set()
    kept: list[tuple[tuple[Any, ...], str]] = []
    for path, message, keyword in found:
        if path in typed and keyword != "type":
            continue
        if (path, message) not in seen:
            seen.add((path, message))
            kept.append((path, message))
    kept.sort(key=lambda item: _sort_key(item[0]))
    return [Violation(format_path(prefix, path), message) for path, message in kept]
