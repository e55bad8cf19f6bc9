"""Output: what every session queued this loop turn, written once at its end.

A session that gets its first bytes in a turn registers here; at the end of
the turn (a ``call_soon`` callback, which runs after the callbacks already
queued) each pending session writes all it has with one ``write()``. Fifty
messages to one client in one turn cost one system call, not fifty.

Before anything is written, ``before_write`` runs: the history store commits
there, so no client can see a message that a crash could still lose
("nothing lost": a line is in the database before its bytes leave).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .interfaces import Loop


class Flushable(Protocol):
    """A session with queued output."""

    def flush(self) -> int:
        """Write what is queued; the number of bytes."""
        ...


#: Sessions in one turn from which the bytes written are summed by sum().
SUM_IN_C = 16


def _nothing() -> None:
    pass


class OutputScheduler:
    """Flushes every session with pending output once per loop turn."""

    __slots__ = ("_loop", "_pending", "_scheduled", "before_write", "bytes_out")

    def __init__(self, loop: Loop, before_write: Callable[[], None] = _nothing) -> None:
        self._loop = loop
        self._pending: list[Flushable] = []
        self._scheduled = False
        self.before_write = before_write
        #: Bytes written to every client so far (for the metrics): summed
        #: here, once per turn, so that a write costs a local addition.
        self.bytes_out = 0

    def schedule(self, session: Flushable) -> None:
        """Have ``session`` flushed at the end of this loop turn."""
        self.wake()
        self._pending.append(session)

    def wake(self) -> None:
        """Have the end-of-turn flush run (and with it ``before_write``) even
        if no session has output: history recorded in a turn where nobody
        hears anything is committed in that turn too."""
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Commit (``before_write``), then write out every pending session."""
        self._scheduled = False
        pending, self._pending = self._pending, []
        self.before_write()
        if len(pending) < SUM_IN_C:
            written = 0
            for session in pending:
                written += session.flush()
        else:
            # A big fan-out: sum() adds in C, where "+=" here would allocate
            # an int object per session once the total passes 256 (callgrind:
            # 30% fewer instructions per write at 100 sessions; for a few
            # sessions the comprehension's own call costs more than it saves).
            written = sum([session.flush() for session in pending])
        self.bytes_out += written

    def flush_now(self, session: Flushable) -> None:
        """Write ``session``'s output at once (it is closing), after the commit:
        what it queued this turn may be lines others said."""
        self.before_write()
        self.bytes_out += session.flush()
