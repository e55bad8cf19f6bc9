"""docs/robustness.md's table of inputs, checked row by row against a real
server, over TCP and over WebSocket: the documented answer, and whether the
connection stays. The table is the test's data, so the page cannot drift
from what the server does."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub.protocol import Message, parse_line

from hubtest import RunningServer, start_server
from ircclient import LineClient
from wsclient import RawWSClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "robustness.md"
#: What the page's examples call the server and the client.
DOC_SERVER, DOC_NICK = "irc.example.org", "alice"


@dataclass(frozen=True)
class Row:
    """One input of the table."""

    name: str
    sent: bytes
    answer: str | None  # the line as written, None for "nothing"
    closes: bool

    @property
    def registered(self) -> bool:
        return not self.name.endswith("before registering")


def _bytes_expr(text: str) -> bytes:
    """The value of a bytes expression of the table: literals, ``+``, ``* int``."""

    def value(node: ast.expr) -> bytes | int:
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes | int):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
            left, right = value(node.left), value(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right  # type: ignore[operator]
        raise ValueError(f"not a bytes expression of the table: {text}")

    result = value(ast.parse(text, mode="eval").body)
    assert isinstance(result, bytes)
    return result


def _rows() -> list[Row]:
    """The first table under "What a line gets, input by input"."""
    section = DOC.read_text().split("## What a line gets, input by input", 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1].startswith("`b"):
            if rows and not line.startswith("|"):
                break
            continue
        name, sent, answer, then = cells
        assert then in ("stays", "closed"), line
        code = re.fullmatch(r"`(.*)`", answer)
        rows.append(
            Row(
                name,
                _bytes_expr(sent.strip("`")),
                # The page writes control characters as \xNN escapes.
                code.group(1).encode().decode("unicode_escape") if code else None,
                then == "closed",
            )
        )
    assert len(rows) > 20, "the table was not found in docs/robustness.md"
    return rows


ROWS = _rows()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    srv = start_server(
        tmp_path_factory.mktemp("table"),
        # No auto_join: what a line gets is all a client reads after its welcome.
        "[server]\nauto_join = []\n"
        "[limits]\nmax_clients_per_ip = 1000\nmax_unregistered_per_ip = 1000\n",
        web=True,
    )
    yield srv
    for c in srv.clients:
        c.close()
    srv.stop()
    log = srv.log.read_text()
    assert "Traceback" not in log and "Internal server error" not in log, log[-3000:]


def _connect(server: RunningServer, transport: str) -> LineClient:
    if transport == "tcp":
        client = LineClient("127.0.0.1", server.port)
    else:
        assert server.web_port is not None
        client = RawWSClient(server.web_port)
    server.clients.append(client)
    return client


def _send(client: LineClient, data: bytes) -> None:
    if isinstance(client, RawWSClient):
        # One message per line, without the CR LF; binary when not UTF-8
        # (a text message must be UTF-8 by RFC 6455: see the next table).
        payload = data.removesuffix(b"\r\n")
        try:
            client.send(payload.decode())
        except UnicodeDecodeError:
            client.send_binary(payload)
    else:
        client.send(data)


def _expected(row: Row, nick: str, server: RunningServer) -> Message | None:
    if row.answer is None:
        return None
    text = row.answer.replace(DOC_SERVER, "irc.test.local").replace(DOC_NICK, nick)
    return parse_line(text)


@pytest.mark.parametrize("transport", ["tcp", "websocket"])
@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_each_input_gets_the_documented_answer(
    server: RunningServer, row: Row, transport: str
) -> None:
    nick = f"{DOC_NICK}{ROWS.index(row)}{transport[0]}"
    client = _connect(server, transport)
    if row.registered:
        client.register(nick, user=nick)
    _send(client, row.sent)
    if row.closes:
        got = []
        deadline = time.monotonic() + 10
        while not client.closed:
            assert time.monotonic() < deadline, f"still open; got {got}"
            got += client.quiet(0.2)
    else:
        probe = f"probe{ROWS.index(row)}"
        client.send(f"PING :{probe}")
        got = client.collect("PONG", timeout=10)[:-1]
        assert not client.closed
    expected = _expected(row, nick, server)
    assert got == ([] if expected is None else [expected]), [m.to_line() for m in got]
    client.close()
