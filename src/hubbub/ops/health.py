"""``/healthz`` and ``/readyz``: is the process alive, and should it get clients?

Alive (``/healthz``) means the event loop answered: a hung loop answers
nothing, and a supervisor that gets no answer restarts the process.

Ready (``/readyz``) means a client that is sent here now is served and what
it says is kept:

* **listening**: start-up is over (every listener accepts), the server is
  not shutting down, and every listener still accepts;
* **database**: what is said, and the accounts, can be kept. The embedded
  database (see :meth:`hubbub.store.sqlite.database.Database.health`): the
  file at the configured path is the one the server opened (not deleted,
  moved or replaced), and a tiny write commits without waiting for another
  program's lock; and the history store's last commit did not fail (its
  waiting entries are tried again first). Neither history nor accounts on:
  nothing to check.

* **cluster** (cluster mode): this node is live in the log (not starting,
  fenced or rebuilding) and Redis answers (``Membership.health``).

The answer is kept for :data:`CACHE_SECONDS`: a prober that asks a thousand
times a second costs the loop two checks a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hubbub.server.server import Server
    from hubbub.store.base import Checkable


#: How long an answer of /readyz is reused.
CACHE_SECONDS = 0.5


class Listener(Protocol):
    """A listening socket (an asyncio server)."""

    def is_serving(self) -> bool: ...


class Readiness:
    """What /readyz checks (see the module docstring)."""

    def __init__(
        self, server: Server, database: Checkable | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.server = server
        self.database = database
        self.clock = clock
        self.state = "starting"
        self.listeners: Sequence[Listener] = ()
        self._cached: tuple[float, list[str]] | None = None

    def accepting(self, listeners: Sequence[Listener]) -> None:
        """Start-up is over: every one of ``listeners`` accepts clients."""
        self.listeners = listeners
        self.state = "accepting"
        self._cached = None

    def stopping(self) -> None:
        """Shutdown began: send no one here any more."""
        self.state = "stopping"
        self._cached = None

    def problems(self) -> list[str]:
        """Why the server is not ready, one sentence each; empty when it is."""
        now = self.clock()
        if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        found = []
        if self.state != "accepting":
            found.append(f"listening: {self.state}")
        elif not all(listener.is_serving() for listener in self.listeners):
            found.append("listening: a listener stopped accepting")
        for check in (self.server.history, self.database):
            problem = check.health() if check is not None else None
            if problem is not None:
                found.append(f"database: {problem}")
                break  # the history's failure says it; no probe on top
        problem = self.server.membership.health()
        if problem is not None:
            found.append(f"cluster: {problem}")
        self._cached = (now, found)
        return found
