"""Helpers for account tests on the in-memory harness: a harness with a
real database, registering accounts, logging in with SASL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hubbub.auth.chunks import encode_chunks
from hubbub.auth.scram import ScramClient
from hubbub.protocol import Message

from serverharness import FakeClient, Harness, commands

PASSWORD = "correct-horse"


def accounts_harness(tmp_path: Path, config: dict[str, Any] | None = None) -> Iterator[Harness]:
    """For a fixture: a harness whose accounts live in a real database in
    ``tmp_path`` (closed after the test)."""
    harness = Harness(config, database=tmp_path / "hubbub.sqlite3")
    yield harness
    harness.close()


def ask(h: Harness, client: FakeClient, *lines: str) -> list[Message]:
    """Send ``lines``, wait for the worker threads, return what came back."""
    client.messages()
    client.send(*lines)
    h.settle()
    return client.messages()


def register(h: Harness, nick: str, password: str = PASSWORD, ip: str = "10.9.0.1") -> None:
    """Register the account ``nick`` (with REGISTER) and disconnect."""
    client = h.connect(nick, ip=ip)
    reply = ask(h, client, f"REGISTER * * {password}")
    assert "REGISTER" in commands(reply), [m.to_line() for m in reply]
    client.disconnect()


def plain(account: str, password: str, authzid: str = "") -> str:
    """A SASL PLAIN payload (one chunk)."""
    return base64.b64encode(f"{authzid}\0{account}\0{password}".encode()).decode()


def sasl_client(h: Harness, ip: str = "10.0.0.7", **kw: Any) -> FakeClient:
    """A client that negotiated ``sasl`` and is not registered yet."""
    client = h.connect(ip=ip, **kw)
    client.request_caps(["sasl"])
    return client


def login_plain(h: Harness, client: FakeClient, account: str, password: str) -> list[Message]:
    """AUTHENTICATE PLAIN with these credentials; the replies."""
    ask(h, client, "AUTHENTICATE PLAIN")
    return ask(h, client, f"AUTHENTICATE {plain(account, password)}")


def login_scram(h: Harness, client: FakeClient, account: str, password: str) -> list[Message]:
    """A whole SCRAM-SHA-256 exchange; the replies of its last step."""
    scram = ScramClient(account, password)
    ask(h, client, "AUTHENTICATE SCRAM-SHA-256")
    msgs = ask(h, client, *(f"AUTHENTICATE {c}" for c in encode_chunks(scram.first())))
    challenge = _payload(msgs)
    if challenge is None:
        return msgs
    msgs = ask(h, client, *(f"AUTHENTICATE {c}" for c in encode_chunks(scram.final(challenge))))
    final = _payload(msgs)
    if final is None:
        return msgs
    assert scram.verify(final), "the server did not prove it knows the keys"
    return ask(h, client, "AUTHENTICATE +")


def _payload(msgs: list[Message]) -> bytes | None:
    parts = [m.params[0] for m in msgs if m.command == "AUTHENTICATE"]
    if not parts:
        return None
    return base64.b64decode("".join(p for p in parts if p != "+"))
