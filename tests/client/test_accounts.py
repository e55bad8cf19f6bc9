"""The client's accounts: SASL login (SCRAM-SHA-256 preferred, PLAIN), its
failures, registering, and who is logged in to what — first sans-I/O against
scripted server lines, then the library and `hubbub chat --plain --account`
against a real hubbub."""

from __future__ import annotations

import asyncio
import base64
import os
import sys

from hubbub.auth.scram import ScramServer, derive, parse_client_first
from hubbub.client import Client, ClientSession
from hubbub.client import events as ev
from hubbub.client.accounts import Credentials

from .conftest import RunningServer
from .test_plain import Proc
from .test_session import FIXED, feed, sent
from .test_session import make as new_session

ALICE = Credentials("alice", "correct-horse")


def make(**kwargs: object) -> ClientSession:
    """alice's session, connected, with what it says first already taken."""
    session = new_session("alice", **kwargs)
    session.data_to_send()
    return session


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_plain_login_happens_before_cap_end() -> None:
    session = make(credentials=ALICE)
    feed(session, ":srv CAP * LS :sasl=PLAIN server-time")
    assert sent(session) == ["CAP REQ :sasl server-time"]
    feed(session, ":srv CAP * ACK :sasl server-time")
    assert sent(session) == ["AUTHENTICATE PLAIN"]  # no CAP END yet
    feed(session, "AUTHENTICATE +")
    assert sent(session) == ["AUTHENTICATE " + b64(b"alice\0alice\0correct-horse")]
    events = feed(session, ":srv 900 * *!*@h alice :You are now logged in as alice",
                  ":srv 903 * :SASL authentication successful")  # fmt: skip
    assert events == [ev.LoggedIn("alice", "You are now logged in as alice", FIXED)]
    assert sent(session) == ["CAP END"]
    assert session.state.account == "alice"


def test_scram_is_preferred_and_checks_the_server() -> None:
    session = make(credentials=ALICE)
    feed(session, ":srv CAP * LS :sasl=PLAIN,SCRAM-SHA-256")
    feed(session, ":srv CAP * ACK :sasl")
    assert sent(session)[-1] == "AUTHENTICATE SCRAM-SHA-256"
    feed(session, "AUTHENTICATE +")
    first = base64.b64decode(sent(session)[0].split(" ")[1])
    server = ScramServer(parse_client_first(first), derive("correct-horse"))
    feed(session, "AUTHENTICATE " + b64(server.server_first.encode()))
    final = base64.b64decode(sent(session)[0].split(" ")[1])
    verdict = server.final(final)
    assert verdict is not None  # the client proved the password without sending it
    assert b"correct-horse" not in first + final
    feed(session, "AUTHENTICATE " + b64(verdict.encode()))
    assert sent(session) == ["AUTHENTICATE +"]
    # A server that cannot prove it knows the keys is left at once.
    other = make(credentials=ALICE)
    feed(other, ":srv CAP * LS :sasl=SCRAM-SHA-256", ":srv CAP * ACK :sasl", "AUTHENTICATE +")
    first = base64.b64decode(sent(other)[-1].split(" ")[1])
    liar = ScramServer(parse_client_first(first), derive("correct-horse"))
    feed(other, "AUTHENTICATE " + b64(liar.server_first.encode()))
    sent(other)
    events = feed(other, "AUTHENTICATE " + b64(b"v=" + b64(b"x" * 32).encode()))
    assert sent(other) == ["AUTHENTICATE *", "CAP END"]
    assert isinstance(events[0], ev.LoginFailed)


def test_a_failed_login_is_reported_and_registration_goes_on() -> None:
    session = make(credentials=ALICE)
    feed(session, ":srv CAP * LS :sasl", ":srv CAP * ACK :sasl", "AUTHENTICATE +")
    sent(session)
    events = feed(session, ":srv 904 * :SASL authentication failed")
    assert events == [ev.LoginFailed("SASL authentication failed")]
    assert sent(session) == ["CAP END"]


def test_a_refused_mechanism_falls_back_to_the_next() -> None:
    session = make(credentials=ALICE)
    feed(session, ":srv CAP * LS :sasl", ":srv CAP * ACK :sasl")
    assert sent(session) == ["CAP REQ sasl", "AUTHENTICATE SCRAM-SHA-256"]
    feed(session, ":srv 908 * PLAIN :are available SASL mechanisms",
         ":srv 904 * :SASL authentication failed")  # fmt: skip
    assert sent(session) == ["AUTHENTICATE PLAIN"]


