"""TypeScript declarations (``.d.ts``) for editors, generated from the catalog's JSON Schemas.

One source of truth: every ``payload.data`` model of ``schemas/payload_data.json`` becomes a type
in the ``Data`` namespace (``customer`` → ``Data.Customer``, ``php_date`` → ``Data.PhpDate``), the
envelope of ``schemas/envelope.json`` becomes ``AppFunctionContext<TData, TEvent>``, and each
context type of the catalog (``Customer``, ``Order``, ``Shipments``, …; see
``templates.context_type_name``) is that envelope with its triggers' data model and names.

Only what is ours is declared: ``Resp``, ``Shipment``, ``ShipmentStatusEnum``, the context types.
``fetch``, ``console``, ``crypto``, ``URL``, ``AbortSignal`` and the other web globals come from
TypeScript's own ``DOM`` and ``ES`` libs (``tsconfig()`` lists them).

The declarations are a global script (no import or export), so every ``.ts`` file of a project
sees them; ``render()`` writes one file with everything, ``render(["Customer"])`` only what the
named context types need.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from appfn.catalog.model import load_catalog
from appfn.catalog.schema import envelope_schema, local_refs, model_name, payload_models
from appfn.catalog.templates import context_type_name

FILENAME = "appfn.d.ts"
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_DEFS = "#/$defs/"
_OPEN_OBJECT = "Record<string, any>"


def tsconfig() -> dict[str, Any]:
    """A tsconfig.json for a folder of functions: ``npx tsc --noEmit`` type-checks them.

    Non-strict, like the original's editor (which also ignores unused variables, TS6133).
    """
    return {
        "compilerOptions": {
            "target": "ES2022",
            "lib": ["ES2023", "DOM", "DOM.Iterable"],
            "module": "ESNext",
            "moduleResolution": "Bundler",
            "strict": False,
            "noUnusedLocals": False,
            "noUnusedParameters": False,
            "isolatedModules": True,
            "skipLibCheck": True,
            "noEmit": True,
        },
        "include": ["*.ts", FILENAME],
    }


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def context_types() -> dict[str, list[str]]:
    """Every context type name and its triggers, in catalog order."""
    found: dict[str, list[str]] = {}
    for trigger in load_catalog():
        found.setdefault(context_type_name(trigger), []).append(trigger.name)
    return found


def render(only: Iterable[str] | None = None) -> str:
    """The ``.d.ts`` text: globals, the envelope, and the context types named in ``only`` (all if None)."""
    everything = context_types()
    names = list(everything) if only is None else list(dict.fromkeys(only))
    unknown = [n for n in names if n not in everything]
    if unknown:
        raise ValueError(f"unknown context type(s): {', '.join(unknown)}; known: {', '.join(everything)}")
    defs = payload_models()["$defs"]
    contexts = [_Context(name, everything[name]) for name in names]
    needed = _closure(defs, [m for c in contexts for m in c.models])
    parts = [_HEADER, _GLOBALS, _envelope(), _data_namespace(defs, needed)]
    parts += [c.declaration() for c in contexts]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def dts_for(trigger_name: str) -> str:
    """What a function for ``trigger_name`` needs: the globals and its own context type."""
    return render([context_type_name(load_catalog().get(trigger_name))])


# ----------------------------------------------------------------------------------- contexts


class _Context:
    def __init__(self, name: str, triggers: list[str]) -> None:
        self.name = name
        self.triggers = triggers
        counts = Counter(m for m in (model_name(t) for t in triggers) if m is not None)
        # The model most of its triggers use first; the others only add optional fields.
        self.models = [m for m, _ in sorted(counts.items(), key=lambda kv: -kv[1])]

    def data_type(self) -> str:
        if not self.models:
            return _OPEN_OBJECT
        main, *others = (f"Data.{pascal(m)}" for m in self.models)
        return " & ".join([main, *(f"Partial<{o}>" for o in others)])

    def declaration(self) -> str:
        events = " | ".join(json.dumps(t) for t in self.triggers)
        doc = f"Context of {', '.join(self.triggers)}."
        if len(self.models) > 1:
            doc += " `payload.data` differs between them: fields not in all of them are optional here."
        elif not self.models:
            doc += " No documented example: `payload.data` is any object."
        return (
            f"/** {doc} */\n"
            f"interface {self.name} extends AppFunctionContext<{self.data_type()}, {events}> {{}}\n"
        )


def _closure(defs: dict[str, Any], start: list[str]) -> list[str]:
    needed: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += sorted(local_refs(defs[name]))
    return [n for n in defs if n in needed]


# ------------------------------------------------------------------------ JSON Schema → TypeScript


class _Renderer:
    """JSON Schema (the subset the catalog uses) to TypeScript types. ``refs`` maps a $defs name
    to how it is written; ``inline`` holds schemas to write in place of their reference."""

    def __init__(self, refs: dict[str, str] | None = None, inline: dict[str, Any] | None = None) -> None:
        self.refs = refs or {}
        self.inline = inline or {}

    def type(self, node: Any, indent: str) -> str:
        if not isinstance(node, dict) or node is True:
            return "any"
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            name = ref[len(_DEFS) :]
            if name in self.inline:
                return self.type(self.inline[name], indent)
            return self.refs.get(name, pascal(name))
        if "const" in node:
            return json.dumps(node["const"])
        if "anyOf" in node:
            return _union(self.type(option, indent) for option in node["anyOf"])
        kinds = node.get("type")
        if kinds is None:
            return "any"
        if isinstance(kinds, list):
            return _union(self._one(kind, node, indent) for kind in kinds)
        return self._one(kinds, node, indent)

    def _one(self, kind: str, node: dict[str, Any], indent: str) -> str:
        if kind in ("integer", "number"):
            return "number"
        if kind in ("string", "boolean", "null"):
            return kind
        if kind == "array":
            items = node.get("items")
            item = self.type(items, indent) if items is not None else "any"
            return f"Array<{item}>" if " " in item else f"{item}[]"
        if kind == "object":
            return self.object(node, indent)
        return "any"

    def object(self, node: dict[str, Any], indent: str) -> str:
        props = node.get("properties") or {}
        if not props:
            return _OPEN_OBJECT
        required = set(node.get("required") or ())
        inner = indent + "  "
        lines = ["{"]
        for key, schema in props.items():
            lines += _doc(schema, inner)
            name = key if _IDENT.match(key) else json.dumps(key)
            optional = "" if key in required else "?"
            lines.append(f"{inner}{name}{optional}: {self.type(schema, inner)};")
        lines.append(indent + "}")
        return "\n".join(lines)


def _union(parts: Iterable[str]) -> str:
    unique = list(dict.fromkeys(parts))
    if "any" in unique:
        return "any"
    return " | ".join(f"({p})" if "\n" in p or "=>" in p else p for p in unique)


def _doc(schema: Any, indent: str) -> list[str]:
    if not isinstance(schema, dict):
        return []
    text = schema.get("description") or schema.get("$comment")
    if not text:
        return []
    text = str(text).replace("*/", "* /")
    return [f"{indent}/** {text} */"]


def _data_namespace(defs: dict[str, Any], names: list[str]) -> str:
    renderer = _Renderer()
    lines = ["/** The `payload.data` models of the catalog (schemas/payload_data.json). */", "declare namespace Data {"]
    for name in names:
        schema = defs[name]
        doc = schema.get("description") or schema.get("title")
        if doc:
            lines.append(f"  /** {str(doc).replace('*/', '* /')} */")
        props = schema.get("properties") if schema.get("type") == "object" else None
        if props:
            lines.append(f"  interface {pascal(name)} {renderer.object(schema, '  ')}")
        else:
            lines.append(f"  type {pascal(name)} = {renderer.type(schema, '  ')};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _envelope() -> str:
    schema = envelope_schema()
    inline = schema.get("$defs") or {}
    renderer = _Renderer(inline=inline)
    payload = schema["properties"]["payload"]
    lines = [
        f"/** {schema.get('description', 'The context a handler receives.')} */",
        "interface AppFunctionContext<TData = Record<string, any>, TEvent extends string = string> {",
    ]
    for key, prop in schema["properties"].items():
        optional = "" if key in schema.get("required", ()) else "?"
        lines += _doc(prop, "  ")
        if key == "payload":
            lines.append(f"  payload{optional}: {{")
            for pkey, pprop in payload["properties"].items():
                poptional = "" if pkey in payload.get("required", ()) else "?"
                lines += _doc(pprop, "    ")
                ptype = {"event": "TEvent", "data": "TData"}.get(pkey) or renderer.type(pprop, "    ")
                lines.append(f"    {pkey}{poptional}: {ptype};")
            lines.append("  };")
        else:
            lines.append(f"  {key}{optional}: {renderer.type(prop, '  ')};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- globals

_HEADER = """\
// appfn App Functions: generated from the event catalog by appfn.catalog.typescript. Do not edit.
// The web globals (fetch, console, crypto, URL, AbortSignal, setTimeout, ...) come from the DOM lib.
"""

_STATUSES = (
    "IN_PROGRESS", "IN_TRANSIT", "RECEIVED_AT_FINAL_HUB", "TO_BE_REATTEMPTED", "REATTEMPTED",
    "UNABLE_TO_DELIVER", "DELIVERING", "DELIVERED", "PARTIALLY_DELIVERED", "SHIPPED", "CANCELLED",
    "LOST", "DAMAGED", "RETURN_TO_ORIGIN", "RETURN_IN_PROGRESS",
)  # fmt: skip

_GLOBALS = (
    """\
