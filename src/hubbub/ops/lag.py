"""Event-loop lag: how late the loop runs a timer.

Everything a hubbub server does for its clients runs on one event loop, so
the loop's lateness is the delay every client feels: a blocking call, a
huge fan-out or a starved CPU shows here before anyone complains. A task
sleeps :data:`INTERVAL` seconds and measures by how much it overslept.
"""

from __future__ import annotations

import asyncio

from hubbub.histogram import SLOW_BUCKETS, Histogram

#: Seconds between two measurements (two wake-ups a second cost nothing).
INTERVAL = 0.5


class LoopLag:
    """The lag measurements (read by the metrics)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        #: The last measurement, in seconds.
        self.last = 0.0
        self.histogram = Histogram(SLOW_BUCKETS)

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.observe(max(0.0, loop.time() - due))

    def observe(self, lag: float) -> None:
        """One measurement."""
        self.last = lag
        self.histogram.observe(lag)
