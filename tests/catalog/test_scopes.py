"""The trigger → required scope map: complete, well-formed, consistent with the scope hints."""

from __future__ import annotations

import pytest

from appfn.catalog import Catalog
from appfn.catalog.scopes import RESOURCES, TRIGGER_SCOPES, parse_scope, required_scope, satisfies
from appfn.errors import UnknownTriggerError


def test_every_trigger_has_exactly_one_scope(catalog: Catalog) -> None:
    assert len(catalog) == 80
    assert set(TRIGGER_SCOPES) == set(catalog.names())
    for trigger in catalog:
        scope = required_scope(trigger.name)
        resource, access = parse_scope(scope) or ("", "")
        assert resource in RESOURCES, trigger.name
        assert access == "read", f"{trigger.name} requires {scope}: only read scopes are ever required"


def test_map_follows_the_scope_hints(catalog: Catalog) -> None:
    for trigger in catalog:
        if trigger.scope_hint:
            assert required_scope(trigger.name) == trigger.scope_hint.split()[0], trigger.name


@pytest.mark.parametrize(
    ("trigger", "scope"),
    [
        ("customer.created", "customers.read"),
        ("order.created", "orders.read"),
        ("invoice.created", "orders.read"),
        ("product.updated", "products.read"),
        ("shipment.creating", "shipping.read"),
        ("shipping.zone.created", "shipping.read"),
        ("review.added", "products.read"),
        ("abandoned.cart", "orders.read"),
        ("product.viewed", "products.read"),
        ("cart.updated", "orders.read"),
        ("coupon.applied", "specialoffers.read"),
        ("product.added.to.wishlist", "products.read"),
        ("signed.up", "customers.read"),
        ("communication.sms.send", "customers.read"),
    ],
)
def test_reviewed_examples(trigger: str, scope: str) -> None:
    assert required_scope(trigger) == scope


def test_groups_share_a_scope(catalog: Catalog) -> None:
    """Each catalog group maps to one scope, so the map reads as a per-family decision.

    The one exception is the catalog's "Store Branches & Tax" group, two resources in one group.
    """
    by_group: dict[str, set[str]] = {}
    for trigger in catalog:
        by_group.setdefault(trigger.group, set()).add(required_scope(trigger.name))
    mixed = {g: s for g, s in by_group.items() if len(s) > 1}
    assert mixed == {"Store Branches & Tax": {"branches.read", "taxes.read"}}


def test_unknown_trigger() -> None:
    with pytest.raises(UnknownTriggerError, match=r"did you mean customer\.created"):
        required_scope("customer.creatd")
    with pytest.raises(UnknownTriggerError):
        required_scope("app.onboarding.step.creating.welcome")


@pytest.mark.parametrize(
    ("granted", "required", "ok"),
    [
        (["customers.read"], "customers.read", True),
        (["customers.read_write"], "customers.read", True),
        ("customers.read_write", "customers.read", True),
        (["customers.read"], "customers.read_write", False),
        (["orders.read_write"], "customers.read", False),
        ([], "customers.read", False),
        (["customers"], "customers.read", False),
        (["customers.read", "orders.read"], "orders.read", True),
        (["customers.read"], "not-a-scope", False),
        ([None, 5, "customers.read"], "customers.read", True),
    ],
)
def test_satisfies(granted: object, required: str, ok: bool) -> None:
    assert satisfies(granted, required) is ok  # type: ignore[arg-type]
