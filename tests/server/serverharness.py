"""An in-memory harness for the server: a Server and its clients joined by memory.

Theory of operation
-------------------
:class:`~hubbub.server.server.Server` and :class:`~hubbub.server.session.Session`
never touch asyncio or sockets; they need a *loop* (``time``, ``call_soon``,
``call_later``, ``call_soon_threadsafe``) and, per connection, a *transport*
(``write``, ``get_write_buffer_size``, ``close``, ``abort``, ``pause_reading``,
``resume_reading``). This module provides both as plain objects:

* :class:`FakeLoop` has a manual clock. ``call_soon`` callbacks wait in a queue
  that :meth:`FakeLoop.run` drains; ``call_later`` timers fire only when a test
  calls :meth:`FakeLoop.advance`. ``call_soon_threadsafe`` (how a worker
  thread, e.g. an argon2 password check, hands its result back) is a locked
  queue that ``run`` also drains, and :meth:`FakeLoop.wait_for_threads` blocks
  until something arrives on it.
* :class:`FakeTransport` keeps the bytes the server wrote and records close,
  abort, pause and resume. Its ``buffer_size`` is what the server sees as the
  transport's unsent backlog and its ``kernel_size`` what the kernel holds
  below it (:data:`FAKE_KERNEL`), so a test can play a client that
  stopped reading. Like asyncio's transports with a high-water mark of 0, it
  tells the session when a write leaves its buffer non-empty
  (``held_back``), and :meth:`FakeTransport.drain` empties it (``caught_up``).

A :class:`FakeClient` is the client end and plays the TCP transport's part
too: :meth:`FakeClient.send` frames the bytes into lines (the same
:class:`~hubbub.protocol.LineBuffer` the TCP transport uses), feeds them to
the Session and runs the loop (the server flushes output at the end of
each loop turn, as on asyncio), and :meth:`FakeClient.messages` parses what
the server wrote since the last call. Everything is synchronous, so a test
reads like a transcript and the whole suite runs in a few seconds, in the
spirit of h11's ``ConnectionPair`` (STYLE.md habit 4).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hubbub.config import Config, from_mapping
from hubbub.protocol import LineBuffer, Message, parse_line
from hubbub.protocol.numerics import RPL_WELCOME
from hubbub.server.commands import COMMANDS
from hubbub.server.dispatch import Dispatcher
from hubbub.server.server import Server
from hubbub.server.session import Session
from hubbub.server.state import Channel, User
from hubbub.store.base import HistoryStore
from hubbub.store.sqlite.accounts import SQLiteAccountStore, SQLiteChannelStore
from hubbub.store.sqlite.database import Database

__all__ = [
    "DEFAULT_CONFIG",
    "FAKE_KERNEL",
    "NO_HISTORY",
    "FakeClient",
    "FakeLoop",
    "FakeTransport",
    "Handle",
    "Harness",
    "LaterBus",
    "commands",
    "find",
    "find_all",
    "params_of",
]

T = TypeVar("T")

#: The harness's base config: a fixed name, no auto_join (tests choose their
#: channels), no flood control (tests send bursts; the flood tests turn it on).
DEFAULT_CONFIG: dict[str, Any] = {
    "server": {"name": "irc.test", "network": "TestNet", "auto_join": []},
    "limits": {"flood_control": False},
}

NO_HISTORY: dict[str, Any] = {"history": {"enabled": False}}

#: ``FakeLoop.run`` gives up after this many callbacks in one drain: a
#: callback that keeps rescheduling itself is a bug, not a reason to hang.
MAX_CALLBACKS_PER_RUN = 1_000_000


class Handle:
    """What ``call_soon``/``call_later`` return: a callback that can be cancelled."""

    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run this callback."""
        self.cancelled = True

    def run(self) -> None:
        """Run the callback unless it was cancelled."""
        if not self.cancelled:
            self.callback(*self.args)


