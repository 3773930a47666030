"""Which app scope a trigger needs: the reviewed trigger → scope map.

    from appfn.catalog.scopes import required_scope, satisfies

    required_scope("customer.created")                      # "customers.read"
    satisfies(["customers.read_write"], "customers.read")   # True: read_write covers read

The sources say scopes decide which events an app may receive, but publish no table
(PLATFORM.md §13.12; ``events.json`` has ``required_scope: null`` everywhere). This is ours.

How it was decided
------------------
* Merchant events: the ``scope_hint`` of ``events.json`` (the resource family of the entity
  the event is about), kept as is. The four triggers without a hint:
  ``review.added`` → ``products.read`` (a review is attached to a product),
  ``abandoned.cart`` → ``orders.read`` (a cart is an order not yet placed).
* Storefront ``ecommerce_events``: the same rule, applied per catalog group: the scope the app
  would need to read the entity the event is about through the Admin API. Product
  interactions and wishlist events → ``products.read``; cart & checkout (add/remove to cart,
  checkout steps, payment, storefront order events) → ``orders.read``; promotions & coupons
  → ``specialoffers.read``; user account (sign in/up/out, profile) → ``customers.read``.
  One scope for every storefront event (say ``customers.read``, since each one describes a
  shopper) was considered and rejected: an analytics app for product views would then need
  access to customer records it never reads.
* Communication events (``communication.*.send``) → ``customers.read``: the payload carries
  the recipient's phone number or e-mail address, which is customer data.

Only ``read`` scopes are ever required; a ``read_write`` grant of the same resource satisfies
them. The dynamic ``app.onboarding.step.creating.{slug}`` family is not in the catalog and has
no entry here (``required_scope`` raises ``UnknownTriggerError`` for it, as the catalog does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

from appfn.errors import UnknownTriggerError

# Resource names a scope may name (PLATFORM.md §1, plus ``shipping`` from the scope hints).
RESOURCES: tuple[str, ...] = (
    "orders",
    "products",
    "customers",
    "categories",
    "brands",
    "branches",
    "shipping",
    "taxes",
    "specialoffers",
    "settings",
    "webhooks",
    "payments",
    "metadata",
)
ACCESS_LEVELS: tuple[str, ...] = ("read", "read_write")

SCOPE_RE = re.compile(r"^([a-z][a-z0-9_]*)\.(read|read_write)$")

_SCOPES: dict[str, str] = {
    # merchant_actions (sync)
    "shipment.creating": "shipping.read",
    "shipment.cancelling": "shipping.read",
    # merchant_events: shipments, shipping zones and companies
    "shipment.created": "shipping.read",
    "shipment.cancelled": "shipping.read",
    "shipment.updated": "shipping.read",
    "shipping.zone.created": "shipping.read",
    "shipping.zone.updated": "shipping.read",
    "shipping.company.created": "shipping.read",
    "shipping.company.updated": "shipping.read",
    "shipping.company.deleted": "shipping.read",
    # merchant_events: orders and invoices
    "order.created": "orders.read",
    "order.status.updated": "orders.read",
    "order.deleted": "orders.read",
    "order.products.updated": "orders.read",
    "order.payment.updated": "orders.read",
    "order.coupon.updated": "orders.read",
    "order.total.price.updated": "orders.read",
    "invoice.created": "orders.read",
    "abandoned.cart": "orders.read",
    # merchant_events: catalogue
    "product.created": "products.read",
    "product.updated": "products.read",
    "product.deleted": "products.read",
    "product.available": "products.read",
    "product.quantity.low": "products.read",
    "review.added": "products.read",
    "category.created": "categories.read",
    "category.updated": "categories.read",
    "brand.created": "brands.read",
    "brand.updated": "brands.read",
    "brand.deleted": "brands.read",
    # merchant_events: customers
    "customer.created": "customers.read",
    "customer.updated": "customers.read",
    "customer.login": "customers.read",
    "customer.otp.request": "customers.read",
    # merchant_events: store
    "store.branch.created": "branches.read",
    "store.branch.updated": "branches.read",
    "store.branch.deleted": "branches.read",
    "store.branch.setDefault": "branches.read",
    "store.branch.activated": "branches.read",
    "storetax.created": "taxes.read",
    "specialoffer.created": "specialoffers.read",
    "specialoffer.updated": "specialoffers.read",
    # ecommerce_events: product interactions
    "products.searched": "products.read",
    "product.list.viewed": "products.read",
    "product.list.filtered": "products.read",
    "product.list.sorted": "products.read",
    "product.viewed": "products.read",
    "product.clicked": "products.read",
    "product.shared": "products.read",
    "product.reviewed": "products.read",
    # ecommerce_events: cart & checkout
    "product.added": "orders.read",
    "product.removed": "orders.read",
    "cart.viewed": "orders.read",
    "cart.updated": "orders.read",
    "cart.shared": "orders.read",
    "checkout.started": "orders.read",
    "checkout.step.viewed": "orders.read",
    "checkout.step.completed": "orders.read",
    "payment.info.entered": "orders.read",
    "payment.failed": "orders.read",
    "order.completed": "orders.read",
    "ecommerce.order.updated": "orders.read",
    "ecommerce.order.cancelled": "orders.read",
    "ecommerce.order.refunded": "orders.read",
    # ecommerce_events: promotions & coupons
    "promotion.viewed": "specialoffers.read",
    "promotion.clicked": "specialoffers.read",
    "coupon.entered": "specialoffers.read",
    "coupon.applied": "specialoffers.read",
    "coupon.removed": "specialoffers.read",
    "coupon.denied": "specialoffers.read",
    # ecommerce_events: wishlist
    "product.added.to.wishlist": "products.read",
    "product.removed.from.wishlist": "products.read",
    "wishlist.product.added.to.cart": "products.read",
    # ecommerce_events: user account
    "signed.in": "customers.read",
    "signed.up": "customers.read",
    "signed.out": "customers.read",
    "user.profile.updated": "customers.read",
    # communication_events
    "communication.sms.send": "customers.read",
    "communication.email.send": "customers.read",
    "communication.whatsapp.send": "customers.read",
}

#: The whole map, read-only: trigger name → the scope an installation must hold.
TRIGGER_SCOPES = MappingProxyType(_SCOPES)


def required_scope(trigger: str) -> str:
    """The scope an installation must hold to receive ``trigger`` (UnknownTriggerError if none)."""
    try:
        return _SCOPES[trigger]
    except (KeyError, TypeError):
        from appfn.catalog import load_catalog

        load_catalog().get(str(trigger))  # raises UnknownTriggerError with suggestions
        raise UnknownTriggerError(str(trigger)) from None  # in the catalog but not mapped: a bug


def parse_scope(scope: str) -> tuple[str, str] | None:
    """``("orders", "read_write")`` for ``"orders.read_write"``; None when it is not a scope."""
    match = SCOPE_RE.match(scope) if isinstance(scope, str) else None
    return (match.group(1), match.group(2)) if match else None


def satisfies(granted: str | Iterable[str], required: str) -> bool:
    """True when ``granted`` (one scope or several) covers ``required``.

    A scope covers itself; ``<resource>.read_write`` also covers ``<resource>.read``.
    """
    want = parse_scope(required)
    if want is None:
        return False
    scopes = [granted] if isinstance(granted, str) else granted
    for scope in scopes:
        have = parse_scope(scope)
        if have is None or have[0] != want[0]:
            continue
        if have[1] == want[1] or have[1] == "read_write":
            return True
    return False
