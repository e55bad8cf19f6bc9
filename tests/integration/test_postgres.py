"""A real ``hubbub serve`` on PostgreSQL when things go wrong: PostgreSQL
stopped under traffic (chat goes on, CHATHISTORY, REGISTER and SASL fail
clearly, history catches up when it is back, no password in the log), and
two servers on one database registering the same account at the same
moment (the unique name settles it: one wins, the other is told)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubtest import RunningServer, ServerFactory, free_port
from ircclient import LineClient
from pgtest import PgServer

CAPS = ("batch", "server-time", "message-tags", "echo-message", "draft/chathistory")
PASSWORD = "tea-and-biscuits"
#: A password in the URL (trust authentication ignores it): it must never
#: reach the log.
DB_PASSWORD = "pg-s3cret-word"


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A PostgreSQL of this test's own, to stop and start under traffic."""
    server = PgServer()
    server.start()
    yield server
    server.remove()


def config(url: str) -> str:
    return f'[limits]\nflood_control = false\n[history]\ndatabase = "{url}"\n'


def history(client: LineClient, target: str, limit: int = 100) -> list[str] | str:
    """CHATHISTORY LATEST: the texts, or the FAIL code."""
    client.send(f"CHATHISTORY LATEST {target} * {limit}")
    msg, _ = client.wait_for(lambda m: m.command in ("FAIL", "BATCH")
                             and (m.command == "FAIL" or m.params[0][0] == "+"))  # fmt: skip
    if msg.command == "FAIL":
        return msg.params[1]
    ref = msg.params[0][1:]
    _, inside = client.wait_for(lambda m: m.command == "BATCH" and m.params[0] == f"-{ref}")
    return [m.params[-1] for m in inside if m.tags.get("batch") == ref and m.command == "PRIVMSG"]


def register(srv: RunningServer, nick: str) -> tuple[str, ...]:
    """REGISTER ``nick`` (draft/account-registration); the reply's params."""
    c = srv.client(nick)
    c.send(f"REGISTER * * {PASSWORD}")
    reply, _ = c.wait_for(lambda m: m.command in ("REGISTER", "FAIL"))
    c.send("QUIT")
    return (reply.command, *reply.params)


def sasl(srv: RunningServer, account: str) -> str:
    """A SASL PLAIN login as ``account`` before registering: the numeric."""
    c = srv.client()
    c.send("CAP LS 302")
    c.send("CAP REQ :sasl")
    c.wait_for(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    done = c.authenticate("PLAIN", account, PASSWORD)
    c.close()
    return done.command


def test_chat_goes_on_while_postgresql_is_down_and_history_catches_up(
    server_factory: ServerFactory, own_server: PgServer
) -> None:
    url = own_server.new_database().replace("postgresql://hubbub@",
                                            f"postgresql://hubbub:{DB_PASSWORD}@")  # fmt: skip
    srv = server_factory(config(url))
    assert register(srv, "alice") == ("REGISTER", "SUCCESS", "alice",
                                      "Account created")  # fmt: skip
    alice, bob = srv.client("alice_", CAPS), srv.client("bob", CAPS)
    bob.expect("JOIN", "#lobby")
    alice.send("PRIVMSG #lobby :before the outage")
    bob.expect("PRIVMSG", "#lobby", "before the outage")

    own_server.stop()
    during = [f"during the outage {i}" for i in range(30)]
    for text in during:
        alice.send(f"PRIVMSG #lobby :{text}")
    # Everyone still hears everything, at once.
    assert [bob.expect("PRIVMSG", "#lobby").params[1] for _ in during] == during
    assert history(bob, "#lobby") == "MESSAGE_ERROR"
    failed = register(srv, "carol")
    assert failed[:3] == ("FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE"), failed
    assert sasl(srv, "alice") == "904"
    srv.wait_for_log("cannot write history", timeout=10)

    own_server.start()
    srv.wait_for_log("PostgreSQL is back", timeout=15)
    assert history(bob, "#lobby") == ["before the outage", *during]
    assert sasl(srv, "alice") == "903"
    assert register(srv, "carol")[:3] == ("REGISTER", "SUCCESS", "carol")
    log = srv.log.read_text()
    assert DB_PASSWORD not in log and "hubbub:***@" in log


def test_two_servers_on_one_postgresql_registering_one_name_at_once_one_wins(
    server_factory: ServerFactory, pg_url: str
) -> None:
    first, second = server_factory(config(pg_url)), server_factory(config(pg_url))
    for round_ in range(4):
        name = f"zoe{round_}"
        clients = [first.client(f"{name}_a"), second.client(f"{name}_b")]
        # Half the rounds through NickServ, half through draft/account-registration.
        nickserv = round_ % 2 == 1
        lines = ([f"PRIVMSG NickServ :REGISTER {PASSWORD}" for _ in clients] if nickserv else
                 [f"REGISTER * * {PASSWORD}" for _ in clients])  # fmt: skip
        # An account is named after the nick in use: both take the name first
        # (two servers, not one network: each has its own nicks).
        for c in clients:
            c.send(f"NICK {name}")
            c.wait_for(lambda m, n=name: m.command == "NICK" and m.params[0] == n)
        go = threading.Barrier(2)

        def send(c: LineClient, line: str, go: threading.Barrier = go) -> None:
            go.wait()
            c.send(line)

        threads = [threading.Thread(target=send, args=(c, line))
                   for c, line in zip(clients, lines, strict=True)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if nickserv:
            answers = [c.wait_for(lambda m: m.command == "NOTICE" and m.source.startswith(
                "NickServ!"))[0].params[1] for c in clients]  # fmt: skip
            won = [a for a in answers if a.startswith("Account created")]
            lost = [a for a in answers if a == f"The account {name} already exists."]
        else:
            replies = [c.wait_for(lambda m: m.command in ("REGISTER", "FAIL"))[0]
                       for c in clients]  # fmt: skip
            won = [r for r in replies if r.command == "REGISTER" and r.params[0] == "SUCCESS"]
            lost = [r for r in replies
                    if r.command == "FAIL" and r.params[1] == "ACCOUNT_EXISTS"]  # fmt: skip
        assert (len(won), len(lost)) == (1, 1), (won, lost)
    # The accounts are one: either server logs anyone in.
    assert sasl(first, "zoe1") == sasl(second, "zoe0") == "903"


def test_a_postgresql_that_cannot_be_reached_at_start_is_a_clear_error(
    tmp_path: Path, own_server: PgServer
) -> None:
    url = own_server.url("hubbub", password=DB_PASSWORD)
    own_server.stop()
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[history]\ndatabase = "{url}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{free_port()}",
         "--data-dir", str(tmp_path / "data"), "--config", str(config)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "history.database" in done.stderr and "cannot reach PostgreSQL" in done.stderr
    assert DB_PASSWORD not in done.stderr + done.stdout and "hubbub:***@" in done.stderr
