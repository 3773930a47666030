"""Events: recorded once per id, in batches, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appfn import store
from appfn.errors import NotFoundError, ValidationError

CREATED = "Tue Jan 25 2022 12:36:49 GMT+0300"


def event(event_id: str, store_id: int = 1001, trigger: str = "customer.created", **data: object) -> store.NewEvent:
    return store.NewEvent(id=event_id, trigger=trigger, store_id=store_id, data=data or {"id": 1}, created_at=CREATED)


def test_batch_reports_which_events_are_new(db: store.Database) -> None:
    with db.session() as s:
        assert store.record_events(s, [event("e1"), event("e2"), event("e1", n=2), event("e3")]) == [
            True,
            True,
            False,  # a duplicate inside the batch: the first copy wins
            True,
        ]
    with db.session() as s:
        assert store.record_events(
            s, [event("e4"), event("e2", n=3), {"id": "e5", "trigger": "order.created", "store_id": "1001"}]
        ) == [
            True,
            False,  # seen in an earlier batch
            True,
        ]
        assert store.record_event(s, event("e1")) is False
        assert store.record_events(s, []) == []
    with db.read_session() as s:
        e2 = store.get_event(s, "e2")
        assert e2.data == {"id": 1}  # the stored copy is the first one
        assert e2.created_at == CREATED and e2.store_id == 1001 and e2.trigger == "customer.created"
        assert e2.received_at.tzinfo is not None
        assert store.get_event(s, "e5").store_id == 1001 and store.get_event(s, "e5").data is None
        assert sorted(e.id for e in store.list_events(s)) == ["e1", "e2", "e3", "e4", "e5"]
        assert [e.id for e in store.list_events(s, trigger="order.created")] == ["e5"]
        with pytest.raises(NotFoundError):
            store.get_event(s, "e9")


def test_a_rolled_back_batch_records_nothing(db: store.Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        assert store.record_events(s, [event("r1")]) == [True]
        raise RuntimeError("dispatcher crashed before commit")
    with db.session() as s:
        assert store.record_events(s, [event("r1")]) == [True]


def test_large_batches_are_split(db: store.Database) -> None:
    batch = [event(f"big-{i}", data_index=i) for i in range(1_234)]
    with db.session() as s:
        assert store.record_events(s, batch) == [True] * 1_234
    with db.session() as s:
        result = store.record_events(s, [*batch[:3], event("big-new")])
    assert result == [False, False, False, True]


def test_received_at_may_be_given(db: store.Database) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with db.session() as s:
        store.record_events(s, [event("t1")], received_at=when)
    with db.read_session() as s:
        assert store.get_event(s, "t1").received_at == when


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"id": "", "trigger": "customer.created", "store_id": 1}, "events[1].id"),
        ({"id": "x" * 201, "trigger": "customer.created", "store_id": 1}, "events[1].id"),
        ({"id": "b", "trigger": "customer.made", "store_id": 1}, "events[1].trigger"),
        ({"id": "b", "trigger": "customer.created", "store_id": -1}, "events[1].store_id"),
        ({"id": "b", "trigger": "customer.created", "store_id": "x"}, "events[1].store_id"),
        ({"id": "b", "trigger": "customer.created", "store_id": 1, "created_at": 5}, "events[1].created_at"),
    ],
)
def test_one_bad_event_writes_nothing(db: store.Database, bad: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc, db.session() as s:
        store.record_events(s, [event("good"), bad])
    assert exc.value.field == field
    with db.session() as s:
        assert store.record_events(s, [event("good")]) == [True]
