"""SASL 3.2 on the in-memory server with a real account database: PLAIN,
SCRAM-SHA-256 and EXTERNAL, chunking, aborts, the throttle, re-authentication,
and registration waiting for a login being checked."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.protocol.numerics import (
    ERR_NICKNAMEINUSE,
    ERR_SASLABORTED,
    ERR_SASLFAIL,
    ERR_SASLTOOLONG,
    RPL_LOGGEDIN,
    RPL_SASLMECHS,
    RPL_SASLSUCCESS,
    RPL_WELCOME,
    RPL_WHOISACCOUNT,
)
from hubbub.server.accounts import throttle

from accountkit import (
    PASSWORD,
    accounts_harness,
    ask,
    login_plain,
    login_scram,
    plain,
    register,
    sasl_client,
)
from serverharness import FakeClient, Harness, commands, find, params_of

CERT = "ab" * 32


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    yield from accounts_harness(tmp_path)


@pytest.fixture
def alice_account(h: Harness) -> str:
    register(h, "alice")
    return "alice"


def finish(h: Harness, client: FakeClient, nick: str) -> list:  # type: ignore[type-arg]
    return ask(h, client, f"NICK {nick}", "USER u 0 * :Real", "CAP END")


def test_the_sasl_capability_lists_the_mechanisms(h: Harness) -> None:
    client = h.connect()
    ls = " ".join(m.params[-1] for m in client.ask("CAP LS 302") if m.command == "CAP")
    tokens = dict(t.partition("=")[::2] for t in ls.split())
    assert tokens["sasl"] == "SCRAM-SHA-256,PLAIN"  # EXTERNAL needs TLS client certificates
    assert tokens["draft/account-registration"] == "before-connect"
    assert "account-notify" in tokens and "account-tag" in tokens


def test_plain_logs_in_before_registration(h: Harness, alice_account: str) -> None:
    client = sasl_client(h)
    assert commands(ask(h, client, "AUTHENTICATE PLAIN")) == ["AUTHENTICATE"]
    msgs = ask(h, client, f"AUTHENTICATE {plain('alice', PASSWORD)}")
    assert commands(msgs) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]
    assert find(msgs, RPL_LOGGEDIN).params[1:3] == ("*!*@10.0.0.7", "alice")
    assert RPL_WELCOME in commands(finish(h, client, "alice"))
    assert client.user.account == "alice"
    other = h.connect("bob", ip="10.0.0.2")
    assert params_of(other.ask("WHOIS alice"), RPL_WHOISACCOUNT) == [
        ("bob", "alice", "alice", "is logged in as")
    ]


def test_a_wrong_password_fails_and_the_client_may_try_again(
    h: Harness, alice_account: str
) -> None:
    client = sasl_client(h)
    msgs = login_plain(h, client, "alice", "not it")
    assert commands(msgs) == [ERR_SASLFAIL]
    assert msgs[0].params == ("*", "SASL authentication failed")
    assert commands(login_plain(h, client, "alice", PASSWORD)) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]


def test_an_unknown_account_fails_like_a_wrong_password(h: Harness) -> None:
    client = sasl_client(h)
    assert login_plain(h, client, "nobody", PASSWORD)[0].params[1] == "SASL authentication failed"


@pytest.mark.parametrize(
    "payload",
    [
        "!!!",  # not base64
        base64.b64encode(b"\0alice\0").decode(),  # empty password
        base64.b64encode(b"\0\0" + PASSWORD.encode()).decode(),  # empty name
        base64.b64encode(f"\0alice\0{PASSWORD}\0extra".encode()).decode(),  # NUL in password
        base64.b64encode(b"\xff\0alice\0x").decode(),  # not UTF-8
        plain("alice", PASSWORD, authzid="bob"),  # someone else
    ],
)
def test_malformed_plain_payloads_fail(h: Harness, alice_account: str, payload: str) -> None:
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    assert commands(ask(h, client, f"AUTHENTICATE {payload}")) == [ERR_SASLFAIL]


def test_payloads_come_in_400_byte_chunks(h: Harness) -> None:
    long_password = "x" * 296  # "\0u1\0" + 296 = 300 bytes = exactly 400 of base64
    register(h, "u1", long_password)
    client = sasl_client(h)
    chunk = plain("u1", long_password)
    assert len(chunk) == 400
    ask(h, client, "AUTHENTICATE PLAIN")
    assert ask(h, client, f"AUTHENTICATE {chunk}") == []  # a full chunk: more may follow
    assert commands(ask(h, client, "AUTHENTICATE +")) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]
    assert commands(ask(h, client, "AUTHENTICATE PLAIN", "AUTHENTICATE " + "A" * 401)) == [
        "AUTHENTICATE",
        ERR_SASLTOOLONG,
    ]


def test_an_800_byte_payload_in_two_chunks(h: Harness) -> None:
    password = "x" * 595  # no line could register it: the service is asked directly
    done: list[object] = []
    h.server.accounts.register("foo", None, password, "10.9.9.9", done.append)
    h.settle()
    assert done and not hasattr(done[0], "code")
    payload = plain("foo", password)
    assert len(payload) == 800
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    assert ask(h, client, f"AUTHENTICATE {payload[:400]}", f"AUTHENTICATE {payload[400:]}") == []
    assert commands(ask(h, client, "AUTHENTICATE +")) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]


def test_a_payload_that_never_ends_is_cut_off(h: Harness) -> None:
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    replies = ask(h, client, *["AUTHENTICATE " + "QUFB" * 100] * 25)
    assert commands(replies)[0] == ERR_SASLFAIL
    # The rest were taken for mechanism names: nothing is being buffered.
    assert client.session.sasl is None


def test_abort_unknown_mechanism_and_no_capability(h: Harness) -> None:
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    assert commands(ask(h, client, "AUTHENTICATE *")) == [ERR_SASLABORTED]
    msgs = ask(h, client, "AUTHENTICATE DIGEST-MD5")
    assert commands(msgs) == [RPL_SASLMECHS, ERR_SASLFAIL]
    assert msgs[0].params[1] == "SCRAM-SHA-256,PLAIN"
    no_cap = h.connect()
    assert "request the sasl capability" in ask(h, no_cap, "AUTHENTICATE PLAIN")[0].params[1]


def test_scram_sha_256_logs_in_and_a_wrong_password_fails(h: Harness, alice_account: str) -> None:
    client = sasl_client(h)
    assert commands(login_scram(h, client, "alice", PASSWORD)) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]
    other = sasl_client(h, ip="10.0.0.8")
    assert commands(login_scram(h, other, "alice", "wrong")) == [ERR_SASLFAIL]
    ghost = sasl_client(h, ip="10.0.0.9")
    assert commands(login_scram(h, ghost, "nobody", PASSWORD)) == [ERR_SASLFAIL]


def test_external_logs_in_with_a_registered_certificate(h: Harness, alice_account: str) -> None:
    h.server.client_certificates = True
    h.server.offer_caps()
    alice = h.connect("alice2", ["sasl"], tls=True, certfp=CERT, ip="10.0.0.5")
    ask(h, alice, "NS IDENTIFY alice " + PASSWORD)
    assert "now logs in" in ask(h, alice, "NS CERT ADD")[0].params[1]
    client = sasl_client(h, tls=True, certfp=CERT)
    ask(h, client, "AUTHENTICATE EXTERNAL")
    assert commands(ask(h, client, "AUTHENTICATE +")) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]
    stranger = sasl_client(h, tls=True, certfp="cd" * 32)
    ask(h, stranger, "AUTHENTICATE EXTERNAL")
    assert commands(ask(h, stranger, "AUTHENTICATE +")) == [ERR_SASLFAIL]
    bare = sasl_client(h, tls=True)
    ask(h, bare, "AUTHENTICATE EXTERNAL")
    assert "certificate" in ask(h, bare, "AUTHENTICATE +")[0].params[1]


def test_registration_waits_for_a_login_being_checked(h: Harness, alice_account: str) -> None:
    client = sasl_client(h)
    client.send("AUTHENTICATE PLAIN")
    # Credentials and CAP END in one go: the check is still on its thread.
    client.send(f"AUTHENTICATE {plain('alice', PASSWORD)}", "NICK alice", "USER u 0 * :R",
                "CAP END")  # fmt: skip
    h.settle()
    msgs = client.messages()
    assert commands(msgs)[:3] == ["AUTHENTICATE", RPL_LOGGEDIN, RPL_SASLSUCCESS]
    assert RPL_WELCOME in commands(msgs)
    assert client.user.account == "alice"


@pytest.mark.parametrize("flood_control", [False, True])
def test_replies_stay_in_order_when_an_answer_comes_from_a_thread(
    tmp_path: Path, flood_control: bool
) -> None:
    for h in accounts_harness(tmp_path, {"limits": {"flood_control": flood_control}}):
        register(h, "alice")
        client = sasl_client(h)
        ask(h, client, "AUTHENTICATE PLAIN")
        client.send(f"AUTHENTICATE {plain('alice', PASSWORD)}", "PING :one", "PING :two")
        h.settle()
        assert commands(client.messages()) == [RPL_LOGGEDIN, RPL_SASLSUCCESS, "PONG", "PONG"]
        assert not client.transport.paused  # reading again


def test_finishing_registration_mid_exchange_aborts_it(h: Harness, alice_account: str) -> None:
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    msgs = finish(h, client, "someone")
    assert commands(msgs)[0] == ERR_SASLABORTED and RPL_WELCOME in commands(msgs)
    assert client.user.account is None


def test_a_reserved_nick_needs_its_account(h: Harness, alice_account: str) -> None:
    anonymous = h.connect()
    msgs = ask(h, anonymous, "NICK alice", "USER u 0 * :R")
    assert params_of(msgs, ERR_NICKNAMEINUSE)[0][1] == "alice"
    assert "log in to it with SASL" in params_of(msgs, ERR_NICKNAMEINUSE)[0][2]
    assert RPL_WELCOME in commands(ask(h, anonymous, "NICK alice_"))
    assert commands(ask(h, anonymous, "NICK alice")) == [ERR_NICKNAMEINUSE]
    owner = sasl_client(h)
    login_plain(h, owner, "alice", PASSWORD)
    assert RPL_WELCOME in commands(finish(h, owner, "Alice"))
    assert owner.user.nick == "Alice"
    assert commands(ask(h, h.connect("carol"), "NICK NickServ")) == ["432"]


def test_reauthentication_changes_the_account_and_tells_the_others(
    h: Harness, alice_account: str
) -> None:
    register(h, "bob")
    watcher = h.connect("watcher", ["account-notify"], ip="10.0.0.3")
    user = h.connect("someone", ["sasl"], ip="10.0.0.4")
    h.join("#room", watcher, user)
    msgs = login_plain(h, user, "alice", PASSWORD)
    assert commands(msgs) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]
    assert params_of(watcher.messages(), "ACCOUNT") == [("alice",)]
    login_plain(h, user, "bob", PASSWORD)
    assert params_of(watcher.messages(), "ACCOUNT") == [("bob",)]
    assert user.user.account == "bob"
    # A failed re-authentication keeps the account the client had.
    assert commands(login_plain(h, user, "alice", "nope")) == [ERR_SASLFAIL]
    assert user.user.account == "bob"


def test_failed_logins_are_throttled_per_account_across_connections(
    h: Harness, alice_account: str
) -> None:
    for i in range(throttle.FREE_FAILURES):
        client = sasl_client(h, ip=f"10.1.0.{i}")
        assert commands(login_plain(h, client, "alice", f"guess{i}")) == [ERR_SASLFAIL]
    client = sasl_client(h, ip="10.2.0.1")
    msgs = login_plain(h, client, "alice", PASSWORD)  # right, but too soon
    assert commands(msgs) == [ERR_SASLFAIL]
    assert "Too many failed logins; try again in" in msgs[0].params[1]
    h.advance(throttle.FIRST_DELAY + 1)
    # One more wrong guess locks for twice as long.
    assert commands(login_plain(h, client, "alice", "guess")) == [ERR_SASLFAIL]
    h.advance(throttle.FIRST_DELAY + 1)
    assert "try again in" in login_plain(h, client, "alice", PASSWORD)[0].params[1]
    h.advance(throttle.FIRST_DELAY + 1)
    assert commands(login_plain(h, client, "alice", PASSWORD)) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]


def test_failed_logins_are_throttled_per_address(h: Harness, alice_account: str) -> None:
    register(h, "bob")
    client = sasl_client(h, ip="10.3.0.1")
    for i in range(throttle.FREE_FAILURES):
        login_plain(h, client, f"name{i}", "guess")
    msgs = login_plain(h, client, "bob", PASSWORD)
    assert "Too many failed logins" in msgs[0].params[1]
    other = sasl_client(h, ip="10.3.0.2")
    assert commands(login_plain(h, other, "bob", PASSWORD)) == [RPL_LOGGEDIN, RPL_SASLSUCCESS]


def test_a_failing_store_answers_and_never_leaves_the_client_waiting(
    h: Harness, alice_account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(h.server.accounts.store, "get", broken)
    client = sasl_client(h)
    ask(h, client, "AUTHENTICATE PLAIN")
    msgs = ask(h, client, f"AUTHENTICATE {plain('alice', PASSWORD)}", "PING :still-here")
    assert commands(msgs) == [ERR_SASLFAIL, "PONG"]
    assert "unavailable right now" in msgs[0].params[1]