class FakeLoop:
    """A loop with a manual clock: nothing runs until the test says so."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self._ready: deque[Handle] = deque()
        self._timers: list[tuple[float, int, Handle]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._threadsafe: deque[Handle] = deque()
        self._arrived = threading.Event()

    # --- the Loop interface the server uses ---------------------------------

    def time(self) -> float:
        """The manual clock."""
        return self.now

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> Handle:
        """Queue ``callback`` for the next :meth:`run`."""
        handle = Handle(self.now, callback, args)
        self._ready.append(handle)
        return handle

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback`` when :meth:`advance` passes ``now + delay``."""
        return self.call_at(self.now + max(0.0, delay), callback, *args)

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback`` when :meth:`advance` passes ``when``."""
        handle = Handle(when, callback, args)
        heapq.heappush(self._timers, (when, next(self._seq), handle))
        return handle

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any) -> Handle:
        """Queue ``callback`` from any thread; :meth:`run` picks it up."""
        handle = Handle(self.now, callback, args)
        with self._lock:
            self._threadsafe.append(handle)
        self._arrived.set()
        return handle

    # --- driving it from a test ---------------------------------------------

    def run(self) -> None:
        """Run every queued callback, and those they queue, until none is left."""
        for _ in range(MAX_CALLBACKS_PER_RUN):
            if not self._ready:
                self._take_threadsafe()
                if not self._ready:
                    return
            self._ready.popleft().run()
        raise RuntimeError("FakeLoop.run: callbacks keep scheduling callbacks")

    def advance(self, seconds: float) -> None:
        """Move the clock forward, firing due timers in order (and running
        what each one queues) as the clock passes them."""
        target = self.now + seconds
        self.run()
        while self._timers and self._timers[0][0] <= target:
            when, _, handle = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            handle.run()
            self.run()
        self.now = target
        self.run()

    def wait_for_threads(self, timeout: float = 10.0) -> None:
        """Block until a worker thread hands back a callback not yet taken by
        :meth:`run`, then run it. (To wait for the server's own jobs, use
        :meth:`Harness.settle`, which cannot miss one that came back early.)"""
        if not self._arrived.wait(timeout):
            raise TimeoutError("no call_soon_threadsafe callback arrived")
        self.run()

    @property
    def pending_timers(self) -> int:
        """Timers not yet fired nor cancelled."""
        return sum(1 for _, _, h in self._timers if not h.cancelled)

    def _take_threadsafe(self) -> None:
        with self._lock:
            self._ready.extend(self._threadsafe)
            self._threadsafe.clear()
            self._arrived.clear()


class LaterBus:
    """A bus that hands events back at the next loop turn, as a log between
    processes does (later, and in order): the handlers must give the same
    answers as on the local bus. ``HUBBUB_TEST_BUS=later`` runs every
    harness on it."""

    synchronous = False

    def __init__(self, loop: FakeLoop) -> None:
        self.loop = loop
        self.queued: list[Any] = []
        self.receiver: Callable[[Any], None] | None = None
        self.appended = 0

    def attach(self, receiver: Callable[[Any], None]) -> None:
        self.receiver = receiver

    def append(self, event: Any) -> None:
        self.appended += 1
        if not self.queued:
            self.loop.call_soon(self._hand_back)
        self.queued.append(event)

    def _hand_back(self) -> None:
        queued, self.queued = self.queued, []
        assert self.receiver is not None
        for event in queued:
            self.receiver(event)

    def close(self) -> None:
        self.receiver = None


#: Which bus harnesses use: "local" (the default) or "later" (:class:`LaterBus`).
TEST_BUS = os.environ.get("HUBBUB_TEST_BUS", "local")


class FakeTransport:
    """Collects what the server writes; records what it does to the connection."""

    def __init__(self) -> None:
        self.data = bytearray()
        #: What ``get_write_buffer_size`` reports: raise it to play a stuck reader.
        self.buffer_size = 0
        self.closed = False
        self.aborted = False
        self.paused = False
        self.pauses = 0
        self.resumes = 0
        self.writes = 0
        #: Bytes written after close/abort (a real transport would drop them).
        self.written_after_close = 0
        #: What the kernel holds for the peer, as ``kernel_backlog`` reports it.
        self.kernel_size = 0
        #: How often the server asked the kernel (it should only when lagging).
        self.kernel_looks = 0
        #: The server had the kernel drop its queue (a sendq overflow).
        self.kernel_dropped = False
        #: The session to tell when writing backs up (set by Harness.connect).
        self.session: Session | None = None
        self.writing_paused = False

    def write(self, data: bytes) -> None:
        """Keep ``data`` for the client to read."""
        if self.closed or self.aborted:
            self.written_after_close += len(data)
            return
        self.writes += 1
        self.data += data
        if self.buffer_size > 0 and not self.writing_paused and self.session is not None:
            self.writing_paused = True
            self.session.held_back()

    def drain(self) -> None:
        """The client read everything: the transport's buffer is empty."""
        self.buffer_size = 0
        if self.writing_paused and self.session is not None:
            self.writing_paused = False
            self.session.caught_up()

    def get_write_buffer_size(self) -> int:
        """The simulated transport backlog."""
        return self.buffer_size

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """No socket here."""
        return default

    def close(self) -> None:
        """Close after flushing (what the server does after ERROR)."""
        self.closed = True

    def abort(self) -> None:
        """Close at once (what the server does to a stuck client)."""
        self.aborted = True

    def pause_reading(self) -> None:
        """Flood control stopped reading."""
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        """Flood control reads again."""
        self.paused = False
        self.resumes += 1

    def take(self) -> bytes:
        """Everything written since the last take."""
        out = bytes(self.data)
        self.data.clear()
        return out


