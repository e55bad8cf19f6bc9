"""What each path of the operations listener answers, without sockets: the
readiness states, the page cache that bounds the loop's work, the errors."""

from __future__ import annotations

from typing import Any

from hubbub.config import from_mapping
from hubbub.ops.health import Readiness
from hubbub.ops.http import BAD_REQUEST, OpsSite
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


class Renders:
    """Counts renders of /metrics."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, accept: str = "") -> tuple[bytes, str]:
        self.count += 1
        return f"page {self.count}\n".encode(), "text/plain; version=0.0.4"


def make() -> tuple[OpsSite, Readiness, Store, Renders, Clock]:
    server = Server(from_mapping({"history": {"enabled": False}}), Loop())
    store = Store()
    server.history = store  # type: ignore[assignment]
    clock = Clock()
    readiness = Readiness(server, clock)
    renders = Renders()
    return OpsSite(renders, readiness, clock), readiness, store, renders, clock  # type: ignore[arg-type]


def test_ready_only_between_start_up_and_shutdown_while_listeners_accept() -> None:
    site, readiness, store, _, clock = make()
    assert site.respond("GET", "/readyz").body == b"not ready\nlistening: starting\n"
    listener = Listener()
    readiness.accepting([listener])
    assert site.respond("GET", "/readyz")[:2] == (200, "OK")
    listener.serving = False
    clock.now += 1
    assert b"a listener stopped accepting" in site.respond("GET", "/readyz").body
    listener.serving = True
    store.problem = "hubbub.sqlite3 is gone (deleted or moved)"
    clock.now += 1
    reply = site.respond("GET", "/readyz")
    assert reply.status == 503 and b"database: hubbub.sqlite3 is gone" in reply.body
    readiness.stopping()
    assert b"listening: stopping" in site.respond("GET", "/readyz").body
    assert site.respond("GET", "/healthz").status == 200  # alive throughout


def test_answers_are_kept_a_moment_so_a_flood_of_requests_costs_the_loop_little() -> None:
    site, readiness, store, renders, clock = make()
    readiness.accepting([Listener()])
    for _ in range(100):
        site.respond("GET", "/metrics")
        site.respond("GET", "/readyz")
    assert (renders.count, store.checks) == (1, 1)
    clock.now += 1
    assert site.respond("GET", "/metrics").body == b"page 2\n"
    site.respond("GET", "/readyz")
    assert store.checks == 2


def test_paths_and_methods() -> None:
    site, *_ = make()
    assert site.respond("GET", "/metrics?name[]=x").status == 200
    assert site.respond("HEAD", "/healthz").status == 200
    assert site.respond("GET", "/").status == 200
    assert site.respond("GET", "/admin").status == 404
    assert site.respond("DELETE", "/metrics").status == 405
    assert BAD_REQUEST.status == 400
