"""Fixtures for the client tests: a real `hubbub serve`, and a real ngIRCd.

Both are started as subprocesses on a free port and waited for until the port
accepts, so every test talks to a server over real sockets. The ngIRCd
fixture skips when the binary is missing, except under CI=true, where a
missing server is a failure: CI must prove the client speaks standard IRC.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NGIRCD_CANDIDATES = ("ngircd", "/usr/sbin/ngircd", "/usr/local/sbin/ngircd")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Until ``port`` accepts a connection; fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class RunningServer:
    """A server subprocess the test can stop and start again on the same port."""

    argv: list[str]
    port: int
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env
        )
        wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        """Stop the server (the clients see the connection drop)."""
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def restart(self) -> None:
        """Stop, then start again on the same port."""
        self.stop()
        self.start()


@pytest.fixture
def hubbub_server(tmp_path: Path) -> Iterator[RunningServer]:
    """`hubbub serve` on a free port with a fresh data dir (default config:
    every client is auto-joined to #lobby)."""
    port = free_port()
    data = tmp_path / "hubbub-data"
    argv = [
        sys.executable, "-m", "hubbub", "serve",
        "--listen", f"127.0.0.1:{port}", "--data-dir", str(data),
    ]
    server = RunningServer(argv, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _ngircd_binary() -> str | None:
    for candidate in NGIRCD_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


NGIRCD_CONF = """\
[Global]
    Name = irc.ngircd.test
    Info = ngIRCd for the hubbub client tests
    Listen = 127.0.0.1
    Ports = {port}
    MotdPhrase = Hello from ngIRCd
    PidFile = {dir}/ngircd.pid

[Limits]
    # Penalties delay a fast client's lines by seconds: off for tests.
    MaxPenaltyTime = 0
    MaxNickLength = 30
    MaxConnectionsIP = 0
    PingTimeout = 120
    PongTimeout = 60

[Options]
    DNS = no
    Ident = no
    PAM = no
    MorePrivacy = no
"""


@pytest.fixture
def ngircd_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A real ngIRCd on a free port, with penalties off."""
    binary = _ngircd_binary()
    if binary is None:
        reason = "ngircd is not installed (apt-get install -y ngircd)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true this test must run, not skip")
        pytest.skip(reason)
    port = free_port()
    conf = tmp_path / "ngircd.conf"
    conf.write_text(NGIRCD_CONF.format(port=port, dir=tmp_path))
    server = RunningServer([binary, "--nodaemon", "--config", str(conf)], port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["hubbub_server", "ngircd_server"])
def server(request: pytest.FixtureRequest) -> RunningServer:
    """Each test that asks for ``server`` runs against hubbub and ngIRCd."""
    result: RunningServer = request.getfixturevalue(request.param)
    return result


@dataclass
class TlsServer:
    """A TLS server made the README's way, and what a client needs to trust it."""

    server: RunningServer
    cert: Path
    fingerprint: str


@pytest.fixture
def tls_hubbub_server(tmp_path: Path) -> Iterator[TlsServer]:
    """`hubbub cert` then `hubbub serve --tls-listen` (the README's recipe):
    a TLS listener on a free port with a fresh self-signed certificate."""
    data = tmp_path / "data"
    made = subprocess.run(
        [sys.executable, "-m", "hubbub", "cert", "--data-dir", str(data),
         "--name", "irc.test.local"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (fingerprint,) = [line.split(": ", 1)[1] for line in made.stdout.splitlines()
                      if line.startswith("SHA-256 fingerprint: ")]  # fmt: skip
    port = free_port()
    argv = [sys.executable, "-m", "hubbub", "serve", "--data-dir", str(data),
            "--listen", f"127.0.0.1:{free_port()}", "--tls-listen", f"127.0.0.1:{port}"]
    server = RunningServer(argv, port)
    server.start()
    try:
        yield TlsServer(server, data / "tls" / "cert.pem", fingerprint)
    finally:
        server.stop()
