"""A monotonic clock the test moves by hand (seconds)."""

from __future__ import annotations


class HorlogeManuelle:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t
