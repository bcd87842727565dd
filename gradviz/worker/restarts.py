"""When a failing compute process is started again: one policy for all three processes.

A process that dies or stops answering is restarted at once for the work it owed. After
``MAX_CRASHES`` failures in a row it is not: the scheduler waits ``backoff_s`` (5 s,
doubling up to a minute), says so and offers Retry; a Retry, or new work worth a fresh
try, starts it at once. An answer resets the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_CRASHES = 3
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 60.0
WATCHDOG_FACTOR = 10.0  # a request may take this many times its kind's last measured time


def backoff_s(crashes: int) -> float:
    """Seconds to wait before restarting a process that failed ``crashes`` times in a row."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** max(0, crashes - MAX_CRASHES))


def due(at: float | None, now: float) -> bool:
    return at is not None and now >= at


Verdict = Literal["start", "wait", "waiting"]


@dataclass
class Restarts:
    """Consecutive failures of one process and, while backing off, when to try again."""

    crashes: int = 0
    retry_at: float | None = None

    def check(self, now: float) -> Verdict:
        """ "start": the process may start now. "wait": it may not, and a wait of
        :meth:`wait_s` began just now (time to say so and offer Retry). "waiting": a wait
        that began earlier still runs."""
        if self.crashes < MAX_CRASHES or due(self.retry_at, now):
            self.retry_at = None
            return "start"
        if self.retry_at is None:
            self.retry_at = now + self.wait_s()
            return "wait"
        return "waiting"

    def wait_s(self) -> float:
        return backoff_s(self.crashes)

    def try_now(self, now: float) -> None:
        """A Retry, or new work worth a fresh try: the next start is allowed at once."""
        self.retry_at = now
