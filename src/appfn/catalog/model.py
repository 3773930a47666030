"""The trigger catalog: ``Trigger`` records and the ``Catalog`` that holds the 80 of them.

Loaded from the package's ``events.json`` (a copy of the spec's ground truth). Loading only
parses that file; JSON Schemas and ``jsonschema`` are loaded the first time they are needed,
because ``load_catalog()`` runs on every CLI call.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from appfn.errors import CatalogError, UnknownTriggerError, Violation

Execution = Literal["sync", "async"]
ReturnType = Literal["Resp", "Shipment"]

# Order used for listings; events.json lists triggers in this order too.
CATEGORIES: tuple[str, ...] = (
    "merchant_actions",
    "merchant_events",
    "ecommerce_events",
    "communication_events",
)

_REQUIRED_KEYS = (
    "name",
    "title",
    "group",
    "audience",
    "category",
    "execution",
    "timeout_s",
    "context_type",
    "return_type",
    "preview_form",
    "preview_form_basis",
    "example_data",
    "documented",
    "doc_page",
    "scope_hint",
)


@dataclass(frozen=True)
class Trigger:
    """One trigger of the catalog, as ``events.json`` describes it.

    ``example_data`` (and ``extra_examples``) are shared by every caller of the cached catalog:
    treat them as read-only and use :meth:`example` for a copy you may change.
    """

    name: str
    title: str
    group: str
    audience: str
    category: str
    execution: Execution
    timeout_s: float
    context_type: str | None
    return_type: ReturnType
    preview_form: tuple[str, ...]
    preview_form_basis: str
    example_data: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    documented: bool = False
    doc_page: str | None = None
    notes: str | None = None
    scope_hint: str | None = None
    required_scope: str | None = None
    example_basis: str | None = None
    doc_payload_event: str | None = None
    # Further documented payload.data samples, by label (e.g. "otp" for communication.sms.send).
    extra_examples: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_sync(self) -> bool:
        """Sync triggers block the operation until the function answers (merchant_actions)."""
        return self.execution == "sync"

    @property
    def has_example(self) -> bool:
        return self.example_data is not None

    def example(self) -> dict[str, Any] | None:
        """A deep copy of ``example_data`` (None when the docs give no example)."""
        return copy.deepcopy(self.example_data)

    def data_schema(self) -> dict[str, Any]:
        """The standalone JSON Schema (Draft 2020-12) of this trigger's ``payload.data``."""
        from appfn.catalog.schema import data_schema

        return data_schema(self.name)

    def context_schema(self) -> dict[str, Any]:
        """The JSON Schema of the whole context (envelope + this trigger's ``payload.data``)."""
        from appfn.catalog.schema import context_schema

        return context_schema(self.name)

    @property
    def schema_basis(self) -> str:
        """How the data schema was made: precise, inferred, illustrative or permissive."""
        from appfn.catalog.schema import schema_basis

        return schema_basis(self.name)

    def to_dict(self) -> dict[str, Any]:
        """The trigger's metadata as plain JSON types (examples and schema not included)."""
        return {
            "name": self.name,
            "title": self.title,
            "group": self.group,
            "audience": self.audience,
            "category": self.category,
            "execution": self.execution,
            "timeout_s": self.timeout_s,
            "context_type": self.context_type,
            "return_type": self.return_type,
            "preview_form": list(self.preview_form),
            "preview_form_basis": self.preview_form_basis,
            "documented": self.documented,
            "doc_page": self.doc_page,
            "scope_hint": self.scope_hint,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Trigger:
        """Build a trigger from one ``events.json`` entry (raises CatalogError if keys are missing)."""
        missing = [k for k in _REQUIRED_KEYS if k not in raw]
        if missing:
            raise CatalogError(f"trigger {raw.get('name', '?')!r} in events.json lacks {', '.join(missing)}")
        return cls(
            name=raw["name"],
            title=raw["title"],
            group=raw["group"],
            audience=raw["audience"],
            category=raw["category"],
            execution=raw["execution"],
            timeout_s=raw["timeout_s"],
            context_type=raw["context_type"],
            return_type=raw["return_type"],
            preview_form=tuple(raw["preview_form"]),
            preview_form_basis=raw["preview_form_basis"],
            example_data=raw["example_data"],
            documented=bool(raw["documented"]),
            doc_page=raw["doc_page"],
            notes=raw.get("notes"),
            scope_hint=raw["scope_hint"],
            required_scope=raw.get("required_scope"),
            example_basis=raw.get("example_basis"),
            doc_payload_event=raw.get("doc_payload_event"),
        )


def _norm(text: str) -> str:
    # "Product Viewed", "product_viewed" and "product-viewed" all point at product.viewed.
    return ".".join(text.lower().replace("_", " ").replace("-", " ").split())


class Catalog:
    """The triggers, in ``events.json`` order, looked up by name."""

    def __init__(self, triggers: list[Trigger], raw: Mapping[str, Any] | None = None) -> None:
        self._triggers: dict[str, Trigger] = {}
        for trigger in triggers:
            if trigger.name in self._triggers:
                raise CatalogError(f"trigger {trigger.name!r} appears twice in the catalog")
            self._triggers[trigger.name] = trigger
        self._raw: Mapping[str, Any] = raw or {}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Catalog:
        """Build the catalog from parsed ``events.json`` and check it against its own summary."""
        triggers = [Trigger.from_dict(t) for t in raw.get("triggers", [])]
        extras: dict[str, dict[str, Any]] = {}
        for key, data in (raw.get("extra_examples") or {}).items():
            # Keys read "communication.sms.send (otp)": trigger name, then a label.
            name, _, label = key.partition(" (")
            extras.setdefault(name, {})[label.rstrip(")") or key] = data
        unknown = set(extras) - {t.name for t in triggers}
        if unknown:
            raise CatalogError(f"extra_examples name unknown trigger(s): {', '.join(sorted(unknown))}")
        triggers = [_replace_extras(t, extras[t.name]) if t.name in extras else t for t in triggers]
        catalog = cls(triggers, raw)
        catalog._check_summary()
        return catalog

    def _check_summary(self) -> None:
        summary = self._raw.get("summary")
        if not summary:
            return
        if summary.get("total_triggers") != len(self):
            raise CatalogError(
                f"events.json lists {len(self)} triggers but its summary says {summary['total_triggers']}"
            )
        for cat, count in (summary.get("by_category") or {}).items():
            got = sum(1 for t in self if t.category == cat)
            if got != count:
                raise CatalogError(f"category {cat!r} has {got} triggers, summary says {count}")
        sync = sorted(t.name for t in self if t.is_sync)
        if sorted(summary.get("sync_triggers", sync)) != sync:
            raise CatalogError(f"sync triggers {sync} do not match the summary")

    # --- lookup -----------------------------------------------------------------------------

    def get(self, name: str) -> Trigger:
        """The trigger called ``name``; UnknownTriggerError (with close matches) otherwise."""
        try:
            return self._triggers[name]
        except (KeyError, TypeError):
            raise UnknownTriggerError(str(name), self.suggest(str(name))) from None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Trigger names close to ``name``: titles ("Product Viewed") first, then spelling."""
        import difflib

        wanted = _norm(name)
        exact = [
            t.name
            for t in self
            if wanted in {_norm(t.title), _norm(t.doc_payload_event or ""), _norm(t.name)}
        ]
        close = difflib.get_close_matches(name, list(self._triggers), n=n, cutoff=0.6)
        close += difflib.get_close_matches(wanted, list(self._triggers), n=n, cutoff=0.6)
        out: list[str] = []
        for candidate in exact + close:
            if candidate not in out and candidate != name:
                out.append(candidate)
        return out[:n]

    def __getitem__(self, name: str) -> Trigger:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._triggers

    def __iter__(self) -> Iterator[Trigger]:
        return iter(self._triggers.values())

    def __len__(self) -> int:
        return len(self._triggers)

    def __repr__(self) -> str:
        return f"<Catalog of {len(self)} triggers>"

    def names(self) -> list[str]:
        return list(self._triggers)

    def categories(self) -> list[str]:
        """Categories present, in the catalog's order (merchant_actions first)."""
        present = {t.category for t in self}
        return [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))

    def by_category(self, category: str) -> list[Trigger]:
        """Triggers of one category; CatalogError naming the category if there is no such one."""
        cats = self.categories()
        if category not in cats:
            import difflib

            close = difflib.get_close_matches(category, cats, n=2, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise CatalogError(f"unknown category {category!r} ({hint}categories: {', '.join(cats)})")
        return [t for t in self if t.category == category]

    def sync_triggers(self) -> list[Trigger]:
        return [t for t in self if t.is_sync]

    # --- documented examples ------------------------------------------------------------------

    def envelope_example(self) -> dict[str, Any]:
        """A copy of the full context example in ``events.json`` (``envelope.example``)."""
        return copy.deepcopy(self._raw.get("envelope", {}).get("example", {}))

    @property
    def raw(self) -> Mapping[str, Any]:
        """The parsed ``events.json`` (read-only by convention)."""
        return self._raw

    # --- validation (jsonschema is imported on first use) -------------------------------------

    def validate_context(self, trigger_name: str, context: Any) -> list[Violation]:
        """Every schema violation of a whole context, each with its JSON path; [] when valid."""
        from appfn.catalog.validation import validate_context

        return validate_context(self, trigger_name, context)

    def validate_data(self, trigger_name: str, data: Any) -> list[Violation]:
        """Every violation of a ``payload.data`` value (paths start with ``payload.data``)."""
        from appfn.catalog.validation import validate_data

        return validate_data(self, trigger_name, data)

    def check_context(self, trigger_name: str, context: Any) -> None:
        """Raise ContextValidationError listing every violation, or return None when valid."""
        from appfn.errors import ContextValidationError

        violations = self.validate_context(trigger_name, context)
        if violations:
            raise ContextValidationError(violations)

    def check_data(self, trigger_name: str, data: Any) -> None:
        """Like check_context, for a ``payload.data`` value alone."""
        from appfn.errors import ContextValidationError

        violations = self.validate_data(trigger_name, data)
        if violations:
            raise ContextValidationError(violations)


def _replace_extras(trigger: Trigger, extras: dict[str, dict[str, Any]]) -> Trigger:
    import dataclasses

    return dataclasses.replace(trigger, extra_examples=extras)


def read_events_json() -> dict[str, Any]:
    """Parse the packaged ``events.json`` (a fresh object each call)."""
    from importlib import resources  # imported here: it pulls in pathlib/tempfile

    raw = resources.files("appfn.catalog").joinpath("events.json").read_bytes()
    return json.loads(raw)


@functools.cache
def load_catalog() -> Catalog:
    """The catalog from the package's ``events.json``, parsed once per process."""
    return Catalog.from_dict(read_events_json())
