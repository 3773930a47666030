"""The quick check (schemas compiled to flat Python) never accepts what jsonschema rejects.

Every trigger's example is mutated at every path (each value replaced by values of every JSON
type, each key removed, an unexpected key added) and the quick check must give jsonschema's
answer for all of them: these are plain JSON values, which it tests exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from appfn.catalog import load_catalog, make_context
from appfn.catalog.validation import (
    _quick_context,
    _quick_data,
    context_validator,
    data_validator,
    quick_check,
)

CATALOG = load_catalog()
WITH_EXAMPLES = [t.name for t in CATALOG if t.example_data]
REPLACEMENTS: tuple[Any, ...] = ({"x": 1}, [1], True, 7, -2.5, "text", None)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, sub in value.items():
            yield (*path, key)
            yield from _paths(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value[:2]):
            yield (*path, i)
            yield from _paths(sub, (*path, i))


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    holder = out
    for part in path[:-1]:
        holder = holder[part]
    if new is _DELETE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = new
    return out


_DELETE = object()


def _mutations(example: dict[str, Any]) -> Iterator[Any]:
    yield example
    yield {**example, "unexpected_extra_field": 1}
    for path in _paths(example):
        for new in (*REPLACEMENTS, _DELETE):
            if new is _DELETE and isinstance(path[-1], int):
                continue
            yield _set(example, path, new)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_quick_data_check_agrees_with_jsonschema_on_every_mutation(name: str) -> None:
    quick = _quick_data(name)
    validator = data_validator(name)
    for data in _mutations(CATALOG.get(name).example_data):
        valid = validator.is_valid(data)
        assert quick(data) == valid, (name, data)


@pytest.mark.parametrize("name", WITH_EXAMPLES[::4])
def test_quick_context_check_agrees_with_jsonschema(name: str) -> None:
    context = make_context(name, None, settings={"a": 1}, merchant="42")
    quick = _quick_context(name)
    validator = context_validator(name)
    for mutated in _mutations(context):
        assert quick(mutated) == validator.is_valid(mutated), (name, mutated)


def test_every_schema_compiles_to_a_quick_check() -> None:
    from appfn.catalog.schema import _context_schema, _data_schema

    for trigger in CATALOG:
        assert quick_check(_data_schema(trigger.name)) is not None, trigger.name
        assert quick_check(_context_schema(trigger.name)) is not None, trigger.name


def test_too_strict_is_safe_jsonschema_has_the_last_word() -> None:
    # 7.0 is an integer to jsonschema; the quick check does not vouch for floats, so it says no
    # and jsonschema is asked, which finds nothing: the data is valid.
    data = {**CATALOG.get("customer.updated").example_data, "id": 7.0}
    assert _quick_data("customer.updated")(data) is False
    assert CATALOG.validate_data("customer.updated", data) == []


def test_pattern_keeps_the_search_semantics_of_jsonschema() -> None:
    # "$" matches before a final newline with re.search, which jsonschema uses: accepted by both.
    data = copy.deepcopy(CATALOG.get("customer.updated").example_data)
    data["updated_at"]["date"] = "2022-01-24 14:26:55.000000\n"
    assert data_validator("customer.updated").is_valid(data)
    assert _quick_data("customer.updated")(data)


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"const": "a"}, ["a"], ["b", 1, None]),
        ({"enum": [1, "x", None, True]}, [1, "x", None, True], [2, "y", False]),
        (
            {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
            [{}, {"a": 1}],
            [{"b": 1}, {"a": "1"}, []],
        ),
        ({"properties": {"a": {"type": "string"}}}, ["not an object", 5, {"a": "x"}], [{"a": 5}]),
        ({"items": {"type": "string"}}, [["a"], "not an array", {}], [["a", 1]]),
        ({"anyOf": [{"type": "null"}, {"required": ["x"]}]}, [None, {"x": 1}, "s"], [{}]),
        ({"type": "number"}, [1, 1.5], [True, "1"]),
        ({"type": "boolean"}, [True, False], [0, 1, None]),
        ({"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}, [{"a": 1}], [{"a": "1"}]),
        (False, [], [1, None]),
        (True, [1, None, {}], []),
    ],
)
def test_quick_check_of_each_keyword(schema: Any, good: list[Any], bad: list[Any]) -> None:
    from jsonschema import Draft202012Validator

    check = quick_check(schema) if isinstance(schema, dict) else None
    if check is None:  # boolean schemas are compiled as parts of a larger one
        check = quick_check({"properties": {"v": schema}})
        good, bad = [{"v": g} for g in good], [{"v": b} for b in bad]
        schema = {"properties": {"v": schema}}
    assert check is not None
    for value in good:
        assert check(value) and Draft202012Validator(schema).is_valid(value), value
    for value in bad:
        assert not check(value) and not Draft202012Validator(schema).is_valid(value), value


@pytest.mark.parametrize(
    "schema",
    [
        {"minLength": 1},
        {"$ref": "https://example.com/x"},
        {"properties": {"a": {"$id": "urn:x", "type": "string"}}},
        {"$defs": {"r": {"properties": {"a": {"$ref": "#/$defs/r"}}}}, "$ref": "#/$defs/r"},
        {"type": "decimal"},
        {"const": [1]},
        {"items": [{"type": "string"}]},
        {"additionalProperties": {"type": "string"}},
    ],
)
def test_keywords_it_does_not_cover_are_left_to_fastjsonschema(schema: dict[str, Any]) -> None:
    assert quick_check(schema) is None
