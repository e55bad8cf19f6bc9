"""A histogram of plain integers, for counters kept on hot paths.

Shared by the server (:mod:`hubbub.server.meters`) and the stores (a
history commit's latency), which do not import each other. Observing is a
binary search and two additions; nothing here takes a lock, so a histogram
is observed from one thread only (the event loop's).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

#: Buckets of fast storage work: a history commit is tens of microseconds,
#: a stalled one (disk, lock) milliseconds or more.
FAST_BUCKETS: Final = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
)
#: Buckets of history queries and event-loop lag.
SLOW_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class Histogram:
    """Observations counted into fixed buckets (Prometheus histogram shape:
    ``bounds`` are the buckets' upper limits, +Inf is implied)."""

    __slots__ = ("bounds", "buckets", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        #: Observations per bucket, not cumulative; the last is past every bound.
        self.buckets = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        """Count one observation (a latency, in seconds)."""
        self.buckets[bisect_left(self.bounds, value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        """Observations so far (summed when read: observing stays cheap)."""
        return sum(self.buckets)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations <= it)`` pairs, ending with infinity,
        as Prometheus wants them."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.buckets, strict=True):
            running += n
            out.append((bound, running))
        return out
