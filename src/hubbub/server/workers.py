"""Blocking work off the event loop: password hashes, disk.

``run_blocking(fn, then)`` runs ``fn`` on a worker thread and ``then`` with
its result back on the loop thread, so the loop never waits and state is
still only touched on the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from .interfaces import Loop

T = TypeVar("T")


class Workers:
    """A small thread pool, started on first use."""

    __slots__ = ("_loop", "_pool")

    def __init__(self, loop: Loop) -> None:
        self._loop = loop
        self._pool: ThreadPoolExecutor | None = None

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread, then ``then(result)`` on the loop."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubbub-work")
        future = self._pool.submit(fn)

        def done(finished: Future[T]) -> None:
            self._loop.call_soon_threadsafe(lambda: then(finished.result()))

        future.add_done_callback(done)

    def close(self) -> None:
        """Stop the threads (after shutdown): queued jobs are dropped, running
        ones finish first (a query must not outlive the database it reads)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
