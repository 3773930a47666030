"""Which functions an event reaches, with short-lived caching so ingestion does not query
the database for every event.

``targets(store_id, trigger)`` is cached for ``ttl_s`` (1 s): a change to an installation or
function made by this process is seen at once (``invalidate``), one made by another server
process within the TTL. Function code is immutable per version, so it is cached for good.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from sqlalchemy.orm import Session

from appfn import store
from appfn.runtime.limits import FunctionCode
from appfn.store import Target

CODE_CACHE_SIZE = 2048


class Directory:
    def __init__(self, db: store.Database, ttl_s: float = 1.0, job_ttl_s: float = 5.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        # A queued job's target is re-read at most this often; local changes invalidate at once.
        self.job_ttl_s = job_ttl_s
        self._targets: dict[tuple[int, str], tuple[float, list[Target]]] = {}
        self._code: OrderedDict[str, FunctionCode] = OrderedDict()
        self._jobs: dict[tuple[str, str, str], tuple[float, Target]] = {}

    def targets(self, session: Session, store_id: int, trigger: str) -> list[Target]:
        key = (store_id, trigger)
        cached = self._targets.get(key)
        now = time.monotonic()
        if cached and now - cached[0] < self.ttl_s:
            return cached[1]
        found = store.installations_for_event(session, store_id, trigger)
        self._targets[key] = (now, found)
        return found

    def cached_target(self, installation_id: str, function_version_id: str, trigger: str) -> Target | None:
        """The job's target if it was looked up within the TTL (no I/O: safe on the event loop)."""
        cached = self._jobs.get((installation_id, function_version_id, trigger))
        return cached[1] if cached and time.monotonic() - cached[0] < self.job_ttl_s else None

    def target(self, installation_id: str, function_version_id: str, trigger: str) -> Target:
        """The target of a queued job (raises NotFoundError when it no longer applies)."""
        key = (installation_id, function_version_id, trigger)
        now = time.monotonic()
        with self.db.read_session() as session:
            found = store.get_target(
                session, installation_id=installation_id, function_version_id=function_version_id, trigger=trigger
            )
        if len(self._jobs) > CODE_CACHE_SIZE:
            self._jobs.clear()
        self._jobs[key] = (now, found)
        return found

    def invalidate(self) -> None:
        self._targets.clear()
        self._jobs.clear()

    def code(self, target: store.Target, return_type: str) -> FunctionCode:
        code = self._code.get(target.function_version_id)
        if code is None:
            code = FunctionCode(
                target.source, target.filename, return_type, key=target.function_version_id, language=target.language
            )
            self._code[target.function_version_id] = code
            if len(self._code) > CODE_CACHE_SIZE:
                self._code.popitem(last=False)
        return code
