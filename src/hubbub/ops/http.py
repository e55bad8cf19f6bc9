"""The operations listener (``[metrics] listen``): /metrics, /healthz, /readyz.

Theory of operation
-------------------
It runs on the server's event loop, like the IRC listeners, because what it
reports (counters, sessions, the database writer) belongs to the loop
thread: a scrape reads it without locks, and "the loop answered" is what
/healthz means. What keeps it from stalling the chat:

* each request is small work: parse a GET (the websockets library's HTTP
  parser, with its line and header limits), then render a page; what could
  take long (listing the process's open files for ``process_open_fds``)
  runs on a worker thread, and the page is rendered when it is back;
* pages are kept for :data:`CACHE_SECONDS` (readiness answers for
  :data:`~.health.CACHE_SECONDS`), so however often anyone asks, the loop
  renders /metrics a few times a second at most (Prometheus asks every
  15 s or so; a render takes well under a millisecond);
* at most :data:`MAX_CONNECTIONS` connections at once, each closed after
  one answer or after :data:`REQUEST_TIMEOUT` seconds.

One request per connection (``Connection: close``): scrapers and probers
reconnect anyway, and it keeps this module small. GET and HEAD only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Generator
from typing import NamedTuple, TypeVar, cast

from prometheus_client.metrics_core import Metric
from websockets.datastructures import Headers
from websockets.exceptions import SecurityError
from websockets.http11 import Request, Response
from websockets.streams import StreamReader

from .health import Readiness
from .metrics import MetricsRegistry

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Connections served at once; more are refused (closed at once).
MAX_CONNECTIONS = 64
#: Seconds a connection may take to send its request.
REQUEST_TIMEOUT = 10.0
#: Seconds a rendered page is reused.
CACHE_SECONDS = 0.25

TEXT = "text/plain; charset=utf-8"


class Reply(NamedTuple):
    """An HTTP answer."""

    status: int
    reason: str
    content_type: str
    body: bytes


INDEX = Reply(200, "OK", TEXT, b"hubbub operations: /metrics /healthz /readyz\n")
NOT_FOUND = Reply(404, "Not Found", TEXT, b"not found: try /metrics, /healthz or /readyz\n")
NOT_ALLOWED = Reply(405, "Method Not Allowed", TEXT, b"only GET and HEAD\n")
BAD_REQUEST = Reply(400, "Bad Request", TEXT, b"bad request\n")
BUSY = Reply(503, "Service Unavailable", TEXT, b"too many connections\n")


#: Runs a function on a worker thread, then its result's callback on the loop
#: (``Server.run_blocking``).
Offload = Callable[[Callable[[], T], Callable[[T], None]], None]
Answer = Callable[[Reply], None]


class OpsSite:
    """What each path answers (no sockets here: tests call :meth:`respond`)."""

    def __init__(
        self, metrics: MetricsRegistry, readiness: Readiness, clock: Callable[[], float],
        offload: Offload[list[Metric]],
    ) -> None:  # fmt: skip
        self.metrics = metrics
        self.readiness = readiness
        self.clock = clock
        self.offload = offload
        self._pages: dict[str, tuple[float, Reply]] = {}
        #: Scrapes waiting for the process metrics, read on a worker thread.
        self._waiting: list[tuple[str, Answer]] = []
        #: Connections open now (the limit is :data:`MAX_CONNECTIONS`).
        self.open = 0

    def respond(self, method: str, target: str, accept: str, answer: Answer) -> None:
        """Answer ``method target`` through ``answer`` (at once, or for
        /metrics, once the process metrics are read; HEAD: the caller drops
        the body)."""
        if method not in ("GET", "HEAD"):
            answer(NOT_ALLOWED)
            return
        path = target.partition("?")[0]
        if path == "/metrics":
            self._metrics(accept, answer)
        elif path == "/healthz":
            answer(Reply(200, "OK", TEXT, b"ok\n"))
        elif path == "/readyz":
            answer(self._ready())
        elif path == "/":
            answer(INDEX)
        else:
            answer(NOT_FOUND)

    def _metrics(self, accept: str, answer: Answer) -> None:
        key = f"metrics {accept}"
        hit = self._pages.get(key)
        if hit is not None and self.clock() - hit[0] < CACHE_SECONDS:
            answer(hit[1])
            return
        self._waiting.append((accept, answer))
        if len(self._waiting) == 1:  # one read on a thread serves every scrape waiting
            self.offload(self._read_process, self._render)

    def _read_process(self) -> list[Metric]:
        """On a worker thread: the process metrics (none if /proc fails us)."""
        try:
            return self.metrics.process.read()
        except Exception:
            log.exception("reading the process metrics failed", extra={
                "event": "metrics.process_failed",
            })  # fmt: skip
            return []

    def _render(self, process: list[Metric]) -> None:
        """Back on the loop: render the page for each waiting scrape."""
        self.metrics.process.families = process
        waiting, self._waiting = self._waiting, []
        if len(self._pages) > 8:  # Accept headers vary: keep a few pages at most
            self._pages.clear()
        now = self.clock()
        for accept, answer in waiting:
            key = f"metrics {accept}"
            hit = self._pages.get(key)
            if hit is None or now - hit[0] >= CACHE_SECONDS:
                body, content_type = self.metrics.render(accept)
                hit = self._pages[key] = (now, Reply(200, "OK", content_type, body))
            answer(hit[1])

    def _ready(self) -> Reply:
        problems = self.readiness.problems()  # cached by the readiness itself
        if not problems:
            return Reply(200, "OK", TEXT, b"ready\n")
        text = "not ready\n" + "".join(f"{p}\n" for p in problems)
        return Reply(503, "Service Unavailable", TEXT, text.encode())


class OpsConnection(asyncio.Protocol):
    """One connection to the operations listener: one request, one answer."""

    def __init__(self, site: OpsSite) -> None:
        self.site = site
        self.transport: asyncio.Transport | None = None
        self._reader = StreamReader()
        self._parser: Generator[None, None, Request] | None = Request.parse(
            self._reader.read_line
        )
        self._timer: asyncio.TimerHandle | None = None
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        if self.site.open >= MAX_CONNECTIONS:
            self._send(BUSY)
            return
        self.site.open += 1
        self._counted = True
        self._timer = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT, self.transport.abort)
        self._step()

    def data_received(self, data: bytes) -> None:
        if self._parser is not None:
            self._reader.feed_data(data)
            self._step()

    def eof_received(self) -> bool:
        if self._parser is not None:
            self._reader.feed_eof()
            self._step()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._counted:
            self._counted = False
            self.site.open -= 1

    def _step(self) -> None:
        """Run the parser on what has arrived; answer once the request is whole."""
        if self._parser is None:
            return
        try:
            next(self._parser)
        except StopIteration as done:
            self._parser = None
            request: Request = done.value
            self._answer(request)
        except (EOFError, ValueError, NotImplementedError, SecurityError):
            # Cut off, not HTTP, too long: a short answer and goodbye.
            self._parser = None
            self._send(BAD_REQUEST)
        # Otherwise the parser waits for more bytes.

    def _answer(self, request: Request) -> None:
        head = request.method == "HEAD"
        self.site.respond(
            request.method, request.path, request.headers.get("Accept", ""),
            lambda reply: self._send(reply, head=head),
        )  # fmt: skip

    def _send(self, reply: Reply, *, head: bool = False) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        headers = Headers()
        headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(reply.body))
        headers["Cache-Control"] = "no-store"
        headers["Connection"] = "close"
        if reply is NOT_ALLOWED:
            headers["Allow"] = "GET, HEAD"
        body = b"" if head else reply.body
        transport.write(Response(reply.status, reply.reason, headers, body).serialize())
        transport.close()
