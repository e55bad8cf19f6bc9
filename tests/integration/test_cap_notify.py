"""cap-notify on a real server: a reload that changes what is offered tells
the clients that asked for cap-notify (CAP 302 implies it) with CAP DEL and
CAP NEW, turns a capability that is gone off for everyone who had it, and
tells the clients that did not ask nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from hubtest import RunningServer, ServerFactory
from ircclient import LineClient

OPEN = "[accounts]\nregistration = true\n"
CLOSED = "[accounts]\nregistration = false\n"
#: Registering opens again, now only once connected (no before-connect).
REOPENED = "[accounts]\nregistration = true\nregistration_before_connect = false\n"


def reload(srv: RunningServer, text: str) -> None:
    Path(srv.cmd[srv.cmd.index("--config") + 1]).write_text(text)
    before = srv.log.read_text().count("configuration reloaded")
    srv.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while srv.log.read_text().count("configuration reloaded") == before:
        assert time.monotonic() < deadline, srv.log.read_text()[-2000:]
        time.sleep(0.05)


def caps_until_pong(client: LineClient) -> list[tuple[str, ...]]:
    """The CAP lines that reach ``client`` before the answer to a PING."""
    client.send("PING :sync")
    _, before = client.wait_for(lambda m: m.command == "PONG")
    return [tuple(m.params[1:]) for m in before if m.command == "CAP"]


def test_a_reload_tells_cap_notify_clients_what_the_offer_lost_and_gained(
    server_factory: ServerFactory,
) -> None:
    srv = server_factory(OPEN)
    modern = srv.client("modern", ("draft/account-registration",))
    legacy = srv.client("legacy")  # no CAP at all: no cap-notify

    reload(srv, CLOSED)
    assert caps_until_pong(modern) == [("DEL", "draft/account-registration")]
    modern.send("CAP LIST")
    listed = modern.expect("CAP", "modern", "LIST").params[-1].split()
    assert "draft/account-registration" not in listed and "cap-notify" in listed
    modern.send("REGISTER * * some-long-password")
    assert modern.expect("FAIL").params[:2] == ("REGISTER", "TEMPORARILY_UNAVAILABLE")

    reload(srv, REOPENED)
    # A CAP 302 client sees the value (no before-connect any more).
    assert caps_until_pong(modern) == [("NEW", "draft/account-registration")]
    reload(srv, OPEN)
    assert caps_until_pong(modern) == [("NEW", "draft/account-registration=before-connect")]
    # Reloading the same offer says nothing.
    reload(srv, OPEN)
    assert caps_until_pong(modern) == []
    assert caps_until_pong(legacy) == []
