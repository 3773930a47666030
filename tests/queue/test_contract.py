"""The broker contract (appfn/queue/base.py), run against every backend.

Timing tests use short real timeouts (0.3 s) and sleep past them: Redis keeps time on the
server, so a fake clock could not reach it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from appfn.queue import AsyncBroker, Broker, Depth, NewJob
from appfn.queue.base import DEFAULT_MAX_ATTEMPTS, MAX_ERROR_CHARS, MAX_LEASE_BATCH

SHORT = 0.3  # a visibility timeout or delay that a test waits out
WAIT = 0.45  # comfortably past SHORT
LONG = 30.0

BrokerFactory = Callable[..., Broker]  # the make_broker fixture (conftest.py)


def jobs(queue: str, n: int, **fields: object) -> list[NewJob]:
    return [NewJob(queue, f"job-{i}".encode(), **fields) for i in range(n)]  # type: ignore[arg-type]


# --- enqueue, lease, ack ---------------------------------------------------------------------


def test_enqueue_lease_ack_roundtrip(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"hello")])

    [lease] = broker.lease("q", "w1", 10, LONG)

    assert (lease.job_id, lease.queue, lease.payload) == (job_id, "q", b"hello")
    assert (lease.attempt, lease.max_attempts) == (1, DEFAULT_MAX_ATTEMPTS)
    assert time.time() + LONG - 5 < lease.deadline < time.time() + LONG + 5
    assert broker.ack([lease]) == 1
    assert broker.lease("q", "w1", 10, LONG) == []
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=0)


def test_payload_is_opaque_bytes(broker: Broker) -> None:
    binary = bytes(range(256)) * 64 + b"\x00"
    broker.enqueue([NewJob("q", binary), NewJob("q", b"")])

    leases = broker.lease("q", "w1", 10, LONG)

    assert [lease.payload for lease in leases] == [binary, b""]


def test_job_ids_are_unique_across_calls(broker: Broker) -> None:
    first = broker.enqueue(jobs("q", 3))
    second = broker.enqueue(jobs("q", 3))

    assert len(set(first + second)) == 6
    assert all(isinstance(job_id, str) for job_id in first + second)


def test_batches_enqueue_and_lease_in_fifo_order(broker: Broker) -> None:
    ids = broker.enqueue(jobs("q", 250))

    batches = [broker.lease("q", "w1", 100, LONG) for _ in range(3)]

    assert [len(batch) for batch in batches] == [100, 100, 50]
    leases = [lease for batch in batches for lease in batch]
    assert [lease.job_id for lease in leases] == ids
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=250, dead=0)
    assert broker.ack(leases) == 250
    assert broker.depth("q").pending == 0


def test_big_batches_beyond_one_lease(broker: Broker) -> None:
    broker.enqueue(jobs("q", 2500))
    leases = [lease for _ in range(3) for lease in broker.lease("q", "w1", MAX_LEASE_BATCH, LONG)]

    assert len(leases) == 2500
    assert broker.ack(leases) == 2500


def test_empty_batches_are_no_ops(broker: Broker) -> None:
    assert broker.enqueue([]) == []
    assert broker.ack([]) == 0
    assert broker.lease("empty", "w1", 10, LONG) == []


def test_fifo_across_enqueue_calls(broker: Broker) -> None:
    ids = [broker.enqueue([job])[0] for job in jobs("q", 10)]

    leased = [broker.lease("q", "w1", 1, LONG)[0].job_id for _ in range(10)]

    assert leased == ids


def test_retried_job_rejoins_behind_waiting_jobs(broker: Broker) -> None:
    first, second = broker.enqueue(jobs("q", 2))
    [lease] = broker.lease("q", "w1", 1, LONG)

    broker.nack(lease)

    assert [lease.job_id for lease in broker.lease("q", "w1", 10, LONG)] == [second, first]


def test_queues_are_isolated(broker: Broker) -> None:
    broker.enqueue([NewJob("a", b"for-a"), NewJob("b", b"for-b")])

    [lease] = broker.lease("a", "w1", 10, LONG)

    assert lease.payload == b"for-a"
    assert broker.depth("b") == Depth(ready=1, delayed=0, leased=0, dead=0)


def test_two_handles_share_one_store(make_broker: BrokerFactory) -> None:
    producer, worker = make_broker(), make_broker()
    [job_id] = producer.enqueue([NewJob("q", b"x")])

    [lease] = worker.lease("q", "w1", 1, LONG)

    assert lease.job_id == job_id
    assert producer.ack([lease]) == 1


# --- dedupe --------------------------------------------------------------------------------------


def test_dedupe_key_across_calls_gives_one_job(broker: Broker) -> None:
    [first] = broker.enqueue([NewJob("q", b"one", dedupe_key="evt-1")])
    [again] = broker.enqueue([NewJob("q", b"two", dedupe_key="evt-1")])

    assert again == first
    assert [lease.payload for lease in broker.lease("q", "w1", 10, LONG)] == [b"one"]


def test_dedupe_key_within_one_batch(broker: Broker) -> None:
    ids = broker.enqueue([NewJob("q", b"a", dedupe_key="k"), NewJob("q", b"b"), NewJob("q", b"c", dedupe_key="k")])

    assert ids[0] == ids[2] != ids[1]
    assert broker.depth("q").ready == 2


def test_dedupe_key_is_per_queue(broker: Broker) -> None:
    a, b = broker.enqueue([NewJob("a", b"x", dedupe_key="k"), NewJob("b", b"x", dedupe_key="k")])

    assert a != b


def test_dedupe_key_outlives_the_job(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x", dedupe_key="k")])
    broker.ack(broker.lease("q", "w1", 1, LONG))

    assert broker.enqueue([NewJob("q", b"x", dedupe_key="k")]) == [job_id]
    assert broker.depth("q").pending == 0


def test_dedupe_key_expires_after_ttl(make_broker: BrokerFactory) -> None:
    broker = make_broker(dedupe_ttl_s=SHORT)
    [first] = broker.enqueue([NewJob("q", b"x", dedupe_key="k")])

    time.sleep(WAIT)
    [second] = broker.enqueue([NewJob("q", b"x", dedupe_key="k")])

    assert second != first
    assert broker.depth("q").ready == 2


# --- delay ---------------------------------------------------------------------------------------


def test_delayed_job_waits_until_due(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"later", delay_s=SHORT)])

    assert broker.lease("q", "w1", 10, LONG) == []
    assert broker.depth("q") == Depth(ready=0, delayed=1, leased=0, dead=0)
    time.sleep(WAIT)
    assert broker.depth("q") == Depth(ready=1, delayed=0, leased=0, dead=0)
    assert [lease.payload for lease in broker.lease("q", "w1", 10, LONG)] == [b"later"]


def test_available_at_is_absolute(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"past", available_at=time.time() - 60)])
    broker.enqueue([NewJob("q", b"future", available_at=time.time() + SHORT)])

    assert [lease.payload for lease in broker.lease("q", "w1", 10, LONG)] == [b"past"]
    time.sleep(WAIT)
    assert [lease.payload for lease in broker.lease("q", "w1", 10, LONG)] == [b"future"]


# --- nack, retries, dead letters -----------------------------------------------------------------


def test_nack_with_backoff_retries_later_with_next_attempt(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x", max_attempts=3)])
    [first] = broker.lease("q", "w1", 1, LONG)

    assert broker.nack(first, delay_s=SHORT, error="boom")

    assert broker.lease("q", "w1", 1, LONG) == []
    assert broker.depth("q") == Depth(ready=0, delayed=1, leased=0, dead=0)
    time.sleep(WAIT)
    [second] = broker.lease("q", "w2", 1, LONG)
    assert (second.job_id, second.attempt, second.payload) == (job_id, 2, b"x")
    assert second.token != first.token


def test_nack_without_delay_is_ready_at_once(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [first] = broker.lease("q", "w1", 1, LONG)

    broker.nack(first)

    [second] = broker.lease("q", "w1", 1, LONG)
    assert second.attempt == 2


def test_nack_on_last_attempt_dead_letters(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x", max_attempts=2)])
    broker.nack(broker.lease("q", "w1", 1, LONG)[0], error="first failure")
    [last] = broker.lease("q", "w1", 1, LONG)
    assert last.is_last_attempt

    assert broker.nack(last, delay_s=60, error="second failure")

    assert broker.lease("q", "w1", 1, LONG) == []
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=1)
    [dead] = broker.dead_letters("q")
    assert (dead.job_id, dead.queue, dead.payload) == (job_id, "q", b"x")
    assert (dead.attempts, dead.max_attempts, dead.error) == (2, 2, "second failure")
    assert abs(dead.dead_at - time.time()) < 5


def test_dead_letter_explicitly_with_attempts_left(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x", max_attempts=10)])
    [lease] = broker.lease("q", "w1", 1, LONG)

    assert broker.dead_letter(lease, "poison")

    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=1)
    assert broker.dead_letters("q")[0].error == "poison"


def test_long_errors_are_truncated(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])

    broker.dead_letter(broker.lease("q", "w1", 1, LONG)[0], "e" * (MAX_ERROR_CHARS * 2))

    assert len(broker.dead_letters("q")[0].error) == MAX_ERROR_CHARS


def test_dead_letters_newest_first_with_paging(broker: Broker) -> None:
    ids = broker.enqueue(jobs("q", 5))
    for lease in broker.lease("q", "w1", 5, LONG):
        broker.dead_letter(lease, f"error {lease.job_id}")

    newest_first = list(reversed(ids))
    assert [dead.job_id for dead in broker.dead_letters("q")] == newest_first
    assert [dead.job_id for dead in broker.dead_letters("q", limit=2, offset=1)] == newest_first[1:3]
    assert broker.dead_letters("q", limit=10, offset=5) == []
    assert broker.dead_letters("other") == []
    assert broker.dead_letters("q", limit=0) == []
    with pytest.raises(ValueError):
        broker.dead_letters("q", limit=-1)


def test_replay_makes_a_dead_job_ready_with_attempts_reset(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x", max_attempts=1)])
    broker.nack(broker.lease("q", "w1", 1, LONG)[0], error="boom")

    assert broker.replay(job_id)

    assert broker.depth("q") == Depth(ready=1, delayed=0, leased=0, dead=0)
    assert broker.dead_letters("q") == []
    [lease] = broker.lease("q", "w1", 1, LONG)
    assert (lease.job_id, lease.attempt, lease.payload) == (job_id, 1, b"x")


def test_replay_refuses_jobs_that_are_not_dead(broker: Broker) -> None:
    [live] = broker.enqueue([NewJob("q", b"x")])

    assert not broker.replay(live)
    assert not broker.replay("999999")
    assert not broker.replay("not-an-id")
    assert not broker.replay("²")
    assert not broker.replay("9" * 40)
    assert broker.depth("q").ready == 1


# --- visibility timeout, fencing, extend ---------------------------------------------------------


def test_expired_lease_is_redelivered_with_next_attempt(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x")])
    [dying] = broker.lease("q", "w1", 1, SHORT)
    assert broker.lease("q", "w2", 1, LONG) == []

    time.sleep(WAIT)

    assert broker.depth("q") == Depth(ready=1, delayed=0, leased=0, dead=0)
    [again] = broker.lease("q", "w2", 1, LONG)
    assert (again.job_id, again.attempt) == (job_id, 2)
    assert again.token != dying.token


def test_stale_lease_is_fenced_off(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [stale] = broker.lease("q", "w1", 1, SHORT)
    time.sleep(WAIT)
    [fresh] = broker.lease("q", "w2", 1, LONG)

    # The first worker wakes up and tries everything: all refused, nothing changes.
    assert broker.ack([stale]) == 0
    assert broker.nack(stale, error="late") is False
    assert broker.dead_letter(stale, "late") is False
    assert broker.extend(stale, LONG) is None
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=1, dead=0)

    assert broker.ack([fresh]) == 1
    assert broker.ack([fresh]) == 0  # completes once
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=0)


def test_ack_counts_only_leases_still_held(broker: Broker) -> None:
    broker.enqueue(jobs("q", 3))
    held = broker.lease("q", "w1", 2, LONG)
    [stale] = broker.lease("q", "w1", 1, SHORT)
    time.sleep(WAIT)
    broker.lease("q", "w2", 1, LONG)

    assert broker.ack([*held, stale]) == 2


def test_the_same_lease_twice_in_one_ack_counts_once(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [lease] = broker.lease("q", "w1", 1, LONG)

    assert broker.ack([lease, lease]) == 1


def test_lease_past_deadline_is_held_until_someone_else_leases(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [lease] = broker.lease("q", "w1", 1, SHORT)
    time.sleep(WAIT)

    assert broker.ack([lease]) == 1  # fencing is by token, not by the clock
    assert broker.depth("q").pending == 0


def test_expiry_on_last_attempt_dead_letters_instead_of_redelivering(broker: Broker) -> None:
    [job_id] = broker.enqueue([NewJob("q", b"x", max_attempts=1)])
    broker.lease("q", "w1", 1, SHORT)
    time.sleep(WAIT)

    assert broker.lease("q", "w2", 1, LONG) == []

    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=0, dead=1)
    [dead] = broker.dead_letters("q")
    assert dead.job_id == job_id and "lease expired" in dead.error and "w1" in dead.error


def test_extend_keeps_the_lease_alive(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [lease] = broker.lease("q", "w1", 1, SHORT)

    extended = broker.extend(lease, LONG)

    assert extended is not None
    assert extended.token == lease.token and extended.deadline > lease.deadline
    time.sleep(WAIT)
    assert broker.lease("q", "w2", 1, LONG) == []
    assert broker.depth("q") == Depth(ready=0, delayed=0, leased=1, dead=0)
    assert broker.ack([extended]) == 1


# --- depth ---------------------------------------------------------------------------------------


def test_depth_counts_every_state(broker: Broker) -> None:
    broker.enqueue(jobs("q", 4) + jobs("q", 2, delay_s=60))
    first, _ = broker.lease("q", "w1", 2, LONG)
    broker.dead_letter(first, "dead")

    assert broker.depth("q") == Depth(ready=2, delayed=2, leased=1, dead=1)
    assert broker.depth("q").pending == 5
    assert broker.depth("unknown") == Depth(ready=0, delayed=0, leased=0, dead=0)


# --- arguments, async, lifecycle -----------------------------------------------------------------


@pytest.mark.parametrize(("limit", "timeout"), [(0, LONG), (MAX_LEASE_BATCH + 1, LONG), (1, 0), (1, -1)])
def test_lease_rejects_bad_arguments(broker: Broker, limit: int, timeout: float) -> None:
    with pytest.raises(ValueError):
        broker.lease("q", "w1", limit, timeout)


def test_bad_arguments_raise_before_touching_the_store(broker: Broker) -> None:
    broker.enqueue([NewJob("q", b"x")])
    [lease] = broker.lease("q", "w1", 1, LONG)

    with pytest.raises(ValueError):
        broker.nack(lease, delay_s=-1)
    with pytest.raises(ValueError):
        broker.extend(lease, 0)
    with pytest.raises(ValueError):
        broker.lease("", "w1", 1, LONG)
    with pytest.raises(ValueError):
        broker.lease("q", "", 1, LONG)
    assert broker.depth("q").leased == 1


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"max_attempts": 0}, ValueError),
        ({"delay_s": -1}, ValueError),
        ({"dedupe_key": ""}, ValueError),
        ({"queue": ""}, ValueError),
        ({"queue": "has:colon"}, ValueError),
        ({"queue": "x" * 201}, ValueError),
        ({"payload": "text"}, TypeError),
    ],
)
def test_new_job_validates_its_fields(fields: dict[str, object], error: type[Exception]) -> None:
    values: dict[str, object] = {"queue": "q", "payload": b"x", **fields}
    with pytest.raises(error):
        NewJob(**values)  # type: ignore[arg-type]


def test_async_broker_follows_the_same_contract(broker: Broker) -> None:
    async def scenario() -> tuple[int, Depth]:
        queue = AsyncBroker(broker)
        await queue.enqueue(jobs("q", 3))
        leases = await queue.lease("q", "w1", 10, LONG)
        acked = await queue.ack(leases[:2])
        assert await queue.nack(leases[2], delay_s=60)
        return acked, await queue.depth("q")

    assert asyncio.run(scenario()) == (2, Depth(ready=0, delayed=1, leased=0, dead=0))


def test_close_is_idempotent_and_works_as_context_manager(make_broker: BrokerFactory) -> None:
    with make_broker() as broker:
        broker.enqueue([NewJob("q", b"x")])
    broker.close()

    with make_broker() as reopened:
        assert reopened.depth("q").ready == 1
