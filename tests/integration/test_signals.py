"""Signals and readiness of a real ``hubbub serve``.

The convention (README, docs/configuration.md): SIGINT, SIGTERM and SIGHUP
stop the server cleanly; SIGUSR1 (and REHASH) reload the config. SIGHUP is
what a closing terminal sends, so a server in the foreground of a terminal
dies with it; started under ``nohup`` it outlives the terminal. Every
listener starts accepting only once the server is ready, so a signal sent
the moment the port opens is handled, and ``READY=1`` goes to a service
manager at that moment.
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubtest import free_port, need, start_server
from ircclient import Closed, LineClient

ROOT = Path(__file__).resolve().parents[2]
#: Runs a command as the session leader of the terminal on its stdin, the
#: way a terminal emulator starts a shell (Linux: TIOCSCTTY).
SESSION_LEADER = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def serve_argv(port: int, tmp: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{port}",
            "--data-dir", str(tmp / "data"), "--name", "irc.test.local", *extra]  # fmt: skip


def gone(pid: int) -> bool:
    """The process ended (a zombie nobody reaped counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def pids_with(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if text in cmdline and not gone(int(entry.name)):
                    found.append(int(entry.name))
    return found


def accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class Terminal:
    """A pseudo-terminal with an interactive bash as its session leader."""

    def __init__(self, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "PS1": "$ ", "TERM": "dumb", "HISTFILE": "/dev/null"}
        env.pop("PYTEST_ADDOPTS", None)
        self.shell = subprocess.Popen(
            [sys.executable, "-c", SESSION_LEADER, "bash", "--norc", "--noprofile", "-i"],
            stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
        )  # fmt: skip
        os.close(slave)
        self.output = b""
        self.open = True

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def drain(self, seconds: float = 0.05) -> None:
        """Read what the terminal shows (a full terminal would block the writer)."""
        while self.open and select.select([self.master], [], [], seconds)[0]:
            try:
                self.output += os.read(self.master, 65536)
            except OSError:
                return

    def close(self) -> None:
        """The terminal window closes: the kernel hangs up its session."""
        if self.open:
            self.open = False
            os.close(self.master)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            term.shell.wait(5)
        for pid in pids_with(str(tmp_path / "data")):
            os.kill(pid, signal.SIGKILL)


def make_serve(port: int, tmp: Path) -> str:
    """The README's `make serve`, on a free port, with this test run's venv
    (``-o``: the venv is not rebuilt)."""
    venv = Path(sys.prefix)
    args = " ".join(serve_argv(port, tmp)[4:])
    return (f"make -C {ROOT} -o {venv}/.installed-stamp VENV={venv} serve "
            f"SERVE_ARGS='{args}'")  # fmt: skip


@pytest.mark.parametrize("how", ["hubbub serve", "make serve"])
def test_a_server_in_a_terminal_stops_when_the_terminal_closes(
    terminal: Terminal, tmp_path: Path, how: str
) -> None:
    port = free_port()
    if how == "make serve":
        need(shutil.which("make") is not None, "make is not installed (apt-get install make)")
        need((Path(sys.prefix) / "bin" / "hubbub").exists(), "tests run outside a venv")
        terminal.type(make_serve(port, tmp_path))
    else:
        terminal.type(" ".join(serve_argv(port, tmp_path)))
    deadline = time.monotonic() + 15
    while not accepts(port):
        terminal.drain()
        assert time.monotonic() < deadline, terminal.output.decode(errors="replace")
    started = pids_with(str(tmp_path / "data"))  # the server (and make, if any)
    assert started
    watcher = LineClient("127.0.0.1", port)
    watcher.register("watcher")

    terminal.close()

    # Clients are told, as for any clean stop, and the process ends.
    error = watcher.wait_for(lambda m: m.command == "ERROR", timeout=10)[0]
    assert "Server shutting down" in error.params[0]
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in started):
        assert time.monotonic() < deadline, "the server outlived its terminal"
        time.sleep(0.05)
    # The next `hubbub serve` on that port starts: nothing holds it.
    (tmp_path / "again").mkdir()
    again = start_server(tmp_path / "again", port=port)
    try:
        again.client("back")
    finally:
        again.stop()


def test_sighup_stops_cleanly(tmp_path: Path) -> None:
    srv = start_server(tmp_path)
    c = srv.client("here")
    srv.proc.send_signal(signal.SIGHUP)
    error = c.wait_for(lambda m: m.command == "ERROR", timeout=5)[0]
    assert "Server shutting down" in error.params[0]
    assert srv.proc.wait(10) == 0
    log = srv.log.read_text()
    assert "hangup (SIGHUP: the terminal closed): shutting down" in log
    assert "SIGUSR1 is the signal that reloads" in log
    assert "Traceback" not in log


def test_under_nohup_it_outlives_the_terminal_and_still_reloads(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nmotd = "before"\n')
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["nohup", *serve_argv(port, tmp_path, "--config", str(config))],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not accepts(port):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGHUP)
        config.write_text('[server]\nmotd = "after"\n')
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while "configuration reloaded" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert proc.poll() is None
        c = LineClient("127.0.0.1", port)
        burst = c.register("still")
        assert [m.params[-1] for m in burst if m.command == "372"] == ["- after"]
        c.close()
        assert "SIGHUP is ignored (nohup)" in log.read_text()
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


@pytest.mark.parametrize(
    "sig", [signal.SIGUSR1, signal.SIGHUP, signal.SIGTERM, signal.SIGINT],
    ids=lambda s: s.name,
)  # fmt: skip
def test_a_signal_sent_the_moment_the_port_opens_is_handled(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nmotd = "hello"\n')
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            serve_argv(port, tmp_path, "--config", str(config)),
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Knock without pause: the first connection that gets through is the
        # first moment a client could, and the signal follows at once.
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except ConnectionRefusedError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        proc.send_signal(sig)
        if sig == signal.SIGUSR1:
            deadline = time.monotonic() + 5
            while "configuration reloaded" not in log.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.02)
            c = LineClient("127.0.0.1", port)
            assert c.register("after")
            c.close()
            assert proc.poll() is None
        else:
            # Ended by our handler (exit status 0), not by the signal itself.
            assert proc.wait(10) == 0, log.read_text()
            assert "stopped" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    assert "Traceback" not in log.read_text()


def test_ready_is_told_to_a_service_manager_when_clients_can_connect(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nmotd = "hello"\n')
    # A short path: unix socket names are limited to ~107 bytes.
    with tempfile.TemporaryDirectory(prefix="hubbub-notify-") as short:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(f"{short}/notify")
        sock.settimeout(15)
        env = {**os.environ, "NOTIFY_SOCKET": f"{short}/notify"}
        log = tmp_path / "serve.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                serve_argv(port, tmp_path, "--config", str(config)),
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        try:
            ready = sock.recv(4096).decode().split("\n")
            assert ready == ["READY=1", f"STATUS=listening on 127.0.0.1:{port}"]
            # Ready means a client gets in now, with no retry.
            client = LineClient("127.0.0.1", port)
            assert client.register("first")

            proc.send_signal(signal.SIGUSR1)
            reloading = sock.recv(4096).decode().split("\n")
            assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
            assert sock.recv(4096) == b"READY=1"

            proc.send_signal(signal.SIGTERM)
            assert sock.recv(4096) == b"STOPPING=1"
            assert proc.wait(10) == 0
            with contextlib.suppress(Closed):
                client.wait_for(lambda m: m.command == "ERROR")
        finally:
            sock.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
