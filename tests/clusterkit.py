"""Real parts for the cluster tests: redis-server, and ``hubbub serve`` nodes.

:class:`RedisServer` runs Debian's ``redis-server`` as a subprocess on a
unix socket in the test's folder (TESTING.md's recipe), with or without an
append-only file, and can pause it (SIGSTOP), kill it (SIGKILL) and start it
again on the same socket, with its data or without.

:class:`Nodes` starts ``hubbub serve`` processes that form one cluster on
that Redis, with short leases so failures play out in seconds, and reads
each node's position in the log and the hash of its state (``STATS l``, as
an operator), to check that every node ends with the same state.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hubtest import RunningServer, need, start_server
from ircclient import LineClient

#: Short timings for tests: a dead node is reaped within about 1.5 s.
LEASE_MS = 1500
RENEW_MS = 250
STALL_MS = 1000

OPER = ("admin", "secret")


def need_redis() -> str:
    """The redis-server program (skips outside CI when it is missing)."""
    path = shutil.which("redis-server")
    need(path is not None, "redis-server is not installed (apt-get install redis-server)")
    assert path is not None
    return path


class RedisServer:
    """A redis-server of the test's own (see the module docstring)."""

    def __init__(
        self, folder: Path, *, fsync: str | None = None, password: str | None = None
    ) -> None:
        self.program = need_redis()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket = folder / "redis.sock"
        #: "always" or "everysec" keeps an append-only file; None keeps nothing.
        self.fsync = fsync
        #: With a password, clients must AUTH (``requirepass``); the URL has it.
        self.password = password
        self.log = folder / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        """What ``[cluster] redis`` says."""
        auth = f":{self.password}@" if self.password else ""
        return f"unix://{auth}{self.socket}"

    def start(self) -> None:
        """Start it (again, on the same socket) and wait until it answers."""
        durable = ["--appendonly", "yes", "--appendfsync", self.fsync] if self.fsync else [
            "--appendonly", "no"
        ]  # fmt: skip
        auth = ["--requirepass", self.password] if self.password else []
        cmd = [self.program, "--port", "0", "--unixsocket", str(self.socket),
               "--unixsocketperm", "700", "--save", "", *durable, *auth,
               "--dir", str(self.folder)]  # fmt: skip
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.ping():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.02)

    def ping(self) -> bool:
        """Whether it answers PING on its socket."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(0.5)
                s.connect(str(self.socket))
                self._auth(s)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One command in the inline protocol (for checks from the test)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(self.socket))
            self._auth(s)
            s.sendall(" ".join(args).encode() + b"\r\n")
            return s.recv(65536)

    def _auth(self, s: socket.socket) -> None:
        """AUTH on ``s`` when this Redis wants a password."""
        if self.password:
            s.sendall(f"AUTH {self.password}\r\n".encode())
            answer = s.recv(64)
            if not answer.startswith(b"+OK"):
                raise OSError(f"AUTH refused: {answer!r}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT."""
        self.signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, and wait for it to be gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.socket.unlink(missing_ok=True)

    def shutdown(self) -> None:
        """A clean SHUTDOWN (it writes what it must first)."""
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            self.proc.wait(10)

    def wipe(self) -> None:
        """Forget every file it kept (a Redis that comes back empty)."""
        for path in self.folder.iterdir():
            if path.name.startswith("appendonly") or path.suffix == ".rdb":
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def stop(self) -> None:
        """The end of the test."""
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
        self.kill()


#: Nothing kept: cluster mode refuses SQLite (see :func:`postgres_storage`).
NO_STORAGE = "[history]\nenabled = false\n[accounts]\nenabled = false\n"


def postgres_storage(url: str) -> str:
    """History and accounts in the PostgreSQL database at ``url``."""
    return f'[history]\ndatabase = "{url}"\n'


def node_config(
    redis: RedisServer, node: str, extra: str = "",
    timings: tuple[int, int, int] = (LEASE_MS, RENEW_MS, STALL_MS), storage: str = NO_STORAGE,
) -> str:  # fmt: skip
    """The config of node ``node``."""
    lease, renew, stall = timings
    return f"""
[server]
network = "TestNet"
auto_join = ["#lobby"]
{storage}
[limits]
flood_control = false
max_clients_per_ip = 1000
[[operators]]
name = "{OPER[0]}"
password = "{OPER[1]}"
[cluster]
redis = "{redis.url}"
node = "{node}"
lease_ms = {lease}
renew_ms = {renew}
stall_timeout_ms = {stall}
{extra}
"""


@dataclass
class NodeState:
    """A node's place in the log and the hash of its state there."""

    position: int
    digest: str


@dataclass
class Nodes:
    """``hubbub serve`` processes of one cluster (n1, n2, ...)."""

    folder: Path
    redis: RedisServer
    extra: str = ""
    #: lease_ms, renew_ms, stall_timeout_ms of the nodes started from now on.
    timings: tuple[int, int, int] = (LEASE_MS, RENEW_MS, STALL_MS)
    #: Where the nodes started from now on keep history and accounts.
    storage: str = NO_STORAGE
    servers: dict[str, RunningServer] = field(default_factory=dict)
    opers: dict[str, LineClient] = field(default_factory=dict)

    def start(self, node: str) -> RunningServer:
        """Start node ``node`` (its folder is kept across restarts)."""
        sub = self.folder / node
        sub.mkdir(parents=True, exist_ok=True)
        config = node_config(self.redis, node, self.extra, self.timings, self.storage)
        srv = start_server(sub, config)
        self.servers[node] = srv
        return srv

    def __getitem__(self, node: str) -> RunningServer:
        return self.servers[node]

    def oper(self, node: str) -> LineClient:
        """An operator's connection to ``node`` (made once)."""
        client = self.opers.get(node)
        if client is None or client.closed:
            client = self.servers[node].client(f"oper{node}")
            client.send(f"OPER {OPER[0]} {OPER[1]}")
            client.expect("381")
            self.opers[node] = client
        return client

    def state(self, node: str) -> NodeState:
        """``node``'s log position and state hash (STATS l)."""
        client = self.oper(node)
        client.send("STATS l")
        lines = client.collect("219")
        mine = [m for m in lines if m.command == "211" and m.params[-1].startswith("state ")]
        assert mine, [m.to_line() for m in lines]
        words = dict(w.split("=") for w in mine[-1].params[-1].split()[1:])
        return NodeState(int(words["position"]), words["hash"])

    def converged(self, nodes: list[str] | None = None, timeout: float = 10) -> NodeState:
        """Wait until every node (or ``nodes``) is at the same log position
        with the same state hash; that state. Fails with each node's state."""
        names = nodes or [n for n, s in self.servers.items() if s.alive()]
        deadline = time.monotonic() + timeout
        while True:
            states = {n: self.state(n) for n in names}
            positions = {s.position for s in states.values()}
            if len(positions) == 1:
                digests = {s.digest for s in states.values()}
                assert len(digests) == 1, f"same position, different states: {states}"
                return next(iter(states.values()))
            assert time.monotonic() < deadline, f"nodes did not converge: {states}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop every node (SIGTERM) and close the clients."""
        for client in self.opers.values():
            client.close()
        for srv in self.servers.values():
            for c in srv.clients:
                c.close()
            srv.stop()