/** What a run returns when it does not use a builder: `{ success: true, data: {} }`. */
interface AppFunctionResponse {
  success: boolean;
  /** For sync actions, applied to the entity. Missing means `{}`. */
  data?: Record<string, any>;
  /** Required when `success` is false on a sync action: shown to the merchant. */
  error?: string;
  /** HTTP-like status, default 200 (400 for errors). */
  status?: number;
  message?: string;
}

/** The `Resp` builder: `Resp.success().setData({...})`, `Resp.error().setMessage("...").setStatus(503)`. */
interface RespBuilder {
  setData(data: Record<string, any>): this;
  /** HTTP-like status code, 100-599. */
  setStatus(status: number): this;
  setMessage(message: string): this;
  /** Onboarding steps: errors shown under the named form fields. */
  setFields(message: string, fields: Record<string, string[]>): this;
  setError(error: string | { message?: string; fields?: Record<string, string[]> }): this;
  readonly isSuccess: boolean;
}
interface RespConstructor {
  new (success: boolean, message?: string): RespBuilder;
  readonly prototype: RespBuilder;
  success(): RespBuilder;
  error(message?: string): RespBuilder;
}
declare const Resp: RespConstructor;
/** What a handler may return: a `Resp` builder or a plain response object. */
type Resp = RespBuilder | AppFunctionResponse;

