"""Partner isolation: B sees A's records exactly as if they did not exist; an operator sees all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from appfn import store
from appfn.errors import NotFoundError

from .conftest import HANDLER, World

TRIGGER = "customer.created"


@pytest.fixture
def a_world(db: store.Database, world: World) -> dict[str, Any]:
    """Partner A with an app, a deployed function, an installation and an execution; partner B."""
    a, b = world.partner("A"), world.partner("B")
    app = world.app(a)
    world.store(1001)
    world.store(1002)
    saved = world.deployed(app)
    inst = world.install(app, 1001)
    with db.session() as s:
        execution = store.record_execution(
            s, app_id=app.id, partner_id=a.id, store_id=1001, trigger=TRIGGER, function_id=saved.function.id
        )
    return {"a": a, "b": b, "app": app, "saved": saved, "inst": inst, "execution": execution}


LOOKUPS: dict[str, Callable[[Any, dict[str, Any], str | None], Any]] = {
    "get_app": lambda s, w, p: store.get_app(s, w["app"].id, partner_id=p),
    "update_app": lambda s, w, p: store.update_app(s, w["app"].id, partner_id=p, name="stolen"),
    "delete_app": lambda s, w, p: store.delete_app(s, w["app"].id, partner_id=p),
    "list_functions": lambda s, w, p: store.list_functions(s, app_id=w["app"].id, partner_id=p),
    "get_function": lambda s, w, p: store.get_function(s, app_id=w["app"].id, trigger=TRIGGER, partner_id=p),
    "get_function_by_id": lambda s, w, p: store.get_function_by_id(s, w["saved"].function.id, partner_id=p),
    "list_versions": lambda s, w, p: store.list_versions(s, app_id=w["app"].id, trigger=TRIGGER, partner_id=p),
    "get_version": lambda s, w, p: store.get_version(s, w["saved"].version.id, partner_id=p),
    "get_deploy_job": lambda s, w, p: store.get_deploy_job(s, w["saved"].job.id, partner_id=p),
    "save_function": lambda s, w, p: store.save_function(
        s, app_id=w["app"].id, trigger=TRIGGER, source=HANDLER + "# x\n", partner_id=p
    ),
    "rollback": lambda s, w, p: store.rollback(s, app_id=w["app"].id, trigger=TRIGGER, to_version=1, partner_id=p),
    "delete_function": lambda s, w, p: store.delete_function(s, app_id=w["app"].id, trigger=TRIGGER, partner_id=p),
    "install_app": lambda s, w, p: store.install_app(s, app_id=w["app"].id, store_id=1002, partner_id=p),
    "get_installation": lambda s, w, p: store.get_installation(s, w["inst"].id, partner_id=p),
    "find_installation": lambda s, w, p: store.find_installation(s, app_id=w["app"].id, store_id=1001, partner_id=p),
    "update_installation": lambda s, w, p: store.update_installation(s, w["inst"].id, partner_id=p, status="inactive"),
    "uninstall": lambda s, w, p: store.uninstall(s, w["inst"].id, partner_id=p),
    "get_execution": lambda s, w, p: store.get_execution(s, w["execution"].id, partner_id=p),
}


@pytest.mark.parametrize("lookup", sorted(LOOKUPS))
def test_partner_b_gets_not_found_for_a_records(db: store.Database, a_world: dict[str, Any], lookup: str) -> None:
    with pytest.raises(NotFoundError) as b_error, db.session() as s:
        LOOKUPS[lookup](s, a_world, a_world["b"].id)
    # The same message as for a record that does not exist: nothing reveals that it does.
    assert "not found" in str(b_error.value)
    assert a_world["b"].id not in str(b_error.value)
    with db.session() as s:  # A and the operator still can
        LOOKUPS[lookup](s, a_world, a_world["a"].id)
    if not lookup.startswith(("delete", "uninstall", "install_app")):
        with db.session() as s:
            LOOKUPS[lookup](s, a_world, None)


def test_listings_are_scoped(db: store.Database, a_world: dict[str, Any]) -> None:
    a, b = a_world["a"].id, a_world["b"].id
    with db.read_session() as s:
        assert store.list_apps(s, partner_id=b) == []
        assert store.list_installations(s, partner_id=b) == []
        assert store.list_executions(s, partner_id=b).items == []
        assert store.list_executions(s, partner_id=b, app_id=a_world["app"].id).items == []
        assert [x.id for x in store.list_apps(s, partner_id=a)] == [a_world["app"].id]
        assert [x.id for x in store.list_apps(s, partner_id=None)] == [a_world["app"].id]
        assert len(store.list_executions(s, partner_id=None).items) == 1


def test_missing_and_foreign_records_look_the_same(db: store.Database, a_world: dict[str, Any]) -> None:
    b = a_world["b"].id
    with db.read_session() as s:
        with pytest.raises(NotFoundError) as foreign:
            store.get_app(s, a_world["app"].id, partner_id=b)
        with pytest.raises(NotFoundError) as missing:
            store.get_app(s, "app_doesnotexist0000", partner_id=b)
    assert type(foreign.value) is type(missing.value)
    assert str(foreign.value).replace(a_world["app"].id, "X") == str(missing.value).replace("app_doesnotexist0000", "X")
