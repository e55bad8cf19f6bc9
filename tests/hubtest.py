"""Starting a real ``hubbub serve`` for tests, and talking to it.

Integration tests start the server as a subprocess, exactly as a user would
(``python -m hubbub serve --listen 127.0.0.1:PORT --data-dir DIR``), and talk
to it over real sockets.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hubbub.certs import make_self_signed

from ircclient import LineClient

IN_CI = os.environ.get("CI") == "true"


def need(condition: bool, reason: str) -> None:
    """Skip when a system program is missing; in CI that is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI must provide this: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hubbub serve exited {proc.returncode}: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"hubbub serve did not listen on {port}: {log.read_text()}")


@dataclass
class RunningServer:
    """A ``hubbub serve`` subprocess and what tests need to reach it."""

    port: int
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    clients: list[LineClient] = field(default_factory=list)
    #: The web listener (--web), when the server was started with one.
    web_port: int | None = None
    #: The command line it was started with (for :meth:`restart`).
    cmd: list[str] = field(default_factory=list)

    host = "127.0.0.1"

    def client(self, nick: str | None = None, caps: tuple[str, ...] = ()) -> LineClient:
        """A new connection, registered as ``nick`` if given."""
        c = LineClient(self.host, self.port)
        self.clients.append(c)
        if nick is not None:
            c.register(nick, caps)
        return c

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def wait_for_log(self, text: str, timeout: float = 5) -> None:
        """Until the server's log contains ``text`` (fails with the log)."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def restart(self) -> None:
        """Stop the server (SIGTERM, as a person would) and start it again with
        the same command line, data dir and port: what survives is what was kept."""
        for c in self.clients:
            c.close()
        self.clients.clear()
        assert self.stop() == 0, self.log.read_text()[-3000:]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc, self.log)


def start_server(
    tmp: Path,
    config: str | None = None,
    *args: str,
    port: int | None = None,
    web: bool | int = False,
) -> RunningServer:
    """Start ``hubbub serve`` (with a TOML ``config`` text, if given; with
    ``web``, a web listener too: on a free port, or on that port number)."""
    port = port or free_port()
    web_port = None if web is False else free_port() if web is True else web
    if web_port is not None:
        args = (*args, "--web", f"127.0.0.1:{web_port}")
    data_dir = tmp / "data"
    log = tmp / f"serve-{port}.log"
    cmd = [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{port}",
           "--data-dir", str(data_dir), "--name", "irc.test.local", *args]  # fmt: skip
    if config is not None:
        path = tmp / "hubbub.toml"
        path.write_text(config)
        cmd += ["--config", str(path)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, proc, log)
    if web_port is not None:
        wait_for_port(web_port, proc, log)
    return RunningServer(port, proc, data_dir, log, web_port=web_port, cmd=cmd)


#: ``start(config_text=None, *args, port=None)`` -> RunningServer (the
#: ``server_factory`` fixture).
ServerFactory = Callable[..., RunningServer]


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for ``name`` (as ``hubbub cert`` makes them)."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    make_self_signed(cert, key, [name], days=2)
    return cert, key


def untrusting() -> ssl.SSLContext:
    """A client context for self-signed test certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
