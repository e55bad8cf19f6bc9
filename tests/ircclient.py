"""A small blocking IRC client for tests: send lines, wait for messages.

Deliberately simple (a socket and a deadline), so that a test failure is
about the server, not the test's client. Parsing uses hubbub.protocol, which
has its own tests against the public vectors.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Iterable

from hubbub.auth.chunks import encode_chunks
from hubbub.auth.scram import ScramClient
from hubbub.protocol import LineBuffer, Message, decode, parse_line


class Closed(Exception):
    """The server closed the connection."""


class LineClient:
    """One test connection to a server."""

    def __init__(
        self, host: str, port: int, *, timeout: float = 5.0, sock: socket.socket | None = None
    ) -> None:
        """Connect to ``host:port``, or talk over ``sock`` (already connected)."""
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.lines = LineBuffer()
        self.inbox: list[Message] = []
        self.closed = False
        self.nick: str | None = None
        #: Bytes received so far, as they came off the socket.
        self.bytes_read = 0

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.sock.sendall(data if data.endswith(b"\n") else data + b"\r\n")

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise
        except OSError as exc:
            self.closed = True
            raise Closed(str(exc)) from None
        if not data:
            self.closed = True
            raise Closed("EOF")
        self.bytes_read += len(data)
        self._received(data)

    def _received(self, data: bytes) -> None:
        """Bytes off the socket: the lines they complete go to the inbox."""
        for raw in self.lines.feed(data):
            assert isinstance(raw, bytes)
            self.inbox.append(parse_line(decode(raw)[0]))

    def wait_for(
        self, pred: Callable[[Message], bool], timeout: float | None = None
    ) -> tuple[Message, list[Message]]:
        """Return the first message matching ``pred`` and those before it."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            for i, msg in enumerate(self.inbox):
                if pred(msg):
                    before = self.inbox[:i]
                    del self.inbox[: i + 1]
                    return msg, before
            try:
                self._fill(deadline)
            except TimeoutError:
                raise AssertionError(
                    f"timed out; got: {[m.to_line() for m in self.inbox][-15:]}"
                ) from None

    def expect(self, command: str, *params: str, timeout: float | None = None) -> Message:
        """Wait for ``command`` whose leading params equal ``params``."""
        def match(m: Message) -> bool:
            return m.command == command and tuple(m.params[: len(params)]) == params

        return self.wait_for(match, timeout)[0]

    def offered_caps(self) -> list[str]:
        """Send ``CAP LS 302``; the tokens offered, across continuation lines."""
        self.send("CAP LS 302")
        tokens: list[str] = []
        while True:
            msg = self.expect("CAP")
            if msg.params[1:2] != ("LS",):
                continue
            tokens += msg.params[-1].split()
            if msg.params[2] != "*":  # "CAP * LS * :..." says more lines follow
                return tokens

    def collect(self, until: str, timeout: float | None = None) -> list[Message]:
        """All messages up to and including the first ``until`` command."""
        msg, before = self.wait_for(lambda m: m.command == until, timeout)
        return [*before, msg]

    def quiet(self, seconds: float = 0.3) -> list[Message]:
        """Everything that arrives within ``seconds`` (for 'nothing came' checks)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._fill(deadline)
        except (TimeoutError, Closed):
            pass
        out, self.inbox = self.inbox, []
        return out

    def register(self, nick: str, caps: Iterable[str] = (), user: str = "test") -> list[Message]:
        """NICK/USER (and CAP REQ if ``caps``); returns the burst up to the
        end of the MOTD (376 or 422)."""
        caps = list(caps)
        if caps:
            self.send("CAP LS 302")
        self.send(f"NICK {nick}")
        self.send(f"USER {user} 0 * :Test User {nick}")
        if caps:
            self.send("CAP REQ :" + " ".join(caps))
            self.expect("CAP")  # LS
            ack = self.wait_for(lambda m: m.command == "CAP" and m.params[1] in ("ACK", "NAK"))[0]
            assert ack.params[1] == "ACK", ack
            self.send("CAP END")
        burst = self.collect("001")
        end, before = self.wait_for(lambda m: m.command in ("376", "422"))
        burst += [*before, end]
        self.nick = nick
        return burst

    def authenticate(self, mechanism: str, account: str = "", password: str = "") -> Message:
        """A whole SASL exchange (the ``sasl`` capability already ACKed):
        PLAIN, SCRAM-SHA-256 or EXTERNAL. Returns the closing numeric (903
        on success, 904/905/906 otherwise)."""
        done = ("903", "904", "905", "906")
        self.send(f"AUTHENTICATE {mechanism}")
        self.expect("AUTHENTICATE", "+")
        if mechanism == "PLAIN":
            self._payload(f"\0{account}\0{password}".encode())
        elif mechanism == "EXTERNAL":
            self._payload(account.encode())
        else:
            scram = ScramClient(account, password)
            self._payload(scram.first())
            challenge = self._challenge(done)
            if isinstance(challenge, Message):
                return challenge
            self._payload(scram.final(challenge))
            final = self._challenge(done)
            if isinstance(final, Message):
                return final
            assert scram.verify(final), "the server did not prove it knows the keys"
            self.send("AUTHENTICATE +")
        return self.wait_for(lambda m: m.command in done)[0]

    def _payload(self, data: bytes) -> None:
        for chunk in encode_chunks(data):
            self.send(f"AUTHENTICATE {chunk}")

    def _challenge(self, done: tuple[str, ...]) -> bytes | Message:
        parts = []
        while True:
            msg = self.wait_for(lambda m: m.command == "AUTHENTICATE" or m.command in done)[0]
            if msg.command != "AUTHENTICATE":
                return msg
            if msg.params[0] != "+":
                parts.append(msg.params[0])
            if len(msg.params[0]) < 400:
                return base64.b64decode("".join(parts))

    def close(self) -> None:
        self.sock.close()
