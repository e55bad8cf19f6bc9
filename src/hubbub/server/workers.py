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

    __slots__ = ("_loop", "_name", "_pool", "_threads")

    def __init__(self, loop: Loop, *, threads: int = 2, name: str = "hubbub-work") -> None:
        self._loop = loop
        self._threads = threads
        self._name = name
        self._pool: ThreadPoolExecutor | None = None

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread, then ``then(result)`` on the loop."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix=self._name)
        future = self._pool.submit(fn)

        def done(finished: Future[T]) -> None:
            self._loop.call_soon_threadsafe(lambda: then(finished.result()))

        future.add_done_callback(done)

    def close(self) -> None:
        """Stop the threads (after shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
