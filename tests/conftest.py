"""Fixtures shared by every test tier: a real ``hubbub serve`` on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterkit import RedisServer
from hubtest import RunningServer, ServerFactory, start_server
from pgtest import PgServer


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """``start(config_text=None, *args, web=False)`` -> RunningServer; all
    stopped after the test."""
    started: list[RunningServer] = []

    def start(
        config: str | None = None, *args: str, port: int | None = None, web: bool | int = False
    ) -> RunningServer:
        sub = tmp_path / f"s{len(started)}"
        sub.mkdir()
        srv = start_server(sub, config, *args, port=port, web=web)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        for c in srv.clients:
            c.close()
        srv.stop()
        if "Traceback" in srv.log.read_text():
            pytest.fail(f"server logged a traceback:\n{srv.log.read_text()[-3000:]}")


@pytest.fixture
def server(server_factory: ServerFactory) -> RunningServer:
    """A server with the embedded defaults (auto_join #lobby, flood control on)."""
    return server_factory()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own that keeps nothing (skips outside CI
    when redis-server is missing)."""
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with an append-only file synced on every write."""
    server = RedisServer(tmp_path / "redis", fsync="always")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole run (started on first use; tests
    that stop it start their own :class:`pgtest.PgServer`)."""
    server = PgServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh, empty database on :func:`pg_server`."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def history_database(request: pytest.FixtureRequest) -> str:
    """For integration tests that run on both databases: the line to put
    under ``[history]`` (nothing for the embedded SQLite default; a fresh
    PostgreSQL database's URL otherwise)."""
    if request.param == "sqlite":
        return ""
    url = request.getfixturevalue("pg_url")
    return f'database = "{url}"\n'
