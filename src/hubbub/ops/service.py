"""The operations side of one server: the lag monitor, the metrics, the
readiness and the site that serves them (wired in by :mod:`hubbub.server.app`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .health import Listener, Readiness
from .http import OpsConnection, OpsSite
from .lag import LoopLag
from .metrics import MetricsRegistry

if TYPE_CHECKING:
    from pathlib import Path

    from hubbub.server.server import Server
    from hubbub.store.base import Checkable


class Operations:
    """What ``[metrics] listen`` serves, for one server."""

    def __init__(
        self, server: Server, database: Checkable | None = None, file: Path | None = None
    ) -> None:
        self.lag = LoopLag()
        self.readiness = Readiness(server, database)
        self.metrics = MetricsRegistry(server, self.lag, self.readiness, file)
        self.site = OpsSite(self.metrics, self.readiness, time.monotonic, server.run_blocking)
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.AbstractServer | None = None

    def protocol(self) -> OpsConnection:
        """A protocol for a new connection to the operations listener."""
        return OpsConnection(self.site)

    def start(self, listener: asyncio.AbstractServer) -> None:
        """``listener`` serves the site; the loop's lag is measured from now."""
        self._listener = listener
        self._task = asyncio.create_task(self.lag.run())

    def accepting(self, listeners: Sequence[Listener]) -> None:
        """Every IRC listener accepts: ready, while the database is."""
        self.readiness.accepting(listeners)

    def stopping(self) -> None:
        """Shutdown began: unready from now on."""
        self.readiness.stopping()

    async def close(self) -> None:
        """Stop listening and measuring."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
