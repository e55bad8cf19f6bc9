"""Input rate limiting: a token bucket per connection, with the clock passed in.

A client may send ``burst`` lines at once, then one line per ``1/rate``
seconds. Lines beyond that are not dropped: the connection holds them and
stops reading the socket until tokens come back (see
:meth:`Connection.feed`), so a paste of thirty lines arrives a little late
but whole, while a flooder only fills its own kernel buffer. Only a client
that keeps the held queue past its cap is disconnected ("Excess Flood").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second."""

    rate: float = 4.0
    burst: float = 20.0
    tokens: float = 20.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next token (after a failed :meth:`take`)."""
        return max(0.0, (1.0 - self.tokens) / self.rate)
