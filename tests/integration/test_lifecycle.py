"""Starting, stopping and reloading `hubbub serve`, as the contract says."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from hubtest import ServerFactory, free_port, start_server
from ircclient import LineClient


def test_starts_with_no_config(tmp_path: Path) -> None:
    # How fast it starts is measured by benchmarks, not asserted here.
    srv = start_server(tmp_path)
    try:
        c = srv.client("first")
        assert (tmp_path / "data").is_dir()
        c.close()
    finally:
        srv.stop()


def test_sigterm_tells_clients_and_exits_cleanly(server_factory: ServerFactory) -> None:
    srv = server_factory()
    a = srv.client("staying")
    b = srv.client("also")
    srv.proc.send_signal(signal.SIGTERM)
    for c in (a, b):
        err = c.wait_for(lambda m: m.command == "ERROR", timeout=5)[0]
        assert "Server shutting down" in err.params[0]
    assert srv.proc.wait(5) == 0
    assert "Traceback" not in srv.log.read_text()


def test_sigint_too(server_factory: ServerFactory) -> None:
    srv = server_factory()
    srv.client("x")
    assert srv.stop(signal.SIGINT) == 0


def test_config_file_and_flags(server_factory: ServerFactory) -> None:
    config = """
[server]
network = "TestNet"
motd = "Hello from the config\\nSecond line"
auto_join = ["#one", "#two"]
"""
    srv = server_factory(config)
    c = srv.client()
    burst = c.register("cfg")
    text = [m.to_line() for m in burst]
    assert any("Welcome to the TestNet Network" in t for t in text)
    assert any(m.command == "005" and "NETWORK=TestNet" in m.params for m in burst)
    motd = [m.params[-1] for m in burst if m.command == "372"]
    assert motd == ["- Hello from the config", "- Second line"]
    c.expect("366", "cfg", "#one")
    c.expect("366", "cfg", "#two")
    # --name on the command line overrode server.name
    assert burst[0].source == "irc.test.local"


def test_server_password(server_factory: ServerFactory) -> None:
    srv = server_factory('[server]\npassword = "sesame"\n')
    wrong = srv.client()
    wrong.send("PASS nope")
    wrong.send("NICK wrong")
    wrong.send("USER w 0 * :w")
    wrong.expect("464")
    wrong.wait_for(lambda m: m.command == "ERROR")
    right = srv.client()
    right.send("PASS sesame")
    right.register("right")


def _serve(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bad.toml"
    path.write_text(config)
    return subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--config", str(path),
         "--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip


def test_config_errors_name_the_file_and_key(tmp_path: Path) -> None:
    result = _serve(tmp_path, "[limits]\nmax_clients = -5\n")
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "limits.max_clients" in result.stderr
    assert "Traceback" not in result.stderr
    result = _serve(tmp_path, "[server]\nlisten_on = ['0.0.0.0:1']\n")
    assert "server.listen_on" in result.stderr and "unknown key" in result.stderr
    result = _serve(tmp_path, "[server\n")
    assert result.returncode == 2 and "bad.toml" in result.stderr


def test_port_in_use_is_a_clear_error(server_factory: ServerFactory, tmp_path: Path) -> None:
    srv = server_factory()
    result = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{srv.port}",
         "--data-dir", str(tmp_path / "d2")],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigusr1_reloads_the_motd(server_factory: ServerFactory) -> None:
    srv = server_factory('[server]\nmotd = "old news"\n')
    config = srv.log.parent / "hubbub.toml"
    config.write_text('[server]\nmotd = "fresh news"\n')
    srv.proc.send_signal(signal.SIGUSR1)
    srv.wait_for_log("configuration reloaded")
    c = srv.client()
    burst = c.register("reader")
    assert [m.params[-1] for m in burst if m.command == "372"] == ["- fresh news"]
    # A key that cannot change at runtime is refused with its name, and the
    # server keeps running with the old config.
    config.write_text('[server]\nwebsocket_listen = ["127.0.0.1:1"]\nmotd = "nope"\n')
    srv.proc.send_signal(signal.SIGUSR1)
    srv.wait_for_log("server.websocket_listen cannot change")
    assert srv.alive()
    late = srv.client()
    burst = late.register("late")
    assert [m.params[-1] for m in burst if m.command == "372"] == ["- fresh news"]


def test_zero_config_server_greets_with_a_motd(server_factory: ServerFactory) -> None:
    srv = server_factory()
    burst = srv.client().register("newcomer")
    motd = [m.params[-1] for m in burst if m.command == "372"]
    assert any("#lobby" in line for line in motd), motd
    assert not [m for m in burst if m.command == "422"]


def test_empty_motd_means_none(server_factory: ServerFactory) -> None:
    srv = server_factory('[server]\nmotd = ""\n')
    burst = srv.client().register("newcomer")
    assert [m.command for m in burst if m.command in ("372", "422")] == ["422"]


def test_oper_restart_comes_back_on_the_same_port(server_factory: ServerFactory) -> None:
    srv = server_factory('[[operators]]\nname = "root"\npassword = "pw"\n')
    boss = srv.client("boss")
    boss.send("RESTART")
    boss.expect("481")  # not an operator yet
    boss.send("OPER root pw")
    boss.expect("381")
    boss.send("RESTART")
    err = boss.wait_for(lambda m: m.command == "ERROR", timeout=5)[0]
    assert "Server restarting" in err.params[0]
    deadline = time.monotonic() + 15
    while True:  # the same process comes back and accepts again
        try:
            again = srv.client("again")
            break
        except (OSError, AssertionError):
            assert time.monotonic() < deadline, srv.log.read_text()
            time.sleep(0.2)
    assert srv.alive()
    again.send("PING :back")
    again.expect("PONG")
    assert srv.log.read_text().count("ready as") == 2


def test_several_listeners_share_one_network(server_factory: ServerFactory) -> None:
    second = free_port()
    srv = server_factory(None, "--listen", f"127.0.0.1:{second}")
    a = srv.client("on_first")
    b = LineClient("127.0.0.1", second)
    srv.clients.append(b)
    b.register("on_second")
    a.expect("JOIN", "#lobby")
    b.send("PRIVMSG #lobby :across listeners")
    assert a.expect("PRIVMSG", "#lobby").params[1] == "across listeners"
