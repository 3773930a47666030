"""The demo partner and its apps on the demo store (``appfn serve --demo``).

    setup = seed_demo_apps(db, store_id, data_dir, public_url)   # once; later calls change nothing
    setup.partner_key                                            # "afk_...", the demo partner's key

Seeds a partner "Demo partner" with an API key and three apps installed on the demo store, whose
settings point at the request inspector (``<public_url>/inspect/<bin>``) with fake API keys:

| app | function(s) | settings |
|---|---|---|
| CRM Sync | ``customer.created``, ``customer.updated``: ``examples/crm_sync.py`` | ``crmApiUrl`` -> ``/inspect/crm`` |
| Welcome Mail | ``customer.created``: ``examples/welcome_email.py`` | ``emailApiUrl`` -> ``/inspect/mail`` |
| Shipping Rules | ``shipment.creating``: ``examples/shipping_rules.py`` | ``carrierApiUrl`` -> ``/inspect/carrier`` |

Functions are saved the normal way (a version plus a PENDING deploy job); the platform deploys
them when it starts. Only the key's hash is in the database, so the plaintext key is kept in
``<data_dir>/demo.json`` (mode 0600) for later starts and the console's "sign in as the demo
partner". Everything is found again by name: a function the partner changed is never
overwritten, an app deleted is made again, and a revoked demo key is replaced. When the public
URL changed (another port), the inspector URLs in the settings follow.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from appfn import store
from appfn.errors import NotFoundError

DEMO_FILE = "demo.json"
PARTNER_NAME = "Demo partner"
KEY_NAME = "demo partner key (appfn serve --demo)"
_INSPECT_URL_RE = re.compile(r"^https?://[^/]+(/.*)?/inspect/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class _Spec:
    name: str
    scopes: tuple[str, ...]
    schema: tuple[dict[str, Any], ...]
    settings: dict[str, Any]  # "{inspect}" is replaced by <public_url>/inspect
    functions: tuple[tuple[str, str], ...]  # (trigger, file in appfn/demo/functions)


def _url(field: str, label: str) -> dict[str, Any]:
    return {"id": field, "type": "string", "format": "url", "label": label, "required": True}


def _secret(field: str, label: str) -> dict[str, Any]:
    return {"id": field, "type": "string", "format": "password", "label": label, "required": True}


APPS: tuple[_Spec, ...] = (
    _Spec(
        "CRM Sync", ("customers.read",),
        (_url("crmApiUrl", "CRM endpoint"), _secret("crmApiKey", "CRM API key")),
        {"crmApiUrl": "{inspect}/crm", "crmApiKey": "demo-crm-key-7f3a9c2e"},
        (("customer.created", "crm_sync.py"), ("customer.updated", "crm_sync.py")),
    ),
    _Spec(
        "Welcome Mail", ("customers.read",),
        (_url("emailApiUrl", "Mail provider endpoint"), _secret("emailApiKey", "Mail provider API key")),
        {"emailApiUrl": "{inspect}/mail", "emailApiKey": "demo-mail-key-5b1d8e4f"},
        (("customer.created", "welcome_email.py"),),
    ),
    _Spec(
        "Shipping Rules", ("shipping.read", "orders.read"),
        (_url("carrierApiUrl", "Carrier endpoint"), _secret("carrierApiKey", "Carrier API key"),
         {"id": "maxCashOnDelivery", "type": "number", "label": "Largest cash on delivery (SAR, 0: no limit)",
          "default": 5000}),
        {"carrierApiUrl": "{inspect}/carrier", "carrierApiKey": "demo-carrier-key-0c6e2a91", "maxCashOnDelivery": 5000},
        (("shipment.creating", "shipping_rules.py"),),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoApp:
    name: str
    app_id: str
    installation_id: str
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class DemoSetup:
    store_id: int
    partner_id: str
    partner_key: str
    apps: tuple[DemoApp, ...]
    created: bool  # False: everything was there already

    def app(self, name: str) -> DemoApp:
        return next(a for a in self.apps if a.name == name)


def function_source(filename: str) -> str:
    return resources.files("appfn.demo.functions").joinpath(filename).read_text(encoding="utf-8")


def seed_demo_apps(db: store.Database, store_id: int, data_dir: Path, public_url: str) -> DemoSetup:
    """Create what is missing of the demo partner, its key and apps (the store must exist)."""
    saved = load_demo_file(data_dir)
    inspect = public_url.rstrip("/") + "/inspect"
    created = False
    with db.session() as s:
        partner = next((p for p in store.list_partners(s) if p.name == PARTNER_NAME), None)
        if partner is None:
            partner = store.create_partner(s, PARTNER_NAME)
            created = True
        key = saved.get("partner_key") if saved.get("partner_id") == partner.id else None
        found = store.verify_key(s, key, touch=False) if isinstance(key, str) else None
        if found is None or found.partner_id != partner.id:
            _, key = store.create_key(s, "partner", partner.id, name=KEY_NAME)
            created = True
        apps = []
        for spec in APPS:
            app, made = _app(s, spec, partner.id, store_id, inspect)
            created = created or made
            apps.append(app)
    assert isinstance(key, str)
    setup = DemoSetup(store_id, partner.id, key, tuple(apps), created)
    if created or saved != _file_body(setup):
        write_demo_file(data_dir, setup)
    return setup


def _app(s: Any, spec: _Spec, partner_id: str, store_id: int, inspect: str) -> tuple[DemoApp, bool]:
    created = False
    app = next((a for a in store.list_apps(s, partner_id=partner_id) if a.name == spec.name), None)
    if app is None:
        app = store.create_app(
            s, partner_id=partner_id, name=spec.name, scopes=spec.scopes, settings_schema=list(spec.schema)
        )
        created = True
    settings = {k: v.replace("{inspect}", inspect) if isinstance(v, str) else v for k, v in spec.settings.items()}
    found = store.list_installations(s, partner_id=partner_id, app_id=app.id, store_id=store_id)
    if not found:
        installation = store.install_app(s, app_id=app.id, store_id=store_id, partner_id=partner_id, settings=settings)
        created = True
    else:
        installation = found[0]
        moved = {
            k: v for k, v in settings.items()
            if isinstance(v, str) and v.startswith(inspect) and installation.settings.get(k) != v
            and _INSPECT_URL_RE.match(str(installation.settings.get(k, "")))
        }  # fmt: skip
        if moved:  # the server moved (another port): keep the inspector URLs pointing at it
            store.update_installation(s, installation.id, partner_id=partner_id, settings=moved, merge=True)
    for trigger, filename in spec.functions:
        try:
            store.get_function(s, app_id=app.id, trigger=trigger, partner_id=partner_id)
        except NotFoundError:  # never overwrite what the partner deployed since
            store.save_function(
                s, app_id=app.id, trigger=trigger, source=function_source(filename), partner_id=partner_id,
                name=f"{filename.removesuffix('.py').replace('_', '-')}", filename=filename,
            )  # fmt: skip
            created = True
    triggers = tuple(t for t, _ in spec.functions)
    return DemoApp(spec.name, app.id, installation.id, triggers), created


def load_demo_file(data_dir: Path) -> dict[str, Any]:
    """What ``demo.json`` holds (``{}`` when there is none or it is unreadable)."""
    try:
        body = json.loads((data_dir / DEMO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def demo_partner_key(data_dir: Path) -> str | None:
    key = load_demo_file(data_dir).get("partner_key")
    return key if isinstance(key, str) else None


def _file_body(setup: DemoSetup) -> dict[str, Any]:
    body = asdict(setup)
    body.pop("created")
    body["apps"] = [{**a, "triggers": list(a["triggers"])} for a in body["apps"]]
    return body


def write_demo_file(data_dir: Path, setup: DemoSetup) -> None:
    """Write ``demo.json`` readable by its owner only (it holds a key), atomically."""
    path = data_dir / DEMO_FILE
    tmp = path.with_name(f".{DEMO_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(_file_body(setup), f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
