"""Executions: batch writes, state updates, filters, pagination, and history that outlives functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appfn import store
from appfn.errors import NotFoundError, ValidationError

from .conftest import World

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def run(i: int, **kwargs: object) -> store.NewExecution:
    """Execution number i, created i minutes after T0 (so higher i is newer)."""
    fields: dict[str, object] = {
        "app_id": "app_a",
        "partner_id": "ptn_a",
        "store_id": 1001,
        "trigger": "customer.created",
        "status": "success",
        "event_id": f"evt_{i}",
        "created_at": T0 + timedelta(minutes=i),
    }
    fields.update(kwargs)
    return store.NewExecution(**fields)  # type: ignore[arg-type]


def ids(page: store.ExecutionPage) -> list[str]:
    return [e.event_id or "" for e in page.items]


def test_record_a_batch_and_read_it_back(db: store.Database) -> None:
    with db.session() as s:
        made = store.record_executions(
            s,
            [
                run(1, response={"success": True, "data": {"a": 1}}, console=["hi"], duration_ms=12.5),
                run(2, status="failure", error="boom", error_kind="exception", requests=[{"url": "https://x"}]),
                {"app_id": "app_a", "partner_id": "ptn_a", "store_id": 1001, "trigger": "order.created"},
            ],
        )
    assert len(made) == 3 and all(i.startswith("exe_") for i in made)
    with db.read_session() as s:
        first = store.get_execution(s, made[0], partner_id="ptn_a")
        second = store.get_execution(s, made[1], partner_id=None)
        third = store.get_execution(s, made[2], partner_id=None)
    assert first.response == {"success": True, "data": {"a": 1}} and first.console == ["hi"]
    assert first.duration_ms == 12.5 and first.created_at == T0 + timedelta(minutes=1) and first.attempt == 1
    assert (second.status, second.error, second.error_kind) == ("failure", "boom", "exception")
    assert second.requests == [{"url": "https://x"}]
    assert third.status == "queued" and third.response is None and third.console == [] and third.event_id is None


def test_record_execution_with_a_chosen_id(db: store.Database) -> None:
    chosen = store.new_execution_id()
    with db.session() as s:
        made = store.record_execution(s, run(1, id=chosen, status="queued"))
    assert made.id == chosen


def test_state_updates(db: store.Database) -> None:
    with db.session() as s:
        a, b, c = store.record_executions(
            s, [run(1, status="queued"), run(2, status="queued"), run(3, status="queued")]
        )
    started = T0 + timedelta(hours=1)
    with db.session() as s:
        running = store.update_execution(s, a, status="running", started_at=started)
        assert running.status == "running" and running.started_at == started
        changed = store.update_executions(
            s,
            [
                (a, {"status": "success", "response": {"success": True}, "duration_ms": 5, "finished_at": started}),
                (b, {"status": "timeout", "error": "ran past 30 s", "error_kind": "timeout", "duration_ms": 30000}),
                (c, {"status": "success", "response": {"success": True}, "duration_ms": 7, "finished_at": started}),
                ("exe_missing", {"status": "dead"}),
            ],
        )
    assert changed == 3
    with db.read_session() as s:
        got = {i: store.get_execution(s, i, partner_id=None) for i in (a, b, c)}
    assert got[a].status == "success" and got[a].duration_ms == 5 and got[a].finished_at == started
    assert got[a].started_at == started  # untouched by the second update
    assert (got[b].status, got[b].error_kind) == ("timeout", "timeout")
    assert got[c].response == {"success": True}
    with db.session() as s:
        with pytest.raises(NotFoundError):
            store.update_execution(s, "exe_missing", status="dead")
        with pytest.raises(ValidationError) as exc:
            store.update_execution(s, a, status="exploded")
        assert exc.value.field == "execution.status"
        with pytest.raises(ValidationError) as exc:
            store.update_execution(s, a, app_id="other")
        assert exc.value.field == "execution.app_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "done"}, "executions[1].status"),
        ({"store_id": 0}, "executions[1].store_id"),
        ({"app_id": ""}, "executions[1].app_id"),
        ({"attempt": 0}, "executions[1].attempt"),
        ({"duration_ms": -1}, "executions[1].duration_ms"),
        ({"console": "text"}, "executions[1].console"),
        ({"error_kind": "k" * 65}, "executions[1].error_kind"),
        ({"trigger": ""}, "executions[1].trigger"),
    ],
)
def test_one_bad_execution_writes_nothing(db: store.Database, change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.record_executions(s, [run(1), run(2, **change)])
    assert exc.value.field == field
    with db.read_session() as s:
        assert store.list_executions(s, partner_id=None).items == []


@pytest.fixture
def history(db: store.Database) -> None:
    """20 runs: partners a/b, apps, stores, triggers and statuses spread over them."""
    rows = []
    for i in range(20):
        rows.append(
            run(
                i,
                partner_id="ptn_a" if i % 2 == 0 else "ptn_b",
                app_id=f"app_{'a' if i % 2 == 0 else 'b'}{i % 3}",
                store_id=1001 + i % 4,
                trigger="customer.created" if i < 10 else "order.created",
                status=["success", "failure", "timeout", "dead", "queued"][i % 5],
                function_id="fn_x" if i == 7 else None,
            )
        )
    with db.session() as s:
        store.record_executions(s, rows)


def listing(db: store.Database, **kwargs: object) -> list[str]:
    with db.read_session() as s:
        page = store.list_executions(s, **{"partner_id": None, **kwargs})  # type: ignore[arg-type]
    return ids(page)


@pytest.mark.usefixtures("history")
def test_filters(db: store.Database) -> None:
    assert listing(db, limit=3) == ["evt_19", "evt_18", "evt_17"]  # newest first
    assert listing(db, partner_id="ptn_a", limit=3) == ["evt_18", "evt_16", "evt_14"]
    assert listing(db, app_id="app_b1") == ["evt_19", "evt_13", "evt_7", "evt_1"]
    assert listing(db, store_id=1002) == ["evt_17", "evt_13", "evt_9", "evt_5", "evt_1"]
    assert listing(db, trigger="customer.created", status="dead") == ["evt_8", "evt_3"]
    assert listing(db, status=["timeout", "dead"], partner_id="ptn_b") == ["evt_17", "evt_13", "evt_7", "evt_3"]
    assert listing(db, function_id="fn_x") == ["evt_7"]
    assert listing(db, event_id="evt_4") == ["evt_4"]
    since, until = T0 + timedelta(minutes=5), T0 + timedelta(minutes=8)
    assert listing(db, since=since, until=until) == ["evt_7", "evt_6", "evt_5"]  # since inclusive, until exclusive
    naive = datetime(2026, 3, 1, 12, 18)  # naive datetimes are UTC
    assert listing(db, since=naive) == ["evt_19", "evt_18"]


@pytest.mark.usefixtures("history")
def test_cursor_pagination_walks_everything_once(db: store.Database) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        with db.read_session() as s:
            page = store.list_executions(s, partner_id=None, limit=6, cursor=cursor)
        seen += ids(page)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 4
    assert seen == [f"evt_{i}" for i in range(19, -1, -1)]


@pytest.mark.usefixtures("history")
def test_cursor_with_ties_and_filters(db: store.Database) -> None:
    with db.session() as s:  # three more rows at the very same instant as evt_19
        store.record_executions(s, [run(19, event_id=f"tie_{k}") for k in range(3)])
    with db.read_session() as s:
        first = store.list_executions(s, partner_id=None, limit=2)
        rest = store.list_executions(s, partner_id=None, limit=500, cursor=first.next_cursor)
    everything = ids(first) + ids(rest)
    assert len(everything) == 23 and len(set(everything)) == 23
    with db.read_session() as s:
        page = store.list_executions(s, partner_id="ptn_b", limit=4)
        more = store.list_executions(s, partner_id="ptn_b", limit=4, cursor=page.next_cursor)
    assert ids(page) + ids(more) == ["evt_19", "evt_17", "evt_15", "evt_13", "evt_11", "evt_9", "evt_7", "evt_5"]


@pytest.mark.usefixtures("history")
def test_offset_pagination(db: store.Database) -> None:
    assert listing(db, limit=3, offset=3) == ["evt_16", "evt_15", "evt_14"]
    assert listing(db, limit=3, offset=30) == []


def test_listing_arguments_are_checked(db: store.Database) -> None:
    with db.read_session() as s:
        for kwargs, field in [
            ({"limit": 0}, "limit"),
            ({"limit": 501}, "limit"),
            ({"offset": -1}, "offset"),
            ({"cursor": "!!!"}, "cursor"),
            ({"cursor": "bm90IGpzb24"}, "cursor"),
            ({"status": "ok"}, "status"),
            ({"offset": 2, "cursor": "abc"}, "offset"),
        ]:
            with pytest.raises(ValidationError) as exc:
                store.list_executions(s, partner_id=None, **kwargs)  # type: ignore[arg-type]
            assert exc.value.field == field, kwargs
        assert store.list_executions(s, partner_id=None, limit=500).items == []


def test_executions_survive_function_deletion(db: store.Database, world: World) -> None:
    partner = world.partner()
    app = world.app(partner)
    world.store(1001)
    saved = world.deployed(app)
    inst = world.install(app, 1001)
    with db.session() as s:
        (target,) = store.installations_for_event(s, 1001, "customer.created")
        store.record_events(s, [store.NewEvent(id="evt_keep", trigger="customer.created", store_id=1001)])
        made = store.record_execution(
            s,
            event_id="evt_keep",
            app_id=target.app_id,
            partner_id=target.partner_id,
            function_id=target.function_id,
            function_version_id=target.function_version_id,
            installation_id=target.installation_id,
            store_id=target.store_id,
            trigger=target.trigger,
            status="success",
        )
    with db.session() as s:
        store.delete_function(s, app_id=app.id, trigger="customer.created", partner_id=partner.id)
        store.uninstall(s, inst.id, partner_id=partner.id)
    with db.read_session() as s:
        kept = store.get_execution(s, made.id, partner_id=partner.id)
        assert store.list_executions(s, partner_id=partner.id, function_id=saved.function.id).items == [kept]
    assert kept.function_id == saved.function.id and kept.function_version_id == saved.version.id
    assert kept.installation_id == inst.id
