"""What each path of the operations listener answers, without sockets: the
readiness states, the page cache that bounds the loop's work, the errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubbub.config import from_mapping
from hubbub.ops.health import Readiness
from hubbub.ops.http import BAD_REQUEST, OpsSite, Reply
from hubbub.server.server import Server


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loop:
    def time(self) -> float:
        return 0.0

    def call_soon(self, *args: Any) -> None: ...
    def call_later(self, *args: Any) -> None: ...
    def call_soon_threadsafe(self, *args: Any) -> None: ...


class Listener:
    def __init__(self) -> None:
        self.serving = True

    def is_serving(self) -> bool:
        return self.serving


class Store:
    """A history store whose health a test sets."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.checks = 0

    def health(self) -> str | None:
        self.checks += 1
        return self.problem


class Process:
    """The process metrics, read "on a thread" by a test."""

    def __init__(self) -> None:
        self.reads = 0
        self.families: list[object] = []

    def read(self) -> list[object]:
        self.reads += 1
        return [f"read {self.reads}"]


class Renders:
    """Counts renders of /metrics, which show the last process read."""

    def __init__(self) -> None:
        self.count = 0
        self.process = Process()

    def render(self, accept: str = "") -> tuple[bytes, str]:
        self.count += 1
        return f"page {self.count} {self.process.families}\n".encode(), "text/plain"


class Offload:
    """A worker thread a test runs by hand."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []

    def __call__(self, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.jobs.append((fn, then))

    def run(self) -> None:
        jobs, self.jobs = self.jobs, []
        for fn, then in jobs:
            then(fn())


Site = tuple[OpsSite, Readiness, Store, Renders, Clock, Offload]


def make() -> Site:
    server = Server(from_mapping({"history": {"enabled": False}}), Loop())
    store = Store()
    server.history = store  # type: ignore[assignment]
    clock = Clock()
    readiness = Readiness(server, clock=clock)
    renders = Renders()
    offload = Offload()
    site = OpsSite(renders, readiness, clock, offload)  # type: ignore[arg-type]
    return site, readiness, store, renders, clock, offload


def get(site: OpsSite, path: str, method: str = "GET") -> Reply:
    got: list[Reply] = []
    site.respond(method, path, "", got.append)
    (reply,) = got
    return reply


def test_ready_only_between_start_up_and_shutdown_while_listeners_accept() -> None:
    site, readiness, store, _, clock, _ = make()
    assert get(site, "/readyz").body == b"not ready\nlistening: starting\n"
    listener = Listener()
    readiness.accepting([listener])
    assert get(site, "/readyz")[:2] == (200, "OK")
    listener.serving = False
    clock.now += 1
    assert b"a listener stopped accepting" in get(site, "/readyz").body
    listener.serving = True
    store.problem = "hubbub.sqlite3 is gone (deleted or moved)"
    clock.now += 1
    reply = get(site, "/readyz")
    assert reply.status == 503 and b"database: hubbub.sqlite3 is gone" in reply.body
    readiness.stopping()
    assert b"listening: stopping" in get(site, "/readyz").body
    assert get(site, "/healthz").status == 200  # alive throughout


def test_metrics_wait_for_the_process_read_on_a_thread_one_read_for_all_waiting() -> None:
    site, _, _, renders, _, offload = make()
    got: list[Reply] = []
    site.respond("GET", "/metrics", "", got.append)
    site.respond("GET", "/metrics", "", got.append)
    assert got == [] and len(offload.jobs) == 1  # nothing rendered on the loop yet
    offload.run()
    assert [r.body for r in got] == [b"page 1 ['read 1']\n"] * 2
    assert renders.count == 1


def test_answers_are_kept_a_moment_so_a_flood_of_requests_costs_the_loop_little() -> None:
    site, readiness, store, renders, clock, offload = make()
    readiness.accepting([Listener()])
    for _ in range(100):
        site.respond("GET", "/metrics", "", lambda reply: None)
        offload.run()
        get(site, "/readyz")
    assert (renders.count, renders.process.reads, store.checks) == (1, 1, 1)
    clock.now += 1
    site.respond("GET", "/metrics", "", lambda reply: None)
    offload.run()
    get(site, "/readyz")
    assert (renders.count, renders.process.reads, store.checks) == (2, 2, 2)


def test_paths_and_methods() -> None:
    site, *_ = make()
    assert get(site, "/healthz", "HEAD").status == 200
    assert get(site, "/").status == 200
    assert get(site, "/admin").status == 404
    assert get(site, "/metrics", "DELETE").status == 405
    assert BAD_REQUEST.status == 400
