"""Knobs of the demo store. Read from the platform's ``Settings`` when it has the field
(``demo_rate_limit`` ...; see docs/demo-store.md), else the defaults below."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DemoConfig:
    rate_limit: int = 300  # requests per store per window (a token bucket: this is also the burst)
    rate_window_s: float = 60.0
    low_stock_threshold: int = 5  # product.quantity.low when the quantity falls below this
    vat_percent: float = 15.0  # Saudi VAT, added to order sub-totals
    currency: str = "SAR"

    @classmethod
    def from_settings(cls, settings: Any) -> DemoConfig:
        """Take ``demo_<field>`` from ``settings`` where it exists (so the lead can add them to
        ``appfn.config.Settings`` and get ``APPFN_DEMO_...`` variables for free)."""
        values = {}
        for f in fields(cls):
            value = getattr(settings, f"demo_{f.name}", None)
            if value is not None:
                values[f.name] = value
        return cls(**values)