class FakeKernel:
    """The kernel below a FakeTransport: ``kernel_size`` is what it holds."""

    def held(self, transport: Any) -> int:
        """What the kernel holds (and count the look)."""
        assert isinstance(transport, FakeTransport)
        transport.kernel_looks += 1
        return transport.kernel_size

    def drop(self, transport: Any) -> None:
        """The kernel's queue is dropped at the abort that follows."""
        assert isinstance(transport, FakeTransport)
        transport.kernel_dropped = True


FAKE_KERNEL = FakeKernel()


class FakeClient:
    """The client end of one in-memory connection."""

    def __init__(self, harness: Harness, transport: FakeTransport, session: Session) -> None:
        self.harness = harness
        self.transport = transport
        self.session = session
        self.framing = LineBuffer()
        self._partial = b""

    # --- talking ------------------------------------------------------------

    def send(self, *lines: str) -> None:
        """Send each line (CR LF added) in one chunk, then run the loop."""
        self.send_bytes(b"".join(line.encode() + b"\r\n" for line in lines))

    def send_bytes(self, data: bytes) -> None:
        """Feed raw bytes to the server, then run the loop."""
        self.session.receive(self.framing.feed(data))
        self.harness.loop.run()

    def feed(self, *lines: str) -> None:
        """Hand ``lines`` to the server without running the loop: what two
        clients feed before the loop runs happens in the same loop turn
        (a race, on a cluster)."""
        data = b"".join(line.encode() + b"\r\n" for line in lines)
        self.session.receive(self.framing.feed(data))

    def lines(self) -> list[str]:
        """The lines the server wrote since the last read (loop run first)."""
        self.harness.loop.run()
        data = self._partial + self.transport.take()
        *complete, self._partial = data.split(b"\r\n")
        return [line.decode("utf-8") for line in complete]

    def messages(self) -> list[Message]:
        """The messages the server wrote since the last read, parsed."""
        return [parse_line(line) for line in self.lines()]

    def ask(self, *lines: str) -> list[Message]:
        """Send ``lines`` and return what came back."""
        self.messages()
        self.send(*lines)
        return self.messages()

    # --- registration -------------------------------------------------------

    def register(
        self, nick: str, *, user: str = "user", realname: str = "Real Name"
    ) -> list[Message]:
        """NICK and USER (and CAP END if negotiating); the welcome burst."""
        self.send(f"NICK {nick}", f"USER {user} 0 * :{realname}")
        reg = self.session.registration
        if reg is not None and reg.cap_negotiating:
            self.send("CAP END")
        self.harness.settle()  # the auto_join replay may be fetched on a thread
        msgs = self.messages()
        if not any(m.command == RPL_WELCOME for m in msgs):
            raise AssertionError(f"{nick} did not register: {[m.to_line() for m in msgs]}")
        return msgs

    def request_caps(self, caps: Iterable[str]) -> list[Message]:
        """CAP LS 302 and CAP REQ (negotiation stays open before registration)."""
        wanted = " ".join(caps)
        msgs = self.ask("CAP LS 302", f"CAP REQ :{wanted}")
        acks = [m for m in msgs if m.command == "CAP" and m.params[1] == "ACK"]
        if not acks:
            raise AssertionError(f"CAP REQ {wanted!r} refused: {[m.to_line() for m in msgs]}")
        return msgs

    # --- state as the server sees it ----------------------------------------

    @property
    def nick(self) -> str:
        """The nick the server knows this client by."""
        return self.session.display_nick

    @property
    def user(self) -> User:
        """The server's User for this client (registered clients only)."""
        assert self.session.user is not None, "client is not registered"
        return self.session.user

    @property
    def closed(self) -> bool:
        """True once the server closed or aborted the connection."""
        return self.transport.closed or self.transport.aborted

    def disconnect(self) -> None:
        """The client goes away without QUIT (the socket closes)."""
        self.session.connection_lost()
        self.harness.loop.run()

    def __repr__(self) -> str:
        return f"<FakeClient {self.nick}>"


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class Harness:
    """A Server on a :class:`FakeLoop` and the clients connected to it.

    Without a ``history`` store, the server keeps no history and offers none.
    With a ``database`` path, accounts and registered channels are kept in
    a real embedded database there (a second Harness on the same path is
    the same server after a restart); without one, accounts are off.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        history: HistoryStore | None = None,
        database: Path | None = None,
        bus: Any = None,
        loop: FakeLoop | None = None,
    ) -> None:
        base = DEFAULT_CONFIG if history is not None else _merge(DEFAULT_CONFIG, NO_HISTORY)
        self.config: Config = from_mapping(_merge(base, config or {}))
        self.loop = loop or FakeLoop()
        self.db = Database.open(database) if database is not None else None
        stores: dict[str, Any] = {}
        if self.db is not None:
            stores = {"accounts": SQLiteAccountStore(self.db),
                      "channels": SQLiteChannelStore(self.db)}  # fmt: skip
        if bus is None and TEST_BUS == "later":
            bus = LaterBus(self.loop)
        self.server = Server(self.config, self.loop, history=history, bus=bus, **stores)
        self.server.kernel = FAKE_KERNEL
        self.dispatcher = Dispatcher(self.server, COMMANDS)
        self.server.dispatch = self.dispatcher.run
        self.clients: list[FakeClient] = []
        self.stopped = 0
        #: Worker-thread jobs (argon2 checks) whose answer has not run yet.
        self.pending_jobs = 0

        def stop() -> None:
            self.stopped += 1

        # What the app would do on DIE: here, count it.
        self.server.stop = stop
        # Count worker jobs, so settle() knows when every answer is back.
        self.server.run_blocking = self._counted(self.server.run_blocking)  # type: ignore[method-assign]
        self.server.run_hashing = self._counted(self.server.run_hashing)  # type: ignore[method-assign]
        # What the server published as it started (its rooms) comes back.
        self.loop.run()

    def _counted(
        self, run: Callable[[Callable[[], Any], Callable[[Any], None]], None]
    ) -> Callable[[Callable[[], Any], Callable[[Any], None]], None]:
        def run_counted(fn: Callable[[], T], then: Callable[[T], None]) -> None:
            self.pending_jobs += 1

            def answer(result: T) -> None:
                self.pending_jobs -= 1
                then(result)

            run(fn, answer)

        return run_counted

    def connect(
        self,
        nick: str | None = None,
        caps: Iterable[str] = (),
        ip: str = "10.0.0.1",
        *,
        user: str = "user",
        realname: str = "Real Name",
        tls: bool = False,
        certfp: str | None = None,
    ) -> FakeClient:
        """A new client; registered as ``nick`` (its burst read) when given,
        with ``caps`` requested first."""
        transport = FakeTransport()
        session = self.server.accept(transport, ip, tls=tls, certfp=certfp)
        if session is None:
            raise ConnectionRefusedError(transport.take().decode())
        transport.session = session
        client = FakeClient(self, transport, session)
        self.clients.append(client)
        caps = tuple(caps)
        if caps:
            client.request_caps(caps)
        if nick is not None:
            client.register(nick, user=user, realname=realname)
            client.messages()
        return client

    def join(self, channel: str, *clients: FakeClient) -> None:
        """Each client JOINs ``channel`` in order (the first creates it and is
        op); then everyone's pending output is read and dropped."""
        for client in clients:
            client.send(f"JOIN {channel}")
        self.settle()  # a replay on join is fetched on a worker thread
        self.drain()

    def drain(self) -> None:
        """Read and drop every client's pending output."""
        self.loop.run()
        for client in self.clients:
            client.messages()

    def channel(self, name: str) -> Channel | None:
        """The server's channel ``name``, if it exists."""
        return self.server.network.channel(name)

    def run(self) -> None:
        """Run the loop until it is idle."""
        self.loop.run()

    def advance(self, seconds: float) -> None:
        """Move the clock (timers fire)."""
        self.loop.advance(seconds)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every worker-thread job has answered on the loop.

        A job may finish before or after the test looks, so waiting for "the
        next threadsafe callback" would race; counting the jobs does not.
        """
        deadline = time.monotonic() + timeout
        self.loop.run()
        while self.pending_jobs:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.pending_jobs} worker job(s) never answered")
            self.loop.wait_for_threads(timeout=left)

    def close(self) -> None:
        """Stop the worker threads the server may have started (and close the database)."""
        self.server.close()
        if self.db is not None:
            self.db.close()
            self.db = None


# --- reading replies ---------------------------------------------------------


def commands(msgs: Iterable[Message]) -> list[str]:
    """The command (or numeric) of each message, in order."""
    return [m.command for m in msgs]


def find_all(msgs: Iterable[Message], command: str) -> list[Message]:
    """Every message with ``command``."""
    return [m for m in msgs if m.command == command]


def find(msgs: Sequence[Message], command: str) -> Message:
    """The one message with ``command``; fails if there is none or several."""
    found = find_all(msgs, command)
    if len(found) != 1:
        lines = [m.to_line() for m in msgs]
        raise AssertionError(f"expected one {command}, got {len(found)} in {lines}")
    return found[0]


def params_of(msgs: Iterable[Message], command: str) -> list[tuple[str, ...]]:
    """The params of every message with ``command``."""
    return [m.params for m in msgs if m.command == command]


#: Sources of the standard fixtures' clients (tests/server/conftest.py).
ALICE = "alice!~user@10.0.0.1"
BOB = "bob!~user@10.0.0.2"
