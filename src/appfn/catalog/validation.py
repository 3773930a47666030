"""Check a context (or a ``payload.data``) against a trigger's schema and say what is wrong.

Every violation is reported, each with a path a person can follow (``payload.data.groups[0]``)
and a sentence (``expected string, got 5``, ``required field missing``), never just "invalid".
``jsonschema`` does the checking; the validators are compiled once per trigger.

Valid input, the common case on the ingestion path, is recognised first by a quick check: the
schema compiled here to one flat Python function (type tests, ``in``, one ``.get`` per property;
~2 µs for a customer's data against ~9 µs for ``fastjsonschema``'s code, whose nested functions
and exceptions cost more than the checks, and ~330 µs for ``jsonschema``). It only says yes or
no, and says yes only to what ``jsonschema`` accepts; a schema using a keyword it does not
compile is checked by ``fastjsonschema`` instead. Input it rejects goes through ``jsonschema``,
which lists every violation (or none: the quick check is allowed to be too strict).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Sequence
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
def _quick_context(trigger_name: str) -> Callable[[Any], bool]:
    schema = _context_schema(trigger_name)
    return quick_check(schema) or functools.partial(_passes, _fast_context(trigger_name))


@functools.cache
def _quick_data(trigger_name: str) -> Callable[[Any], bool]:
    schema = _data_schema(trigger_name)
    return quick_check(schema) or functools.partial(_passes, _fast_data(trigger_name))


@functools.cache
def context_validator(trigger_name: str) -> Draft202012Validator:
    return Draft202012Validator(_context_schema(trigger_name))


@functools.cache
def data_validator(trigger_name: str) -> Draft202012Validator:
    return Draft202012Validator(_data_schema(trigger_name))


def validate_context(catalog: Catalog, trigger_name: str, context: Any) -> list[Violation]:
    """Violations of a whole context for ``trigger_name`` (UnknownTriggerError if not a trigger)."""
    trigger = catalog.get(trigger_name)
    if _quick_context(trigger.name)(context):
        return []
    validator = context_validator(trigger.name)
    found = _collect(validator.iter_errors(context), validator.schema, catalog, trigger.name, CONTEXT_ROOT)
    return _tidy(found, CONTEXT_ROOT)


def validate_data(catalog: Catalog, trigger_name: str, data: Any) -> list[Violation]:
    """Violations of a ``payload.data`` value; paths start with ``payload.data``."""
    trigger = catalog.get(trigger_name)
    if _quick_data(trigger.name)(data):
        return []
    validator = data_validator(trigger.name)
    found = _collect(validator.iter_errors(data), validator.schema, catalog, trigger.name, DATA_ROOT)
    return _tidy(found, DATA_ROOT)


# --- the quick check: a schema compiled to one flat Python function ---------------------------

_ANNOTATIONS = frozenset(
    {"title", "description", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"}
)
_ROOT_ONLY = frozenset({"$schema", "$id", "$defs"})  # elsewhere $id would move the base of $refs
_TYPE_TESTS = {
    "string": "type({v}) is str",
    "integer": "type({v}) is int",
    "number": "type({v}) is int or type({v}) is float",
    "boolean": "{v} is True or {v} is False",
    "null": "{v} is None",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
}
_SIMPLE = frozenset({"type", "pattern", "const", "enum"})
_COMPOUND = frozenset({"$ref", "properties", "required", "items", "anyOf", "additionalProperties"})


class _Unsupported(Exception):
    """A schema keyword the quick check does not compile (the fastjsonschema check is used)."""


class _QuickCompiler:
    """Generates ``def check(v0) -> bool`` for a schema: True only when jsonschema would find no error.

    Conservative by construction: a value it cannot vouch for (a float where an integer is
    wanted, a dict subclass, a keyword it does not know) returns False, and the caller asks
    jsonschema, which then lists the violations (or none). It never says True for a value
    jsonschema would reject: the types are tested exactly as JSON decoders produce them, and a
    keyword's applicability (``properties`` on objects only...) is tested as jsonschema does.
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.consts: dict[str, Any] = {}
        self.functions: list[list[str]] = []
        self.names = 0
        self.inlining: list[str] = []

    def fresh(self, stem: str) -> str:
        self.names += 1
        return f"{stem}{self.names}"

    def const(self, value: Any) -> str:
        name = self.fresh("_k")
        self.consts[name] = value
        return name

    def keys(self, schema: dict[str, Any]) -> set[str]:
        """The keywords of ``schema`` that constrain (annotations and ``x-`` extensions left out)."""
        keys = {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}
        if schema is self.root:
            return keys - _ROOT_ONLY
        if keys & _ROOT_ONLY:
            raise _Unsupported("$id, $schema or $defs below the root")
        return keys

    def resolve(self, ref: Any) -> tuple[str, Any]:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            raise _Unsupported(f"$ref {ref!r}")
        name = ref[len("#/$defs/") :]
        target = self.root.get("$defs", {}).get(name)
        if target is None or name in self.inlining:
            raise _Unsupported(f"$ref {ref!r} (missing or recursive)")
        return name, target

    def expression(self, schema: Any, v: str) -> str | None:
        """A boolean expression for a schema of type/pattern/const/enum only, else None."""
        if schema is True or schema == {}:
            return "True"
        if not isinstance(schema, dict):
            return None
        keys = self.keys(schema)
        if keys == {"$ref"}:
            name, target = self.resolve(schema["$ref"])
            self.inlining.append(name)
            try:
                return self.expression(target, v)
            finally:
                self.inlining.pop()
        if not keys <= _SIMPLE:
            return None
        parts: list[str] = []
        if "type" in schema:
            parts.append(self.type_test(schema["type"], v))
        if "pattern" in schema:
            parts.append(f"(not isinstance({v}, str) or {self.pattern(schema['pattern'])}.search({v}) is not None)")
        if "const" in schema:
            parts.append(self.equals([schema["const"]], v))
        if "enum" in schema:
            parts.append(self.equals(schema["enum"], v))
        return " and ".join(f"({p})" for p in parts) or "True"

    def type_test(self, wanted: Any, v: str) -> str:
        names = wanted if isinstance(wanted, list) else [wanted]
        if not names or any(n not in _TYPE_TESTS for n in names):
            raise _Unsupported(f"type {wanted!r}")
        return " or ".join(_TYPE_TESTS[n].format(v=v) for n in names)

    def pattern(self, text: Any) -> str:
        if not isinstance(text, str):
            raise _Unsupported("pattern")
        return self.const(re.compile(text))

    def equals(self, options: Any, v: str) -> str:
        # Exact type and value: jsonschema also takes 1.0 for 1 (then it is asked, and says so).
        if not isinstance(options, list) or not options:
            raise _Unsupported("enum")
        tests = []
        for option in options:
            if option is None or isinstance(option, bool):
                tests.append(f"{v} is {option!r}")
            elif type(option) in (str, int):
                tests.append(f"(type({v}) is {type(option).__name__} and {v} == {self.const(option)})")
            else:
                raise _Unsupported("const/enum of a container or a float")
        return " or ".join(tests)

    def block(self, schema: Any, v: str, indent: str, out: list[str]) -> None:
        """Statements that ``return False`` unless ``v`` satisfies ``schema``."""
        if schema is True:
            return
        if schema is False:
            out.append(f"{indent}return False")
            return
        if not isinstance(schema, dict):
            raise _Unsupported(f"schema {schema!r}")
        simple = self.expression(schema, v)
        if simple is not None:
            if simple != "True":
                out.append(f"{indent}if not ({simple}): return False")
            return
        unknown = self.keys(schema) - _SIMPLE - _COMPOUND
        if unknown:
            raise _Unsupported(", ".join(sorted(unknown)))
        exact = schema.get("type")
        if exact is not None:
            out.append(f"{indent}if not ({self.type_test(exact, v)}): return False")
        is_dict = exact == "object"
        if "pattern" in schema or "const" in schema or "enum" in schema:
            rest = {k: schema[k] for k in ("pattern", "const", "enum") if k in schema}
            out.append(f"{indent}if not ({self.expression(rest, v)}): return False")
        if "$ref" in schema:
            name, target = self.resolve(schema["$ref"])
            self.inlining.append(name)
            try:
                self.block(target, v, indent, out)
            finally:
                self.inlining.pop()
        if "anyOf" in schema:
            self.any_of_block(schema["anyOf"], v, indent, out)
        object_keys = [k for k in ("required", "properties", "additionalProperties") if k in schema]
        if object_keys:
            inner = indent if is_dict else indent + "    "
            checks: list[str] = []
            self.object_checks(schema, v, inner, checks)
            if checks and not is_dict:
                out.append(f"{indent}if isinstance({v}, dict):")
            out.extend(checks)
        if "items" in schema:
            items = schema["items"]
            if not isinstance(items, dict | bool):
                raise _Unsupported("items as a list")
            inner = indent if exact == "array" else indent + "    "
            item = self.fresh("v")
            body: list[str] = []
            self.block(items, item, inner + "    ", body)
            if body:
                if exact != "array":
                    out.append(f"{indent}if isinstance({v}, list):")
                out.append(f"{inner}for {item} in {v}:")
                out.extend(body)

    def object_checks(self, schema: dict[str, Any], v: str, indent: str, out: list[str]) -> None:
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            raise _Unsupported("required")
        if required:
            out.append(f"{indent}if not ({' and '.join(f'{k!r} in {v}' for k in required)}): return False")
        properties = schema.get("properties", {})
        if not isinstance(properties, dict):
            raise _Unsupported("properties")
        extra = schema.get("additionalProperties", True)
        if extra is False:
            out.append(f"{indent}if not ({v}.keys() <= {self.const(frozenset(properties))}): return False")
        elif extra is not True:
            raise _Unsupported("additionalProperties as a schema")
        for key, sub in properties.items():
            value = self.fresh("v")
            body: list[str] = []
            present = key in required  # checked above: read it, no test for a missing key
            self.block(sub, value, indent if present else indent + "    ", body)
            if body and present:
                out.append(f"{indent}{value} = {v}[{key!r}]")
                out.extend(body)
            elif body:
                out.append(f"{indent}{value} = {v}.get({key!r}, _MISSING)")
                out.append(f"{indent}if {value} is not _MISSING:")
                out.extend(body)

    def any_of_block(self, branches: Any, v: str, indent: str, out: list[str]) -> None:
        """anyOf; with one branch that is not a plain expression (``php_date or null``), that
        branch is checked inline when the others fail, without a function call."""
        if isinstance(branches, list) and branches:
            cheap = [self.expression(b, v) for b in branches]
            dear = [b for b, e in zip(branches, cheap, strict=True) if e is None]
            if len(dear) == 1:
                body: list[str] = []
                tests = [f"({e})" for e in cheap if e is not None]
                self.block(dear[0], v, indent + "    " if tests else indent, body)
                if body and tests:
                    out.append(f"{indent}if not ({' or '.join(tests)}):")
                if body:
                    out.extend(body)
                return
        out.append(f"{indent}if not ({self.any_of(branches, v)}): return False")

    def any_of(self, branches: Any, v: str) -> str:
        if not isinstance(branches, list) or not branches:
            raise _Unsupported("anyOf")
        cheap: list[str] = []
        dear: list[str] = []
        for branch in branches:
            simple = self.expression(branch, v)
            if simple is not None:
                cheap.append(f"({simple})")
            else:
                dear.append(f"{self.function(branch)}({v})")
        return " or ".join(cheap + dear)  # the result does not depend on the order

    def function(self, schema: Any) -> str:
        name = self.fresh("_f")
        body = [f"def {name}(v0):"]
        self.block(schema, "v0", "    ", body)
        body.append("    return True")
        self.functions.append(body)
        return name

    def build(self) -> Callable[[Any], bool]:
        entry = self.function(self.root)
        source = "\n".join(line for function in self.functions for line in function)
        namespace: dict[str, Any] = {"_MISSING": _MISSING, **self.consts}
        exec(compile(source, f"<quick check {self.root.get('$id', '')}>", "exec"), namespace)
        return namespace[entry]


_MISSING = object()


def quick_check(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """``schema`` compiled to a ``value -> bool`` check, or None if it uses a keyword not covered."""
    try:
        return _QuickCompiler(schema).build()
    except _Unsupported:
        return None


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
