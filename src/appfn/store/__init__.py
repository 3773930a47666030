"""appfn's persistence layer: partners and keys, apps, functions and deploys, stores,
installations, events and executions, on SQLite (default) or PostgreSQL.

Design
------
* ``Database`` (``db.py``) owns the engine and hands out sessions. ``db.session()`` is one
  write transaction (commits at the end of the block, rolls back on error);
  ``db.read_session()`` is a read-only snapshot. Keep each block short: the server calls
  the store from a thread pool, and on SQLite a write session holds the database's write lock.
* Every repository call is a plain function whose first argument is a ``Session``. Calls
  compose: several in one ``with db.session()`` block commit together. They flush but never
  commit.
* They return frozen dataclasses, never ORM objects, so results are safe to use after the
  session has closed. The ORM models (``models.py``) stay inside this package.
* Bad input raises a ``StoreError`` (``appfn.errors``): ``ValidationError`` whose ``.field``
  names the field (``settings_schema[2].id``, ``settings.api_key``, ``events[3].store_id``),
  ``NotFoundError``, ``ConflictError``, and ``StoreUnavailableError`` when the database is
  unreachable or locked.
* Ownership: each lookup of a partner-owned record takes a keyword-only ``partner_id``: the
  caller's partner id, or None for an operator (``Principal.owner`` gives the right value).
  Another partner's record is a ``NotFoundError`` indistinguishable from a missing one.
* Schema changes are Alembic migrations shipped in ``migrations/``; ``Database.open()`` (or
  ``upgrade_to_head(url)``) applies them at start. The data model is in docs/data-model.md.

    from appfn import store

    db = store.Database.open(data_dir="/var/lib/appfn")
    with db.session() as s:
        partner = store.create_partner(s, "Acme")
        _, api_key = store.create_key(s, "partner", partner.id, name="ci")
        app = store.create_app(s, partner_id=partner.id, name="CRM", scopes=["customers.read"])
        saved = store.save_function(s, app_id=app.id, trigger="customer.created",
                                    source=code, partner_id=partner.id)
        store.run_deploy(s, saved.job.id)          # or complete_deploy / fail_deploy
        store.upsert_store(s, 1234, "Demo", is_demo=True)
        store.install_app(s, app_id=app.id, store_id=1234, partner_id=partner.id)
    with db.session() as s:
        if store.record_events(s, [event])[0]:
            targets = store.installations_for_event(s, 1234, "customer.created")
"""

from __future__ import annotations

from appfn.store.apps import App, create_app, delete_app, get_app, list_apps, update_app, validate_scopes
from appfn.store.db import Database, current_revision, head_revision, make_engine, sqlite_url, upgrade_to_head
from appfn.store.events import Event, NewEvent, get_event, list_events, record_event, record_events
from appfn.store.executions import (
    Execution,
    ExecutionPage,
    NewExecution,
    get_execution,
    list_executions,
    new_execution_id,
    record_execution,
    record_executions,
    update_execution,
    update_executions,
)
from appfn.store.functions import (
    DeployJob,
    Function,
    FunctionVersion,
    SaveResult,
    complete_deploy,
    delete_function,
    fail_deploy,
    get_deploy_job,
    get_function,
    get_function_by_id,
    get_version,
    latest_deploy,
    list_functions,
    list_pending_deploys,
    list_versions,
    rollback,
    run_deploy,
    save_function,
)
from appfn.store.installations import (
    Installation,
    Target,
    find_installation,
    get_installation,
    get_target,
    install_app,
    installations_for_event,
    list_installations,
    public_settings,
    uninstall,
    update_installation,
)
from appfn.store.keys import (
    ApiKey,
    Partner,
    Principal,
    create_key,
    create_partner,
    get_key,
    get_partner,
    list_keys,
    list_partners,
    revoke_key,
    verify_key,
)
from appfn.store.settings import MASK, SettingsField, mask_settings, parse_settings_schema, validate_settings
from appfn.store.stores import Store, create_store, delete_store, get_store, list_stores, upsert_store

__all__ = [
    "MASK",
    "ApiKey",
    "App",
    "Database",
    "DeployJob",
    "Event",
    "Execution",
    "ExecutionPage",
    "Function",
    "FunctionVersion",
    "Installation",
    "NewEvent",
    "NewExecution",
    "Partner",
    "Principal",
    "SaveResult",
    "SettingsField",
    "Store",
    "Target",
    "complete_deploy",
    "create_app",
    "create_key",
    "create_partner",
    "create_store",
    "current_revision",
    "delete_app",
    "delete_function",
    "delete_store",
    "fail_deploy",
    "find_installation",
    "get_app",
    "get_deploy_job",
    "get_event",
    "get_execution",
    "get_function",
    "get_function_by_id",
    "get_installation",
    "get_key",
    "get_partner",
    "get_store",
    "get_target",
    "get_version",
    "head_revision",
    "install_app",
    "installations_for_event",
    "latest_deploy",
    "list_apps",
    "list_events",
    "list_executions",
    "list_functions",
    "list_installations",
    "list_keys",
    "list_partners",
    "list_pending_deploys",
    "list_stores",
    "list_versions",
    "make_engine",
    "mask_settings",
    "new_execution_id",
    "parse_settings_schema",
    "public_settings",
    "record_event",
    "record_events",
    "record_execution",
    "record_executions",
    "revoke_key",
    "rollback",
    "run_deploy",
    "save_function",
    "sqlite_url",
    "uninstall",
    "update_app",
    "update_execution",
    "update_executions",
    "update_installation",
    "upgrade_to_head",
    "upsert_store",
    "validate_scopes",
    "validate_settings",
    "verify_key",
]
