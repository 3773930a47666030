"""JSON Schemas (Draft 2020-12) for ``payload.data`` and for the whole context.

The committed files live next to this module:

* ``schemas/payload_data.json``: every ``payload.data`` model under ``$defs`` (shared pieces such
  as ``amount`` and ``php_date`` too) and a ``triggers`` map from trigger name to model;
* ``schemas/envelope.json``: the context envelope with the documented drift tolerated.

A trigger's schema is cut out of ``payload_data.json`` as a standalone document that carries just
the ``$defs`` it uses, so it can be shown, saved or validated on its own. Nothing here imports
``jsonschema``; the files are read on first use and cached.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from appfn.errors import CatalogError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_DEFS = "#/$defs/"

# What a trigger without a documented example accepts.
PERMISSIVE: dict[str, Any] = {"type": "object"}


@functools.cache
def _read(filename: str) -> dict[str, Any]:
    from importlib import resources

    text = resources.files("appfn.catalog").joinpath("schemas", filename).read_text(encoding="utf-8")
    return json.loads(text)


def payload_models() -> dict[str, Any]:
    """A copy of ``payload_data.json`` (models under ``$defs``, ``triggers`` map)."""
    return copy.deepcopy(_read("payload_data.json"))


def envelope_schema() -> dict[str, Any]:
    """A copy of the envelope schema shared by every trigger."""
    return copy.deepcopy(_read("envelope.json"))


def model_name(trigger_name: str) -> str | None:
    """The ``$defs`` model of a trigger's ``payload.data``; None if it has no example (permissive)."""
    return _read("payload_data.json")["triggers"].get(trigger_name)


def schema_basis(trigger_name: str) -> str:
    """precise | inferred | illustrative (from the model's ``x-basis``) or permissive."""
    model = model_name(trigger_name)
    if model is None:
        return "permissive"
    return _read("payload_data.json")["$defs"][model].get("x-basis", "inferred")


def local_refs(node: Any) -> set[str]:
    # Names of local "#/$defs/<name>" references anywhere under node.
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            found.add(ref[len(_DEFS) :])
        for value in node.values():
            found |= local_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= local_refs(value)
    return found


def _closure(defs: dict[str, Any], start: dict[str, Any]) -> dict[str, Any]:
    # Every $defs entry reachable from start, in payload_data.json order.
    needed: set[str] = set()
    todo = list(local_refs(start))
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        if name not in defs:
            raise CatalogError(f"payload_data.json refers to a missing model {name!r}")
        needed.add(name)
        todo.extend(local_refs(defs[name]))
    return {name: defs[name] for name in defs if name in needed}


@functools.cache
def _data_schema(trigger_name: str) -> dict[str, Any]:
    doc = _read("payload_data.json")
    model = doc["triggers"].get(trigger_name)
    if model is None:
        return {
            "$schema": SCHEMA_DIALECT,
            "$id": f"urn:appfn:catalog:data:{trigger_name}",
            "title": f"payload.data of {trigger_name}",
            "description": "No documented example for this trigger: any object is accepted.",
            "x-basis": "permissive",
            **PERMISSIVE,
        }
    defs = doc["$defs"]
    body = dict(defs[model])
    out: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:appfn:catalog:data:{trigger_name}",
        **body,
        "title": f"payload.data of {trigger_name}: {body.get('title', model)}",
    }
    used = _closure(defs, body)
    if used:
        out["$defs"] = used
    return out


def data_schema(trigger_name: str) -> dict[str, Any]:
    """Standalone schema of a trigger's ``payload.data`` (permissive when it has no example).

    The name is not checked against the catalog: go through ``Catalog.get`` for that.
    """
    return copy.deepcopy(_data_schema(trigger_name))


@functools.cache
def _context_schema(trigger_name: str) -> dict[str, Any]:
    envelope = envelope_schema()
    data = copy.deepcopy(_data_schema(trigger_name))
    data_defs = data.pop("$defs", {})
    for key in ("$schema", "$id"):
        data.pop(key, None)
    env_defs = envelope.pop("$defs", {})
    clash = {k for k in set(env_defs) & set(data_defs) if env_defs[k] != data_defs[k]}
    if clash:
        raise CatalogError(f"envelope.json and payload_data.json both define {', '.join(sorted(clash))}")
    payload = envelope["properties"]["payload"]["properties"]
    payload["event"] = {
        "description": f"Must be the trigger name {trigger_name!r}.",
        "type": "string",
        "const": trigger_name,
    }
    payload["data"] = data
    envelope["$id"] = f"urn:appfn:catalog:context:{trigger_name}"
    envelope["title"] = f"Context of {trigger_name}"
    envelope["$defs"] = {**env_defs, **data_defs}
    return envelope


def context_schema(trigger_name: str) -> dict[str, Any]:
    """Standalone schema of a whole context for one trigger (event pinned, data typed)."""
    return copy.deepcopy(_context_schema(trigger_name))
