"""/readyz turns unready when the database is made unreachable, for real:
the file deleted, the file replaced, the disk full (a file-size limit set on
the running server, as a full disk refuses the next write), and ready again
once the disk has room, with nothing said during the outage lost."""

from __future__ import annotations

import os
import resource
import shutil
import time

from hubtest import RunningServer, ServerFactory
from opstest import http, metrics_section, wait_for_scrape, wait_for_status
from pgtest import PgServer

HISTORY_CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")


def start(server_factory: ServerFactory) -> tuple[RunningServer, int]:
    section, mport = metrics_section()
    server = server_factory(section)
    assert wait_for_status(mport, "/readyz", 200) == b"ready\n"
    return server, mport


def database(server: RunningServer) -> str:
    return str(server.data_dir / "hubbub.sqlite3")


def test_deleting_the_database_makes_the_server_unready(server_factory: ServerFactory) -> None:
    server, mport = start(server_factory)
    os.unlink(database(server))
    body = wait_for_status(mport, "/readyz", 503).decode()
    assert "database:" in body and "is gone (deleted or moved)" in body
    # Alive all the same: a supervisor must not restart it in a loop, an
    # operator must put the file back (or restart it on a backup).
    assert http(mport, "/healthz")[0] == 200
    # Prometheus sees it too, without a prober.
    assert wait_for_scrape(mport, lambda s: s.get_value("hubbub_ready") == 0).get_value(
        "hubbub_ready"
    ) == 0


def test_replacing_the_database_makes_the_server_unready(server_factory: ServerFactory) -> None:
    server, mport = start(server_factory)
    path = database(server)
    shutil.copyfile(path, path + ".copy")
    os.replace(path + ".copy", path)
    body = wait_for_status(mport, "/readyz", 503).decode()
    assert "was replaced by another file" in body


def test_a_full_disk_makes_the_server_unready_until_it_has_room(
    server_factory: ServerFactory,
) -> None:
    server, mport = start(server_factory)
    alice = server.client("alice", HISTORY_CAPS)
    alice.send("PRIVMSG #lobby :before the disk filled")
    alice.send("PING :sync")
    alice.expect("PONG")
    # The write-ahead log may not grow past its size: the next commit fails
    # as on a full disk (the server ignores SIGXFSZ, as Python does).
    wal = os.stat(database(server) + "-wal").st_size
    soft, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (wal, hard))
    try:
        body = wait_for_status(mport, "/readyz", 503).decode()
        assert "database:" in body
        alice.send("PRIVMSG #lobby :said while the disk was full")
        alice.send("PING :sync")
        alice.expect("PONG")
        body = wait_for_status(mport, "/readyz", 503, containing="events wait").decode()
        assert "history writes fail" in body
    finally:
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    # Room again: the waiting lines are written, and the server is ready.
    assert wait_for_status(mport, "/readyz", 200) == b"ready\n"
    alice.send("CHATHISTORY LATEST #lobby * 10")
    end = alice.wait_for(lambda m: m.command == "BATCH" and m.params[0].startswith("-"))[1]
    texts = [m.params[1] for m in end if m.command == "PRIVMSG"]
    assert texts[-2:] == ["before the disk filled", "said while the disk was full"]
    assert server.alive()


def test_postgresql_stopped_makes_the_server_unready_until_it_is_back(
    server_factory: ServerFactory,
) -> None:
    pg = PgServer()
    pg.start()
    try:
        section, mport = metrics_section()
        server = server_factory(f'{section}[history]\ndatabase = "{pg.new_database()}"\n')
        assert wait_for_status(mport, "/readyz", 200) == b"ready\n"
        alice = server.client("alice", HISTORY_CAPS)
        pg.stop()
        # No traffic needed: the probe finds PostgreSQL gone by itself.
        body = wait_for_status(mport, "/readyz", 503).decode()
        assert body.startswith("database:") or "\ndatabase:" in body
        assert "postgresql://hubbub@" in body
        assert http(mport, "/healthz")[0] == 200
        # Chat goes on meanwhile, and what is said is kept once it is back.
        alice.send("PRIVMSG #lobby :said while PostgreSQL was down")
        alice.send("PING :sync")
        alice.expect("PONG")
        pg.start()
        assert wait_for_status(mport, "/readyz", 200, timeout=30) == b"ready\n"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alice.send("CHATHISTORY LATEST #lobby * 10")
            _, inside = alice.wait_for(
                lambda m: m.command == "FAIL" or (m.command == "BATCH" and m.params[0][0] == "-")
            )
            texts = [m.params[1] for m in inside if m.command == "PRIVMSG"]
            if "said while PostgreSQL was down" in texts:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the line said during the outage never reached history")
        assert server.alive()
    finally:
        pg.remove()
