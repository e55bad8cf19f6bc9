"""Real user clients with accounts.

* WeeChat (headless) logs in with SASL SCRAM-SHA-256 over the TLS listener
  that ``hubbub cert`` and ``--tls-listen`` set up (the README's recipe).
* The issue's "done when", on a fresh server with no config: irssi in tmux
  registers with ``/msg NickServ REGISTER`` and registers its channel with
  ChanServ; the server restarts; ``hubbub chat --account`` (the TUI, in tmux,
  the password typed at its prompt) logs in with SASL, keeps the nick, and
  gets +o back in the channel, whose topic survived.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubtest import RunningServer, ServerFactory, free_port, need, start_server
from ircclient import LineClient
from terminal import Tmux


def wait_until(check: object, timeout: float = 10) -> None:
    """Until ``check()`` is true (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def ask_chanserv(client: LineClient, line: str) -> str:
    """ChanServ's first answer to ``line``."""
    client.send(f"PRIVMSG ChanServ :{line}")
    return client.wait_for(lambda m: m.command == "NOTICE" and m.params[0] == client.nick)[
        0
    ].params[1]


def whois_account(srv: RunningServer, nick: str, timeout: float = 15) -> tuple[str, list[str]]:
    """Until ``nick`` is online: its account (330) and the other WHOIS numerics."""
    watcher = srv.client(f"w{free_port() % 10000}")
    deadline = time.monotonic() + timeout
    while True:
        watcher.send(f"WHOIS {nick}")
        replies = watcher.collect("318")
        account = [m.params[2] for m in replies if m.command == "330"]
        if account or time.monotonic() > deadline:
            return (account[0] if account else ""), [m.command for m in replies]
        time.sleep(0.2)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[RunningServer, int]]:
    """`hubbub cert` in the data dir, then `hubbub serve --tls-listen`."""
    data = tmp_path / "data"
    subprocess.run([sys.executable, "-m", "hubbub", "cert", "--data-dir", str(data),
                    "--name", "irc.test.local"], check=True, capture_output=True)  # fmt: skip
    tls_port = free_port()
    srv = start_server(tmp_path, None, "--tls-listen", f"127.0.0.1:{tls_port}")
    try:
        yield srv, tls_port
    finally:
        for c in srv.clients:
            c.close()
        srv.stop()
        assert "Traceback" not in srv.log.read_text(), srv.log.read_text()[-3000:]


def test_weechat_logs_in_with_scram_over_tls(tls_server: tuple[RunningServer, int],
                                            tmp_path: Path) -> None:  # fmt: skip
    need(shutil.which("weechat-headless") is not None,
         "weechat-headless is not installed (apt-get install weechat-headless)")  # fmt: skip
    srv, tls_port = tls_server
    reg = srv.client("wendy")
    reg.send("REGISTER * * wendys-password")
    assert reg.expect("REGISTER").params[0] == "SUCCESS"
    reg.send("QUIT")
    # WeeChat 3.8 still calls TLS "ssl" in its options.
    commands = ";".join([
        f"/server add hub 127.0.0.1/{tls_port} -ssl",
        "/set irc.server.hub.ssl_verify off",
        "/set irc.server.hub.nicks wendy",
        "/set irc.server.hub.sasl_mechanism scram-sha-256",
        "/set irc.server.hub.sasl_username wendy",
        "/set irc.server.hub.sasl_password wendys-password",
        "/connect hub",
    ])  # fmt: skip
    weechat = subprocess.Popen(
        ["weechat-headless", "--dir", str(tmp_path / "weechat"), "--run-command", commands],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        account, numerics = whois_account(srv, "wendy")
        assert account == "wendy"
        assert "671" in numerics  # over TLS
        srv.wait_for_log("logged in to wendy with SASL SCRAM-SHA-256")
        assert "wendys-password" not in srv.log.read_text()
    finally:
        weechat.terminate()
        weechat.wait(10)


def test_register_with_irssi_then_sasl_from_hubbub_chat_across_a_restart(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    need(shutil.which("irssi") is not None, "irssi is not installed (apt-get install irssi)")
    need(shutil.which("tmux") is not None, "tmux is not installed (apt-get install tmux)")
    srv = server_factory()  # a fresh server, no config file
    home = tmp_path / "irssi-home"
    home.mkdir()
    (home / "config").write_text(
        'settings = { core = { real_name = "Zoe"; user_name = "zoe"; }; '
        '"fe-common/core" = { timestamps = "no"; }; };\n'
    )
    tmux = Tmux(f"hubbub-acct-{srv.port}", "irssi")
    try:
        tmux.run("new-session", "-d", "-s", "irssi", "-x", "160", "-y", "48",
                 f"TERM=screen irssi --home={home} -c 127.0.0.1 -p {srv.port} -n zoe")  # fmt: skip
        tmux.wait_screen("End of /MOTD", timeout=15)
        tmux.type("/msg NickServ REGISTER zoes-password")
        tmux.wait_screen("You are now logged in as zoe")  # 900, in irssi's status window
        tmux.type("/join #zoe")
        checker = srv.client("checker")
        wait_until(lambda: ask_chanserv(checker, "INFO #zoe") == "#zoe is not registered.")
        tmux.type("/topic Zoe's room")
        tmux.type("/msg ChanServ REGISTER #zoe")
        wait_until(lambda: ask_chanserv(checker, "INFO #zoe").startswith("#zoe: founder zoe"))
        tmux.type("/quit bye")
        wait_until(lambda: whois_account(srv, "zoe", timeout=0)[0] == "")
    finally:
        tmux.run("kill-server")

    srv.restart()

    tui = Tmux(f"hubbub-chat-{srv.port}", "chat")
    try:
        tui.run("new-session", "-d", "-s", "chat", "-x", "140", "-y", "40",
                f"{sys.executable} -m hubbub chat 127.0.0.1:{srv.port} --account zoe")  # fmt: skip
        tui.wait_screen("Password for zoe:")
        tui.type("zoes-password")
        account, _ = whois_account(srv, "zoe")
        assert account == "zoe"  # logged in with SASL, and the nick is hers
        tui.wait_screen("#lobby")
        tui.type("/join #zoe")
        screen = tui.wait_screen("Zoe's room")  # the topic survived the restart
        assert "@zoe" in tui.wait_screen("@zoe")  # +o back from ChanServ
        watcher = srv.client("watcher")
        watcher.send("NAMES #zoe")
        names = watcher.expect("353", "watcher", "=", "#zoe")
        assert names.params[-1].split() == ["@zoe"], screen
        srv.wait_for_log("logged in to zoe with SASL SCRAM-SHA-256")
    finally:
        tui.run("kill-server")
