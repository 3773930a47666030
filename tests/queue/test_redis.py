"""Redis-only behaviour: the documented key layout, PEL ownership, prefixes, errors."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

if os.environ.get("CI") != "true":  # without the [redis] extra, skip locally; CI must have it
    pytest.importorskip("redis")

from appfn.queue import Broker, NewJob, QueueUnavailableError, open_broker
from appfn.queue.redis import _pop_prefix


@pytest.fixture
def broker(redis_url: str, redis_prefix: str) -> Iterator[Broker]:
    with open_broker(f"{redis_url}?prefix={redis_prefix}") as opened:
        yield opened


def keys(redis_client, prefix: str) -> set[str]:
    return {key.decode().removeprefix(prefix) for key in redis_client.scan_iter(match=f"{prefix}:*")}


def test_keys_follow_the_documented_layout(broker: Broker, redis_client, redis_prefix: str) -> None:
    broker.enqueue([NewJob("q", b"a", dedupe_key="k"), NewJob("q", b"b", delay_s=60)])
    [lease] = broker.lease("q", "w1", 10, 30)
    broker.dead_letter(lease, "boom")

    assert keys(redis_client, redis_prefix) == {
        ":seq", ":clock", ":job:1", ":job:2",
        ":q:q:ready", ":q:q:delayed", ":q:q:dead", ":q:q:dedupe:k",
    }  # fmt: skip


def test_finished_jobs_leave_no_stream_entry_or_hash(broker: Broker, redis_client, redis_prefix: str) -> None:
    broker.enqueue([NewJob("q", b"x") for _ in range(3)])

    broker.ack(broker.lease("q", "w1", 10, 30))

    assert redis_client.xlen(f"{redis_prefix}:q:q:ready") == 0
    assert not any(key.startswith(":job:") for key in keys(redis_client, redis_prefix))


def test_pending_list_follows_the_lease_holder(broker: Broker, redis_client, redis_prefix: str) -> None:
    stream = f"{redis_prefix}:q:q:ready"
    broker.enqueue([NewJob("q", b"x")])
    broker.lease("q", "w1", 1, 0.2)
    assert [c["name"] for c in redis_client.xpending(stream, "workers")["consumers"]] == [b"w1"]

    time.sleep(0.3)
    broker.lease("q", "w2", 1, 30)

    assert [c["name"] for c in redis_client.xpending(stream, "workers")["consumers"]] == [b"w2"]


def test_prefixes_keep_deployments_apart(broker: Broker, redis_url: str, redis_prefix: str) -> None:
    with open_broker(f"{redis_url}?prefix={redis_prefix}-other") as other:
        broker.enqueue([NewJob("q", b"x")])
        assert other.depth("q").ready == 0
        assert other.lease("q", "w1", 1, 30) == []


def test_prefix_query_parameter_is_ours_and_the_rest_goes_to_redis_py() -> None:
    assert _pop_prefix("redis://h:1/2?prefix=p&socket_timeout=3") == ("redis://h:1/2?socket_timeout=3", "p")
    assert _pop_prefix("redis://h:1/2") == ("redis://h:1/2", None)


def test_unreachable_server_is_unavailable() -> None:
    broker = open_broker("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)

    with pytest.raises(QueueUnavailableError) as caught:
        broker.enqueue([NewJob("q", b"x")])

    assert caught.value.backend == "redis"
    broker.close()


def test_a_job_hash_deleted_by_hand_is_skipped_not_fatal(broker: Broker, redis_client, redis_prefix: str) -> None:
    lost, kept = broker.enqueue([NewJob("q", b"lost"), NewJob("q", b"kept")])
    redis_client.delete(f"{redis_prefix}:job:{lost}")

    assert [lease.job_id for lease in broker.lease("q", "w1", 10, 30)] == [kept]
    assert broker.depth("q").leased == 1
    assert redis_client.xlen(f"{redis_prefix}:q:q:ready") == 1
    assert not redis_client.exists(f"{redis_prefix}:job:{lost}")
