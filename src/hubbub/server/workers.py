"""Blocking work off the event loop: password hashes, disk.

``run_blocking(fn, then)`` runs ``fn`` on a worker thread and ``then`` with
its result back on the loop thread, so the loop never waits and state is
still only touched on the loop.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from .interfaces import Loop

T = TypeVar("T")


def _lower_priority(nice: int) -> None:
    """Thread initializer: this thread yields the CPU to the loop (Linux
    schedules threads one by one, so a thread can be niced on its own)."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


class Workers:
    """A small thread pool, started on first use.

    ``nice`` > 0 lowers the threads' scheduling priority: CPU-bound work
    (password hashing) then gives way to the event loop whenever both want
    the same core, so a login storm does not delay chat.
    """

    __slots__ = ("_loop", "_name", "_nice", "_pool", "_threads")

    def __init__(
        self, loop: Loop, *, threads: int = 2, name: str = "hubbub-work", nice: int = 0
    ) -> None:
        self._loop = loop
        self._threads = threads
        self._name = name
        self._nice = nice
        self._pool: ThreadPoolExecutor | None = None

    def run_blocking(self, fn: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``fn`` on a worker thread, then ``then(result)`` on the loop."""
        if self._pool is None:
            nice = self._nice
            self._pool = ThreadPoolExecutor(
                self._threads, thread_name_prefix=self._name,
                initializer=(lambda: _lower_priority(nice)) if nice else None,
            )  # fmt: skip
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
