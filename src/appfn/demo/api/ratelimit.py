"""Per-store request limits: an in-memory token bucket per store (per server process).

``limit`` requests fill a bucket that refills at ``limit / window_s`` per second; a request
that finds it empty is refused with the seconds until one token is back (``Retry-After``)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self._lock = threading.Lock()
        self.configure(limit, window_s)

    def configure(self, limit: int, window_s: float) -> None:
        """Change the limit (every bucket starts full again)."""
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_s > 0")
        with self._lock:
            self.limit = limit
            self.window_s = window_s
            self._rate = limit / window_s
            self._buckets: dict[int, tuple[float, float]] = {}  # store -> (tokens, at)

    def take(self, store_id: int) -> tuple[int, int]:
        """``(remaining, retry_after_s)``: retry_after_s is 0 when the request may go ahead."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(store_id, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[store_id] = (tokens, now)
                return 0, max(1, math.ceil((1 - tokens) / self._rate))
            self._buckets[store_id] = (tokens - 1, now)
            return int(tokens - 1), 0
