#!/usr/bin/env python
"""Draft JSON Schemas for ``payload.data`` from the examples in the catalog's ``events.json``.

This is a drafting aid, not part of the package: its output was reviewed and edited by hand
before being committed as ``src/appfn/catalog/schemas/payload_data.json``, and that file (not
this script) is what ships. Re-running it never overwrites the committed file; it prints.

    python scripts/draft_schema.py customer.login      # draft for one trigger's example
    python scripts/draft_schema.py --all > draft.json  # draft of the whole payload_data.json
    python scripts/draft_schema.py --diff               # models whose committed schema rejects its example

Inference rules (the same ones docs/catalog.md describes):
    * ``id`` / ``*_id`` keys accept integer or string (ids drift between the two);
    * ``{amount, currency}`` objects become ``#/$defs/amount``;
    * ``{date, timezone_type, timezone}`` objects become ``#/$defs/php_date``;
    * ``null`` means "type unknown": ``#/$defs/unknown`` accepts anything, null included;
    * an empty ``[]`` may be an empty PHP map, so it accepts an array or an object;
    * money-like keys (quantity, percent, discount, ...) accept a number or a numeric string;
    * only a top-level ``id`` is required; other objects stay open (extra keys allowed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "src" / "appfn" / "catalog" / "events.json"
COMMITTED = ROOT / "src" / "appfn" / "catalog" / "schemas" / "payload_data.json"

# Which model each trigger's example belongs to (triggers not listed have no example).
MODELS: dict[str, list[str]] = {
    "shipment": [
        "shipment.creating",
        "shipment.cancelling",
        "shipment.created",
        "shipment.cancelled",
        "shipment.updated",
    ],
    "order": ["order.created"],
    "order_status_change": ["order.status.updated"],
    "category": ["category.created", "category.updated"],
    "brand": ["brand.created", "brand.updated", "brand.deleted"],
    "shipping_zone": ["shipping.zone.created", "shipping.zone.updated"],
    "shipping_company": ["shipping.company.created", "shipping.company.updated", "shipping.company.deleted"],
    "customer": ["customer.created", "customer.updated", "customer.login"],
    "otp_request": ["customer.otp.request"],
    "store_branch": ["store.branch.created", "store.branch.updated", "store.branch.deleted"],
    "invoice": ["invoice.created"],
    "special_offer": ["specialoffer.created", "specialoffer.updated"],
    "review": ["review.added"],
    "abandoned_cart": ["abandoned.cart"],
    "storefront_product_viewed": ["product.viewed"],
    "storefront_product_added": ["product.added"],
    "storefront_coupon_applied": ["coupon.applied"],
    "storefront_wishlist_product_added": ["product.added.to.wishlist"],
    "storefront_signed_up": ["signed.up"],
    "communication_message": [
        "communication.sms.send",
        "communication.email.send",
        "communication.whatsapp.send",
    ],
}

NUMERIC_KEYS = {
    "percent",
    "quantity",
    "discount",
    "discount_amount",
    "rating",
    "cod_cost",
    "fees",
    "up_to_weight",
    "amount_per_unit",
    "per_unit",
    "rate",
    "calories",
    "lat",
    "lng",
    "latitude",
    "longitude",
}

REF = "#/$defs/"


# Nested objects drafted as shared models: {model: {path inside it: model or chooser}}.
# A chooser picks the model from the sample (an order carries a full or a short customer).
def _customer_kind(value: dict[str, Any]) -> str:
    return "customer" if "first_name" in value else "customer_summary"


SUBMODELS: dict[str, dict[str, Any]] = {
    "order": {"customer": _customer_kind, "shipments[]": "shipment", "items[].product": "product"},
    "order_status_change": {"order": "order"},
    "review": {"customer": "customer_summary", "order": "order", "product": "product"},
    "invoice": {"customer": "customer"},
    "abandoned_cart": {"customer": "customer_summary"},
    "shipment": {"ship_from": "shipment_party", "ship_to": "shipment_party"},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


def _is_id_key(key: str | None) -> bool:
    return key is not None and (key == "id" or key.endswith("_id"))


class Drafter:
    """Collects samples per model while inferring, so shared models merge every sample."""

    def __init__(self) -> None:
        self.samples: dict[str, list[Any]] = {}

    def add(self, model: str, value: Any) -> None:
        seen = self.samples.setdefault(model, [])
        if value not in seen:
            seen.append(value)
            self.walk(model, value, "")

    def walk(self, model: str, value: Any, path: str) -> None:
        # Visit nested values only to find sub-model samples; schemas come later.
        subs = SUBMODELS.get(model, {})
        if path and path in subs and isinstance(value, dict):
            target = subs[path]
            self.add(target(value) if callable(target) else target, value)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                self.walk(model, v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for item in value:
                self.walk(model, item, f"{path}[]")

    def schema(self, model: str) -> dict[str, Any]:
        samples = self.samples[model]
        schema = self.infer(model, samples[0], None, "")
        for sample in samples[1:]:
            schema = merge(schema, self.infer(model, sample, None, ""))
        if "id" in schema.get("properties", {}):
            schema["required"] = ["id"]
        return schema

    def infer(self, model: str, value: Any, key: str | None, path: str) -> dict[str, Any]:
        subs = SUBMODELS.get(model, {})
        if path and path in subs and isinstance(value, dict):
            target = subs[path]
            return _ref(target(value) if callable(target) else target)
        if isinstance(value, list) and value:
            items = [self.infer(model, item, None, f"{path}[]") for item in value]
            merged = items[0]
            for item in items[1:]:
                merged = merge(merged, item)
            return {"type": "array", "items": merged}
        if isinstance(value, dict) and _plain_object(value):
            props = {k: self.infer(model, v, k, f"{path}.{k}" if path else k) for k, v in value.items()}
            return {"type": "object", "properties": props}
        return infer(value, key)


def _plain_object(value: dict[str, Any]) -> bool:
    return infer(value).get("type") == "object"


def infer(value: Any, key: str | None = None) -> dict[str, Any]:
    """A draft schema for one example value (``key`` is the property it sits under)."""
    if value is None:
        return _ref("unknown")
    if isinstance(value, bool):
        return {"type": "boolean"}
    if _is_id_key(key) and isinstance(value, int | str):
        return _ref("id")
    if isinstance(value, int | float):
        return _ref("numeric") if key in NUMERIC_KEYS else {"type": "number"}
    if isinstance(value, str):
        return _ref("numeric") if key in NUMERIC_KEYS else {"type": "string"}
    if isinstance(value, list):
        if not value:
            return {"type": ["array", "object"], "$comment": "empty [] in the example (may be a PHP map)"}
        items = infer(value[0])
        for item in value[1:]:
            items = merge(items, infer(item))
        return {"type": "array", "items": items}
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"date", "timezone_type", "timezone"}:
            return _ref("php_date")
        if {"amount", "currency"} <= keys <= {"amount", "currency", "taxable"} and isinstance(
            value["amount"], int | float
        ):
            return _ref("amount")
        return {"type": "object", "properties": {k: infer(v, k) for k, v in value.items()}}
    raise TypeError(f"unexpected JSON value {value!r}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if schema == _ref("unknown"):
        return schema
    if "type" in schema and "$ref" not in schema:
        types = _types(schema)
        return schema if "null" in types else {**schema, "type": [*types, "null"]}
    return merge_any([schema, {"type": "null"}])


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _simple(schema: dict[str, Any]) -> bool:
    return "type" in schema and "$ref" not in schema and "anyOf" not in schema


def merge_any(branches: list[dict[str, Any]]) -> dict[str, Any]:
    flat: list[dict[str, Any]] = []
    for b in branches:
        for x in b.get("anyOf", [b]) if set(b) == {"anyOf"} else [b]:
            if x not in flat:
                flat.append(x)
    return flat[0] if len(flat) == 1 else {"anyOf": flat}


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The loosest draft that accepts what ``a`` and ``b`` accept (enough for drafting)."""
    if a == b:
        return a
    if a == _ref("unknown"):
        return _nullable(b)
    if b == _ref("unknown"):
        return _nullable(a)
    if _simple(a) and _simple(b):
        types = _types(a) + [t for t in _types(b) if t not in _types(a)]
        out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
        if "properties" in a or "properties" in b:
            props = dict(a.get("properties", {}))
            for k, v in b.get("properties", {}).items():
                props[k] = merge(props[k], v) if k in props else v
            out["properties"] = props
        if "items" in a and "items" in b:
            out["items"] = merge(a["items"], b["items"])
        elif "items" in a or "items" in b:
            out["items"] = a.get("items", b.get("items"))
        return out
    if _types(b) == ["null"] or _types(a) == ["null"]:
        return _nullable(a if _types(b) == ["null"] else b)
    return merge_any([a, b])


