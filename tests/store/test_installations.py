"""Installations: settings on the way in and out, and who receives an event."""

from __future__ import annotations

import pytest

from appfn import store
from appfn.errors import ConflictError, NotFoundError, ValidationError

from .conftest import HANDLER, SCHEMA, World

TRIGGER = "customer.created"


def test_install_validates_and_normalises_settings(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    inst = world.install(app, 1001, settings={"api_key": "s3cret", "send_sms": "true", "vip_threshold": "5"})
    assert inst.id.startswith("inst_") and inst.status == "active" and inst.partner_id == partner.id
    assert inst.granted_scopes == app.scopes  # defaults to what the app asks for
    assert inst.settings == {
        "api_key": "s3cret",
        "endpoint": "https://crm.example.com",
        "vip_threshold": 5,
        "send_sms": True,
    }
    assert "s3cret" not in repr(inst)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({}, "settings.api_key"),
        ({"api_key": "k", "unknown": 1}, "settings.unknown"),
        ({"api_key": "k", "send_sms": "maybe"}, "settings.send_sms"),
        ({"api_key": "k", "endpoint": "not a url"}, "settings.endpoint"),
    ],
)
def test_install_refuses_bad_settings(db: store.Database, world: World, settings: dict, field: str) -> None:
    app = world.app(world.partner(), schema=SCHEMA)
    world.store(1001)
    with pytest.raises(ValidationError) as exc:
        world.install(app, 1001, settings=settings)
    assert exc.value.field == field
    with db.read_session() as s:
        assert store.list_installations(s, partner_id=None) == []