/** The shipment's status, as `Shipment.setStatus` takes it. */
declare enum ShipmentStatusEnum {
"""
    + "".join(f'  {name} = "{name.lower()}",\n' for name in _STATUSES)
    + """\
}

/** The `Shipment` builder of `shipment.creating`: `setShipmentNumber` is required on success. */
interface ShipmentBuilder {
  setShipmentNumber(number: string | number): this;
  setTrackingNumber(number: string | number): this;
  setTrackingLink(url: string): this;
  setPdfLabel(url: string): this;
  /** The same as `setPdfLabel` (one doc sample spells it so). */
  setLabel(url: string): this;
  /** The shipment's status (not the HTTP-like status: that is `setHttpStatus`). */
  setStatus(status: ShipmentStatusEnum): this;
  setHttpStatus(status: number): this;
  setStatusNote(note: string): this;
  /** The cost, VAT included. */
  setCost(amount: number): this;
  setData(data: Record<string, any>): this;
  setMessage(message: string): this;
  readonly isSuccess: boolean;
}
interface ShipmentConstructor {
  new (success: boolean, message?: string): ShipmentBuilder;
  readonly prototype: ShipmentBuilder;
  success(): ShipmentBuilder;
  error(message?: string): ShipmentBuilder;
}
declare const Shipment: ShipmentConstructor;
/** What a `shipment.creating` handler may return. */
type Shipment = ShipmentBuilder | AppFunctionResponse;
"""
)
