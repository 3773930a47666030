"""When a failed async invocation runs again: exponential backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` runs in all (the first one included), then the job is dead-lettered."""

    max_attempts: int = 3
    base_s: float = 2.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_s <= 0 or self.max_s < self.base_s:
            raise ValueError(f"need 0 < base_s <= max_s, got {self.base_s} and {self.max_s}")

    def should_retry(self, attempt: int) -> bool:
        return attempt < self.max_attempts

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        return compute_backoff(attempt, self.base_s, self.max_s, rng)


def compute_backoff(attempt: int, base_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Delay before the run after ``attempt`` (1-based): base·2^(attempt-1), capped, jittered
    to between half and all of it so that many failures at once do not come back at once."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling * (0.5 + 0.5 * (rng or random).random())
