"""Failed logins cost time: per account and per address, across connections.

Theory of operation
-------------------
Every failed password (SASL PLAIN or SCRAM, NickServ IDENTIFY, a wrong
verification code) counts against the account tried and against the
address it came from (an IPv6 client's whole /64, which one person usually
holds). :data:`FREE_FAILURES` failures within :data:`WINDOW` are free: people
mistype. Past that the key is locked for :data:`FIRST_DELAY`, and every
further failure doubles the lock, up to :data:`MAX_DELAY`; while locked, an
attempt is refused before any hashing (904 with the time left). So someone
guessing gets ten tries, then about one try per doubling delay: around
twenty guesses a day, not thousands a second. A lock ends a day after the
last failure, and a successful login clears its account's record (not the
address's: one working login must not buy someone more guesses at others).

Locking an account also locks out its owner, for a while: that is the price
of per-account limits, which are what stop guesses spread over many
addresses. A client certificate (SASL EXTERNAL) is never throttled.

Memory is bounded: at most :data:`MAX_KEYS` records, oldest dropped first.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Callable

from hubbub.protocol import casefold

#: Failures within WINDOW seconds before the first lock.
FREE_FAILURES = 10
WINDOW = 600.0
#: The first lock, doubled by each further failure, capped.
FIRST_DELAY = 60.0
MAX_DELAY = 24 * 3600.0
#: A record is forgotten this long after its last failure.
FORGET_AFTER = 24 * 3600.0
MAX_KEYS = 100_000


def address_key(ip: str) -> str:
    """The throttling key of an address: IPv4 as it is, IPv6 by its /64."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return f"ip:{ip}"
    if addr.version == 6:
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


class _Record:
    __slots__ = ("last", "level", "recent", "until")

    def __init__(self) -> None:
        self.recent: deque[float] = deque()
        self.level = 0  # how many locks so far
        self.until = 0.0
        self.last = 0.0


class LoginThrottle:
    """Counts failed logins; see the module docstring."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._records: dict[str, _Record] = {}

    @staticmethod
    def _keys(account: str | None, ip: str) -> list[str]:
        keys = [address_key(ip)]
        if account:
            keys.append("account:" + casefold(account))
        return keys

    def wait(self, account: str | None, ip: str) -> float:
        """Seconds before ``account`` may be tried from ``ip``; 0 when now."""
        now = self._clock()
        longest = 0.0
        for key in self._keys(account, ip):
            record = self._records.get(key)
            if record is not None:
                longest = max(longest, record.until - now)
        return longest

    def failed(self, account: str | None, ip: str) -> None:
        """A failed attempt at ``account`` (None: no usable name) from ``ip``."""
        now = self._clock()
        for key in self._keys(account, ip):
            record = self._records.get(key)
            if record is None or now - record.last > FORGET_AFTER:
                record = self._records[key] = _Record()
                self._bound()
            record.last = now
            recent = record.recent
            recent.append(now)
            while recent and now - recent[0] > WINDOW:
                recent.popleft()
            if record.level or len(recent) >= FREE_FAILURES:
                record.until = now + min(FIRST_DELAY * 2**record.level, MAX_DELAY)
                record.level += 1

    def succeeded(self, account: str) -> None:
        """``account`` was logged in to: its record starts over."""
        self._records.pop("account:" + casefold(account), None)

    def _bound(self) -> None:
        while len(self._records) > MAX_KEYS:
            self._records.pop(next(iter(self._records)))


class RateLimit:
    """At most ``limit`` events per address per ``period`` seconds (0: no limit)."""

    def __init__(self, clock: Callable[[], float], limit: int, period: float = 3600.0) -> None:
        self._clock = clock
        self.limit = limit
        self.period = period
        self._seen: dict[str, deque[float]] = {}

    def allow(self, ip: str) -> bool:
        """Whether one more event from ``ip`` fits now (and count it if so)."""
        if self.limit <= 0:
            return True
        now = self._clock()
        key = address_key(ip)
        times = self._seen.get(key)
        if times is None:
            times = self._seen[key] = deque()
            while len(self._seen) > MAX_KEYS:
                self._seen.pop(next(iter(self._seen)))
        while times and now - times[0] > self.period:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True


def describe_wait(seconds: float) -> str:
    """``"42 seconds"``, ``"3 minutes"``, ``"2 hours"``: for a refusal."""
    if seconds < 90:
        return f"{max(int(seconds + 0.999), 1)} seconds"
    if seconds < 90 * 60:
        return f"{int(seconds / 60 + 0.999)} minutes"
    return f"{int(seconds / 3600 + 0.999)} hours"
