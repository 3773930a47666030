"""The event catalog: the 80 triggers, their ``payload.data`` schemas, and context checks.

    from appfn.catalog import load_catalog, make_context

    catalog = load_catalog()
    trigger = catalog.get("customer.login")          # UnknownTriggerError with suggestions
    context = make_context("customer.login", data)  # the envelope a real event carries
    for v in catalog.validate_context("customer.login", context):
        print(v)                                     # payload.data.email: expected string, got 5
    catalog.check_context("customer.login", context) # raises ContextValidationError

Importing this package reads no file and does not import ``jsonschema``: the catalog is parsed
on the first ``load_catalog()``, schemas and validators on first use.
"""

from __future__ import annotations

from typing import Any

from appfn.catalog.envelope import DEMO_MERCHANT_ID, js_date_string, make_context
from appfn.catalog.model import CATEGORIES, Catalog, Trigger, load_catalog
from appfn.errors import Violation

__all__ = [
    "CATEGORIES",
    "DEMO_MERCHANT_ID",
    "Catalog",
    "Trigger",
    "check_context",
    "context_schema",
    "data_schema",
    "envelope_schema",
    "js_date_string",
    "load_catalog",
    "make_context",
    "validate_context",
    "validate_data",
]


def validate_context(trigger_name: str, context: Any) -> list[Violation]:
    """``load_catalog().validate_context(...)``: every violation, with its path."""
    return load_catalog().validate_context(trigger_name, context)


def validate_data(trigger_name: str, data: Any) -> list[Violation]:
    """``load_catalog().validate_data(...)``: paths start with ``payload.data``."""
    return load_catalog().validate_data(trigger_name, data)


def check_context(trigger_name: str, context: Any) -> None:
    """``load_catalog().check_context(...)``: raises ContextValidationError when invalid."""
    load_catalog().check_context(trigger_name, context)


def data_schema(trigger_name: str) -> dict[str, Any]:
    """The standalone ``payload.data`` schema of a trigger (UnknownTriggerError if unknown)."""
    return load_catalog().get(trigger_name).data_schema()


def context_schema(trigger_name: str) -> dict[str, Any]:
    """The standalone schema of a whole context for a trigger."""
    return load_catalog().get(trigger_name).context_schema()


def envelope_schema() -> dict[str, Any]:
    """The envelope schema shared by every trigger (``payload.data`` any object)."""
    from appfn.catalog.schema import envelope_schema as _envelope

    return _envelope()
