"""A real user client: irssi, driven through tmux, chats with one of ours.

irssi runs in a detached tmux session with a fresh home directory; the test
types into it with ``send-keys`` and reads its screen with ``capture-pane``.
It joins, talks, changes nick, gives op, kicks and quits against hubbub.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubtest import RunningServer, need, start_server
from ircclient import LineClient
from terminal import Tmux, irssi_home


@pytest.fixture
def irssi(server: RunningServer, tmp_path: Path) -> Iterator[Callable[[], Tmux]]:
    """Starts irssi (as ``ircuser``) against the server when called."""
    need(shutil.which("irssi") is not None, "irssi is not installed (apt-get install irssi)")
    need(shutil.which("tmux") is not None, "tmux is not installed (apt-get install tmux)")
    home = irssi_home(tmp_path)
    tmux = Tmux(f"hubbub-test-{server.port}", "irssi")

    def start() -> Tmux:
        tmux.run(
            "new-session", "-d", "-s", "irssi", "-x", "160", "-y", "48",
            f"TERM=screen irssi --home={home} -c 127.0.0.1 -p {server.port} -n ircuser",
        )  # fmt: skip
        return tmux

    try:
        yield start
    finally:
        tmux.run("kill-server")


def test_irssi_joins_chats_renames_ops_kicks_and_quits(
    server: RunningServer, irssi: Callable[[], Tmux]
) -> None:
    bob = server.client("bob")
    bob.expect("366", "bob", "#lobby")
    bob.send("JOIN #crew")  # the server's #lobby has no op; bob founds #crew and is its op
    bob.expect("366", "bob", "#crew")
    tmux = irssi()
    arrived = bob.expect("JOIN", "#lobby")
    assert arrived.source is not None and arrived.source.startswith("ircuser!")

    tmux.type("/join #lobby")  # already there: this just brings the window up
    tmux.type("hello from irssi")
    msg = bob.expect("PRIVMSG", "#lobby")
    assert msg.params[1] == "hello from irssi"

    bob.send("PRIVMSG #lobby :hi irssi, bob here")
    tmux.wait_screen("hi irssi, bob here")

    tmux.type("/nick ircuser2")
    change = bob.expect("NICK")
    assert change.params[0] == "ircuser2"

    tmux.type("/join #crew")
    bob.expect("JOIN", "#crew")
    bob.send("MODE #crew +o ircuser2")
    bob.expect("MODE", "#crew", "+o", "ircuser2")
    tmux.wait_screen("+o ircuser2")

    # Now irssi's user is op: it kicks a second client of ours.
    carol = server.client("carol")
    carol.send("JOIN #crew")
    bob.expect("JOIN", "#crew")
    tmux.type("/kick carol enough")
    kick = carol.expect("KICK", "#crew", "carol")
    assert kick.params[2] == "enough"
    assert kick.source is not None and kick.source.startswith("ircuser2!")

    tmux.type("/quit see you")
    quit_msg = bob.expect("QUIT")
    assert quit_msg.source is not None and quit_msg.source.startswith("ircuser2!")
    assert quit_msg.params[0] == "Quit: see you"
    assert _alone(bob)


def _alone(client: LineClient) -> bool:
    client.send("NAMES #crew")
    names = client.expect("353", "bob", "=", "#crew")
    return names.params[-1].split() == ["@bob"]


def test_irssi_joining_after_a_kill_sees_what_was_said(
    server: RunningServer, irssi: Callable[[], Tmux]
) -> None:
    # irssi does not ask for chathistory: the server replays the last lines on join.
    bob = server.client("bob")
    bob.expect("366", "bob", "#lobby")
    for text in ("the build is green", "release at five", "cake in the kitchen"):
        bob.send(f"PRIVMSG #lobby :{text}")
    bob.send("PING :sync")
    bob.expect("PONG")
    server.stop(signal.SIGKILL)
    again = start_server(server.data_dir.parent, port=server.port)
    try:
        tmux = irssi()
        tmux.wait_screen("Act: 2")  # auto-joined #lobby, in window 2
        tmux.type("/window 2")
        screen = tmux.wait_screen("cake in the kitchen")
        order = [screen.index(t) for t in ("the build is green", "release at five",
                                           "cake in the kitchen")]  # fmt: skip
        assert order == sorted(order)
    finally:
        again.stop()
