"""A member that stops reading is cut off once ``sendq_bytes`` of output
waits for it, counting what the server's kernel holds, while the others keep
receiving everything in order.

The outcome must not depend on how much this machine's kernel buffers: Linux
grows a socket's send buffer up to ``tcp_wmem``'s maximum (4 MB by default)
for a peer that does not read, and a server that counts only its own buffer
keeps such a client for megabytes. So the test measures what the server
held rather than trusting any buffer size. When the listener sees the stuck
client's QUIT, the test asks the stuck client's kernel how many bytes had
reached it (FIONREAD); every line the server accepted for it before the
QUIT beyond those was held by the server, its kernel included. That must
be about ``sendq_bytes``. And the server must let go of it: reading on after
the cut yields what had arrived and then the reset, nothing more (a server
that merely closes its socket leaves its kernel delivering the rest).
"""

from __future__ import annotations

import fcntl
import socket
import struct
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass

from websockets.frames import Frame, Opcode

from hubtest import ServerFactory
from ircclient import LineClient
from wsclient import RawWSClient

SENDQ = 32_768
#: Lines the talker sends before it waits for the listener to have them: the
#: server cuts the stuck client within one batch of the limit.
BATCH = 8
PAD = "x" * 400
CONFIG = f"[limits]\nsendq_bytes = {SENDQ}\nflood_control = false\n"


@dataclass
class Cut:
    """What the listener saw: every number in order, and where the QUIT came."""

    sent: int
    heard: list[int]
    #: PRIVMSGs the listener had before the stuck client's QUIT.
    quit_at: int
    reason: str
    #: The relayed lines as the listener saw them (the stuck client got the same).
    texts: list[str]
    source: str
    #: Bytes that had reached the stuck client's kernel when the QUIT came.
    arrived: int


def _arrived(sock: socket.socket) -> int:
    """Bytes waiting unread in a socket's receive queue."""
    return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0])


def _talk_until_cut(talker: LineClient, listener: LineClient, stuck: LineClient) -> Cut:
    """Talk in #lobby until ``stuck`` is cut off, batch by batch."""
    sent, heard, texts = 0, [], []
    quit_at, reason, source = None, "", ""
    deadline = time.monotonic() + 60
    while quit_at is None:
        assert time.monotonic() < deadline, (
            f"{stuck.nick} was never cut off: {sent} lines of about {len(PAD)} bytes sent"
        )
        for _ in range(BATCH):
            talker.send(f"PRIVMSG #lobby :{sent} {PAD}")
            sent += 1
        while len(heard) < sent:
            m = listener.wait_for(lambda m: m.command in ("PRIVMSG", "QUIT"), timeout=10)[0]
            if m.command == "PRIVMSG":
                heard.append(int(m.params[1].split()[0]))
                texts.append(m.params[1])
                source = m.source or ""
            elif m.source and m.source.startswith(f"{stuck.nick}!"):
                quit_at, reason = len(heard), m.params[0]
                arrived = _arrived(stuck.sock)
    # The others lost nothing, in order, and hear what comes after at once.
    talker.send("PRIVMSG #lobby :after the cut")
    assert listener.expect("PRIVMSG", "#lobby", timeout=2).params[1] == "after the cut"
    assert heard == list(range(sent))
    return Cut(sent, heard, quit_at, reason, texts, source, arrived)


def _read_until_closed(client: LineClient, cut: Cut) -> list[int]:
    """The numbers of the PRIVMSGs the stuck client had when it was cut off;
    checks that nothing more came after that."""
    got: list[int] = []
    before, arrived = client.bytes_read, cut.arrived
    deadline = time.monotonic() + 10
    while not client.closed:
        assert time.monotonic() < deadline, (
            f"the stuck connection is still open, {client.bytes_read - before} bytes read since"
        )
        got += [int(m.params[1].split()[0]) for m in client.quiet(0.2) if m.command == "PRIVMSG"]
    after = client.bytes_read - before
    assert after <= arrived + len(PAD), (
        f"the server went on delivering after the cut: {after} bytes read since, "
        f"{arrived} had arrived when the QUIT came"
    )
    return got


def _check_held(cut: Cut, received: list[int], wire_size: Callable[[str], int]) -> int:
    """What the server held for the stuck client when it cut it off: the
    lines it accepted before the QUIT that never reached the client."""
    assert cut.reason == "SendQ exceeded"
    assert received == list(range(len(received))), "the stuck client's lines are not in order"
    held = sum(wire_size(text) for text in cut.texts[len(received) : cut.quit_at])
    line = wire_size(cut.texts[0])
    report = (
        f"held {held} bytes for the stuck client at the cut (sendq_bytes {SENDQ}); "
        f"{len(received)} lines ({cut.arrived} bytes) had reached it, {cut.quit_at} were "
        "sent before its QUIT"
    )
    print(report)
    # Cut once the sendq is passed (within one batch of lines), not later...
    assert held <= SENDQ + BATCH * line, report
    # ...and not before. The server's kernel keeps what reached the client
    # until the client acknowledges it (which a client that does not read
    # may put off), so the server may count some of what arrived too: the
    # sendq was passed counting at most that.
    assert held + cut.arrived >= SENDQ - 2 * line, report
    return held


def test_a_member_that_stops_reading_is_cut_at_the_sendq_whatever_the_kernel_buffers(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(CONFIG)
    stuck = server.client("stuck")  # registered and in #lobby; never reads again
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    talker = server.client("talker")
    listener = server.client("listener")
    listener.expect("JOIN", "#lobby")  # its own: talker's came before it
    cut = _talk_until_cut(talker, listener, stuck)
    received = _read_until_closed(stuck, cut)
    _check_held(cut, received, lambda text: len(f":{cut.source} PRIVMSG #lobby :{text}\r\n"))
    assert server.alive()
    # The operator can see why the client vanished.
    server.wait_for_log("stuck!~test@127.0.0.1 disconnected: SendQ exceeded")


def test_a_websocket_member_that_stops_reading_is_cut_at_the_sendq(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(CONFIG, web=True)
    assert server.web_port is not None
    stuck = RawWSClient(server.web_port, rcvbuf=4096)  # reads only when asked
    server.clients.append(stuck)
    stuck.register("stuck")
    talker = server.client("talker")
    listener = server.client("listener")
    listener.expect("JOIN", "#lobby")
    cut = _talk_until_cut(talker, listener, stuck)
    received = _read_until_closed(stuck, cut)

    def frame_size(text: str) -> int:
        line = f":{cut.source} PRIVMSG #lobby :{text}".encode()
        return len(Frame(Opcode.TEXT, line).serialize(mask=False))

    _check_held(cut, received, frame_size)
    assert server.alive()


def test_a_reader_that_keeps_up_is_never_cut(server_factory: ServerFactory) -> None:
    """The bounded kernel buffer costs a client that keeps reading nothing:
    ten times the sendq through it, and it stays."""
    server = server_factory(CONFIG)
    reader = server.client("reader")
    talker = server.client("talker")
    reader.expect("JOIN", "#lobby")
    got: list[int] = []
    lines = 10 * SENDQ // len(PAD)
    for start in range(0, lines, BATCH):
        for i in range(start, start + BATCH):
            talker.send(f"PRIVMSG #lobby :{i} {PAD}")
        while len(got) < start + BATCH:
            m = reader.wait_for(lambda m: m.command in ("PRIVMSG", "ERROR"))[0]
            assert m.command == "PRIVMSG", m
            got.append(int(m.params[1].split()[0]))
    assert got == list(range(len(got)))
    assert len(got) * len(PAD) > 10 * SENDQ - BATCH * len(PAD)