def test_public_settings_mask_secrets_and_the_mask_round_trips(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    inst = world.install(app, 1001, settings={"api_key": "s3cret"})
    shown = store.public_settings(inst)
    assert shown["api_key"] == store.MASK and inst.public_settings() == shown
    assert "s3cret" not in repr(shown)

    with db.session() as s:  # the console sends the form back, mask included, with one change
        updated = store.update_installation(s, inst.id, partner_id=partner.id, settings={**shown, "send_sms": "true"})
    assert updated.settings["api_key"] == "s3cret" and updated.settings["send_sms"] is True
    with db.session() as s:
        updated = store.update_installation(s, inst.id, partner_id=partner.id, settings={**shown, "api_key": "n3w"})
    assert updated.settings["api_key"] == "n3w"


def test_update_replaces_or_merges(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    inst = world.install(app, 1001, settings={"api_key": "k", "vip_threshold": 9})
    with db.session() as s:
        merged = store.update_installation(s, inst.id, partner_id=partner.id, settings={"send_sms": True}, merge=True)
    assert merged.settings["vip_threshold"] == 9 and merged.settings["send_sms"] is True
    with db.session() as s:
        replaced = store.update_installation(s, inst.id, partner_id=partner.id, settings={"api_key": store.MASK})
    assert replaced.settings == {**merged.settings, "vip_threshold": 3, "send_sms": False}  # like a form: defaults
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.update_installation(s, inst.id, partner_id=partner.id, settings={"send_sms": True})
    assert exc.value.field == "settings.api_key"


def test_schema_changes_after_install(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    inst = world.install(app, 1001, settings={"api_key": "s3cret"})
    new_schema = [
        {"id": "api_key", "type": "string"},  # no longer a password field
        {"id": "region", "type": "string", "default": "eu"},
    ]
    new_schema_secret_removed = [{"id": "region", "type": "string", "default": "eu"}]
    with db.session() as s:
        store.update_app(s, app.id, partner_id=partner.id, settings_schema=new_schema_secret_removed)
        current = store.get_installation(s, inst.id, partner_id=partner.id)
    # the removed secret is not shown; the new field reads as its default
    assert store.public_settings(current) == {"region": "eu"}
    with db.session() as s:
        store.update_app(s, app.id, partner_id=partner.id, settings_schema=new_schema)
        updated = store.update_installation(s, inst.id, partner_id=partner.id, settings={"api_key": "x"})
    assert updated.settings == {"api_key": "x", "region": "eu"}


def test_install_errors(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner)
    world.store(1001)
    world.install(app, 1001)
    with pytest.raises(ConflictError, match="already installed"):
        world.install(app, 1001)
    with pytest.raises(NotFoundError, match="store"):
        world.install(app, 4040)
    with pytest.raises(ValidationError) as exc:
        world.install(app, 1001, status="paused")
    assert exc.value.field == "status"
    world.store(1002)
    with pytest.raises(ValidationError) as exc:
        world.install(app, 1002, granted_scopes=["customer.read"])
    assert exc.value.field == "granted_scopes[0]"


def test_find_list_and_uninstall(db: store.Database, world: World) -> None:
    partner = world.partner()
    a, b = world.app(partner, name="A"), world.app(partner, name="B")
    world.store(1001)
    world.store(1002)
    ia = world.install(a, 1001)
    ib = world.install(b, 1001, status="inactive")
    ic = world.install(a, 1002)
    with db.read_session() as s:
        assert store.find_installation(s, app_id=a.id, store_id=1002, partner_id=partner.id) == ic
        assert [i.id for i in store.list_installations(s, partner_id=partner.id)] == [ia.id, ib.id, ic.id]
        assert [i.id for i in store.list_installations(s, partner_id=None, store_id=1001)] == [ia.id, ib.id]
        assert [i.id for i in store.list_installations(s, partner_id=None, app_id=a.id)] == [ia.id, ic.id]
        assert [i.id for i in store.list_installations(s, partner_id=None, status="inactive")] == [ib.id]
    with db.session() as s:
        store.uninstall(s, ia.id, partner_id=partner.id)
    with db.read_session() as s, pytest.raises(NotFoundError):
        store.get_installation(s, ia.id, partner_id=None)


# --- installations_for_event ---------------------------------------------------------------------


def targets(db: store.Database, store_id: int = 1001, trigger: str = TRIGGER) -> list[store.Target]:
    with db.read_session() as s:
        return store.installations_for_event(s, store_id, trigger)


def test_target_carries_what_the_dispatcher_needs(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    saved = world.deployed(app)
    inst = world.install(app, 1001, settings={"api_key": "s3cret"})
    (target,) = targets(db)
    assert target == store.Target(
        installation_id=inst.id,
        app_id=app.id,
        partner_id=partner.id,
        store_id=1001,
        trigger=TRIGGER,
        function_id=saved.function.id,
        function_version_id=saved.version.id,
        version_number=1,
        language="python",
        filename="handler.py",
        source=HANDLER,
        settings=inst.settings,
    )
    assert target.settings["api_key"] == "s3cret"  # the function gets the real secret
    assert "s3cret" not in repr(target)


def test_event_filters(db: store.Database, world: World) -> None:
    partner = world.partner()
    world.store(1001)
    world.store(1002)

    def app_with(scopes: list[str], *, deploy: bool = True, trigger: str = TRIGGER) -> store.App:
        app = world.app(partner, scopes=scopes, name="+".join(scopes) or "none")
        if deploy:
            world.deployed(app, trigger)
        return app

    ok = app_with(["customers.read"])
    world.install(ok, 1001)
    read_write = app_with(["customers.read_write"])
    world.install(read_write, 1001)
    inactive = app_with(["customers.read"])
    world.install(inactive, 1001, status="inactive")
    wrong_scope = app_with(["orders.read_write"])
    world.install(wrong_scope, 1001)
    scope_not_granted = app_with(["customers.read"])
    world.install(scope_not_granted, 1001, granted_scopes=[])
    no_function = app_with(["customers.read"], deploy=False)
    world.install(no_function, 1001)
    other_trigger = app_with(["customers.read"], trigger="customer.updated")
    world.install(other_trigger, 1001)
    other_store = app_with(["customers.read"])
    world.install(other_store, 1002)
    never_deployed = app_with(["customers.read"], deploy=False)
    with db.session() as s:
        store.save_function(s, app_id=never_deployed.id, trigger=TRIGGER, source=HANDLER, partner_id=partner.id)
    world.install(never_deployed, 1001)

    assert [t.app_id for t in targets(db)] == [ok.id, read_write.id]
    assert [t.app_id for t in targets(db, 1002)] == [other_store.id]
    assert [t.app_id for t in targets(db, 1001, "customer.updated")] == [other_trigger.id]
    assert targets(db, 9999) == []

    with db.session() as s:  # switching an installation off and on
        inst = store.find_installation(s, app_id=ok.id, store_id=1001, partner_id=None)
        store.update_installation(s, inst.id, partner_id=None, status="inactive")
    assert [t.app_id for t in targets(db)] == [read_write.id]


def test_event_order_is_installation_order(db: store.Database, world: World) -> None:
    partner = world.partner()
    world.store(1001)
    apps = [world.app(partner, name=f"app {i}") for i in range(5)]
    for app in apps:
        world.deployed(app)
    installed = [world.install(app, 1001) for app in reversed(apps)]
    assert [t.installation_id for t in targets(db)] == [i.id for i in installed]


def test_event_uses_the_active_version_and_fresh_defaults(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    world.deployed(app)
    world.install(app, 1001, settings={"api_key": "k"})
    v2 = "def handler(context):\n    return {'success': False}\n"
    with db.session() as s:
        saved = store.save_function(s, app_id=app.id, trigger=TRIGGER, source=v2, partner_id=partner.id)
    assert targets(db)[0].version_number == 1  # v2 is still deploying
    with db.session() as s:
        store.complete_deploy(s, saved.job.id)
        store.update_app(
            s, app.id, partner_id=partner.id, settings_schema=[*SCHEMA, {"id": "x", "type": "integer", "default": 1}]
        )
    (target,) = targets(db)
    assert (target.version_number, target.source) == (2, v2)
    assert target.settings["x"] == 1


def test_event_with_unknown_trigger_is_refused(db: store.Database) -> None:
    with pytest.raises(ValidationError) as exc, db.read_session() as s:
        store.installations_for_event(s, 1001, "customer.creatd")
    assert exc.value.field == "trigger"


def test_get_target_for_a_queued_job(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner, schema=SCHEMA)
    world.store(1001)
    v1 = world.deployed(app)
    inst = world.install(app, 1001, settings={"api_key": "k"})
    (queued,) = targets(db)
    v2 = world.deployed(app, source="def handler(context):\n    return None\n")

    def load(version_id: str = v1.version.id, trigger: str = TRIGGER, installation_id: str = inst.id) -> store.Target:
        with db.read_session() as s:
            return store.get_target(s, installation_id=installation_id, function_version_id=version_id, trigger=trigger)

    assert load() == queued  # the job runs the code it was queued with, even after v2 went live
    assert load(v2.version.id).version_number == 2
    with pytest.raises(NotFoundError):
        load(trigger="customer.updated")  # not the function for that trigger
    with pytest.raises(NotFoundError):
        load(installation_id="inst_missing")
    with db.session() as s:
        store.update_installation(s, inst.id, partner_id=None, granted_scopes=["orders.read"])
    with pytest.raises(NotFoundError):
        load()  # scope withdrawn since the job was queued
    with db.session() as s:
        store.update_installation(s, inst.id, partner_id=None, granted_scopes=["customers.read"], status="inactive")
    with pytest.raises(NotFoundError):
        load()  # switched off
