"""The demo store: a merchant Admin API at ``/admin/v2`` on the platform's own server, with
records in the platform's database and a real event for every change (docs/demo-store.md).

    from appfn.demo import create_admin_app, issue_token, token_principal, seed_demo_store

    app.mount("/admin/v2", create_admin_app(platform))   # appfn.api.app does this
    token = issue_token(db, installation.id)             # Authorization: Bearer <token>
    seed_demo_store(db, store_id, customers=25, products=30, orders=20)   # no events

Names are loaded lazily: ``appfn.store.models`` imports ``appfn.demo.models`` while the store
package is still being imported, so this module must not import anything else eagerly.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "create_admin_app": "appfn.demo.api.app",
    "admin_state": "appfn.demo.api.app",
    "DemoConfig": "appfn.demo.config",
    "issue_token": "appfn.demo.tokens",
    "token_principal": "appfn.demo.tokens",
    "revoke_tokens": "appfn.demo.tokens",
    "TokenCache": "appfn.demo.tokens",
    "TokenPrincipal": "appfn.demo.tokens",
    "seed_demo_store": "appfn.demo.seed",
    "preview_data": "appfn.demo.preview",
    "flush_outbox": "appfn.demo.outbox",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'appfn.demo' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
