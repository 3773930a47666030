"""open_broker: the URL → backend table, lazy imports and their errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from appfn.queue import QueueConfigError, open_broker
from appfn.queue.sqlite import SQLiteBroker


@pytest.mark.parametrize("url", ["amqp://localhost", "postgres://db/x", "queue.db", ""])
def test_unknown_scheme_names_the_known_ones(url: str) -> None:
    with pytest.raises(QueueConfigError, match=r"sqlite://, redis://"):
        open_broker(url)


def test_missing_redis_client_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given redis-py is not importable and our backend module not yet loaded
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.delitem(sys.modules, "appfn.queue.redis", raising=False)

    with pytest.raises(QueueConfigError, match=r"pip install 'appfn\[redis\]'"):
        open_broker("redis://127.0.0.1:6379/0")


def test_sqlite_backend_is_chosen_and_gets_the_options(tmp_path: Path) -> None:
    with open_broker(f"sqlite:///{tmp_path}/q.db", dedupe_ttl_s=5) as broker:
        assert isinstance(broker, SQLiteBroker)
        assert broker.path == f"{tmp_path}/q.db"
