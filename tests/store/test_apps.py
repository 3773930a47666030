"""Apps: scopes and settings-schema validation, updates, deletion."""

from __future__ import annotations

import pytest

from appfn import store
from appfn.errors import NotFoundError, ValidationError

from .conftest import SCHEMA, World


def test_create_and_read_an_app(db: store.Database, world: World) -> None:
    partner = world.partner()
    with db.session() as s:
        app = store.create_app(
            s,
            partner_id=partner.id,
            name="CRM sync",
            scopes=["orders.read_write", "customers.read", "customers.read"],
            settings_schema=SCHEMA,
        )
    assert app.id.startswith("app_") and app.partner_id == partner.id
    assert app.scopes == ("customers.read", "orders.read_write")  # deduplicated, sorted
    assert app.schema_as_dicts() == SCHEMA
    with db.read_session() as s:
        assert store.get_app(s, app.id, partner_id=partner.id) == app
        assert store.get_app(s, app.id, partner_id=None) == app
        assert store.list_apps(s, partner_id=partner.id) == [app]


@pytest.mark.parametrize(
    ("scopes", "field", "message"),
    [
        (["customers"], "scopes[0]", "not a scope"),
        (["customers.write"], "scopes[0]", "not a scope"),
        (["orders.read", "Orders.read"], "scopes[1]", "not a scope"),
        (["order.read"], "scopes[0]", "unknown resource 'order'"),
        ([5], "scopes[0]", "not a scope"),
        ("orders.read", "scopes", "expected a list"),
    ],
)
def test_bad_scopes_are_named(db: store.Database, world: World, scopes: object, field: str, message: str) -> None:
    partner = world.partner()
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.create_app(s, partner_id=partner.id, name="x", scopes=scopes)  # type: ignore[arg-type]
    assert exc.value.field == field
    assert message in str(exc.value)


def test_bad_settings_schema_is_named(db: store.Database, world: World) -> None:
    partner = world.partner()
    schema = [*SCHEMA, {"id": "api_key", "type": "string"}]
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.create_app(s, partner_id=partner.id, name="x", settings_schema=schema)
    assert exc.value.field == "settings_schema[4].id"
    with db.read_session() as s:
        assert store.list_apps(s, partner_id=None) == []  # nothing written


def test_create_app_needs_a_real_partner_and_a_name(db: store.Database) -> None:
    with db.session() as s:
        with pytest.raises(NotFoundError, match="partner"):
            store.create_app(s, partner_id="ptn_missing", name="x")
        with pytest.raises(ValidationError) as exc:
            store.create_app(s, partner_id="ptn_missing", name="")
        assert exc.value.field == "name"
        with pytest.raises(ValidationError) as exc:
            store.create_app(s, partner_id="ptn_missing", name="x" * 201)
        assert exc.value.field == "name"


def test_update_app_changes_only_what_is_given(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    with db.session() as s:
        renamed = store.update_app(s, app.id, partner_id=partner.id, name="Renamed")
    assert renamed.name == "Renamed" and renamed.scopes == app.scopes and renamed.settings_schema == app.settings_schema
    assert renamed.updated_at >= app.updated_at and renamed.created_at == app.created_at
    with db.session() as s:
        changed = store.update_app(s, app.id, partner_id=None, scopes=["orders.read"], settings_schema=[])
    assert changed.scopes == ("orders.read",) and changed.settings_schema == ()
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.update_app(s, app.id, partner_id=partner.id, settings_schema=[{"id": "x", "type": "blob"}])
    assert exc.value.field == "settings_schema[0].type"


def test_delete_app_removes_functions_and_installations_but_keeps_executions(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner)
    world.store(1001)
    saved = world.deployed(app)
    inst = world.install(app, 1001)
    with db.session() as s:
        store.record_execution(
            s,
            app_id=app.id,
            partner_id=partner.id,
            store_id=1001,
            trigger="customer.created",
            function_id=saved.function.id,
            installation_id=inst.id,
            status="success",
        )
        store.delete_app(s, app.id, partner_id=partner.id)
    with db.read_session() as s:
        with pytest.raises(NotFoundError):
            store.get_app(s, app.id, partner_id=None)
        with pytest.raises(NotFoundError):
            store.get_function_by_id(s, saved.function.id, partner_id=None)
        assert store.list_installations(s, partner_id=None) == []
        assert [e.app_id for e in store.list_executions(s, partner_id=None).items] == [app.id]