def test_without_credentials_sasl_is_not_requested() -> None:
    session = make()
    feed(session, ":srv CAP * LS :sasl=PLAIN server-time")
    assert sent(session) == ["CAP REQ server-time"]


def test_accounts_of_members_from_join_account_and_whox() -> None:
    session = make()
    feed(session, ":srv CAP * LS :extended-join account-notify",
         ":srv CAP * ACK :extended-join account-notify",
         ":srv 001 alice :hi", ":srv 005 alice WHOX :are supported",
         ":alice!a@h JOIN #tea * :Alice", ":srv 353 alice = #tea :alice bob carol",
         ":srv 366 alice #tea :End")  # fmt: skip
    assert sent(session)[-1] == "WHO #tea %tna,174"
    feed(session, ":srv 354 alice 174 bob bobby", ":srv 354 alice 174 carol 0",
         ":dave!d@h JOIN #tea dave :Dave")  # fmt: skip
    members = {m.nick: m.account for m in session.state.members("#tea")}
    assert members == {"alice": None, "bob": "bobby", "carol": None, "dave": "dave"}
    events = feed(session, ":carol!c@h ACCOUNT carol", ":bob!b@h ACCOUNT *")
    assert ev.Members("#tea") in events
    members = {m.nick: m.account for m in session.state.members("#tea")}
    assert members["carol"] == "carol" and members["bob"] is None


def test_registering_uses_register_when_offered_else_nickserv() -> None:
    session = make()
    feed(session, ":srv CAP * LS :draft/account-registration=before-connect")
    sent(session)
    session.register_account("pw-long-enough", "a@example.org")
    assert sent(session) == ["REGISTER * a@example.org pw-long-enough"]
    old = make()
    feed(old, ":srv CAP * LS :server-time")
    sent(old)
    old.register_account("pw-long-enough")
    assert sent(old) == ["PRIVMSG NickServ :REGISTER pw-long-enough"]


async def test_the_library_registers_then_logs_in_with_scram(
    hubbub_server: RunningServer,
) -> None:
    port = hubbub_server.port
    async with Client("127.0.0.1", port, "erin", reconnect=False) as first:
        await first.wait_ready()
        await first.register_account("erins-password")
        logged = await first.wait_for(ev.LoggedIn)
        assert logged.account == "erin" and first.account == "erin"
    creds = Credentials("erin", "erins-password")
    async with Client("127.0.0.1", port, "erin", credentials=creds, reconnect=False) as again:
        await again.wait_ready()
        assert again.account == "erin" and again.nick == "erin"
    wrong = Credentials("erin", "not-it")
    async with Client("127.0.0.1", port, "erin", credentials=wrong, reconnect=False) as bad:
        failed = await bad.wait_for(ev.LoginFailed)
        assert failed.reason == "SASL authentication failed"
        await bad.wait_ready()
        assert bad.account is None and bad.nick != "erin"  # the nick is erin's account's


async def test_chat_plain_logs_in_with_the_account(hubbub_server: RunningServer) -> None:
    port = hubbub_server.port
    async with Client("127.0.0.1", port, "fran", reconnect=False) as first:
        await first.wait_ready()
        await first.register_account("frans-password")
        await first.wait_for(ev.LoggedIn)
    env = {**os.environ, "HUBBUB_PASSWORD": "frans-password"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hubbub", "chat", f"127.0.0.1:{port}", "--plain",
        "--account", "fran",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    chat = Proc(proc)
    try:
        assert "fran" in await chat.expect("stderr", r"You are now logged in as fran")
        await chat.expect("stderr", r"Connected to .* as fran$")
        assert await chat.close_stdin_and_wait() == 0
    finally:
        chat.kill()


def test_register_and_verify_slash_commands() -> None:
    from hubbub.client import slash

    assert slash.parse("/register pw-long-enough") == slash.Register("pw-long-enough")
    assert slash.parse("/register pw-long-enough me@example.org") == slash.Register(
        "pw-long-enough", "me@example.org"
    )
    assert slash.parse("/verify alice ABCD2345") == slash.Verify("alice", "ABCD2345")
    for bad in ("/register", "/register a b c", "/verify alice"):
        try:
            slash.parse(bad)
        except slash.SlashError as exc:
            assert str(exc).startswith("Usage: /")
        else:
            raise AssertionError(f"{bad!r} was accepted")