def draft_model(examples: list[dict[str, Any]]) -> dict[str, Any]:
    """Draft one standalone model from examples (no shared sub-models)."""
    schema = infer(examples[0])
    for example in examples[1:]:
        schema = merge(schema, infer(example))
    if "id" in schema.get("properties", {}):
        schema["required"] = ["id"]
    return schema


def _events() -> dict[str, Any]:
    return json.loads(EVENTS.read_text(encoding="utf-8"))


def _examples_by_trigger(events: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for trig in events["triggers"]:
        if trig.get("example_data") is not None:
            out.setdefault(trig["name"], []).append(trig["example_data"])
    for label, data in events.get("extra_examples", {}).items():
        out.setdefault(label.split(" (")[0], []).append(data)
    return out


def draft_all() -> dict[str, Any]:
    examples = _examples_by_trigger(_events())
    drafter = Drafter()
    triggers: dict[str, str] = {}
    for model, names in MODELS.items():
        for name in names:
            triggers[name] = model
            for ex in examples.get(name, []):
                drafter.add(model, ex)
    defs = {model: drafter.schema(model) for model in drafter.samples}
    missing = sorted(set(examples) - set(triggers))
    if missing:
        print(f"warning: examples with no model: {missing}", file=sys.stderr)
    return {"triggers": triggers, "$defs": defs}


def diff() -> int:
    """Report examples the committed schemas reject (a quick check while editing by hand)."""
    from jsonschema import Draft202012Validator

    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    bad = 0
    for name, exs in _examples_by_trigger(_events()).items():
        model = committed["triggers"].get(name)
        if model is None:
            print(f"{name}: no model")
            bad += 1
            continue
        schema = {"$ref": REF + model, "$defs": committed["$defs"]}
        for ex in exs:
            for err in Draft202012Validator(schema).iter_errors(ex):
                print(f"{name}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
                bad += 1
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trigger", nargs="?", help="draft the schema of this trigger's example")
    parser.add_argument("--all", action="store_true", help="draft every model of payload_data.json")
    parser.add_argument("--diff", action="store_true", help="check the committed file against the examples")
    args = parser.parse_args(argv)
    if args.diff:
        return diff()
    if args.all:
        out = draft_all()
    elif args.trigger:
        examples = _examples_by_trigger(_events()).get(args.trigger)
        if not examples:
            parser.error(f"trigger {args.trigger!r} has no example_data")
        out = draft_model(examples)
    else:
        parser.error("give a trigger name, --all or --diff")
    json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
