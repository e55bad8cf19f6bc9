"""draft/account-registration on the in-memory server with a real account
database: REGISTER before and after connecting, its FAIL codes, the
per-address limit, e-mail verification through a real SMTP server, and
what is never kept or logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.protocol.numerics import RPL_LOGGEDIN, RPL_WELCOME

from accountkit import PASSWORD, accounts_harness, ask, login_plain, register, sasl_client
from mailserver import smtp_server
from serverharness import Harness, commands, find, params_of


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    yield from accounts_harness(tmp_path)


def fail(msgs: list[Any]) -> tuple[str, ...]:
    return find(msgs, "FAIL").params


def test_register_after_connecting_logs_in(h: Harness) -> None:
    bob = h.connect("bob")
    msgs = ask(h, bob, f"REGISTER * * {PASSWORD}")
    assert commands(msgs) == [RPL_LOGGEDIN, "REGISTER"]
    assert find(msgs, "REGISTER").params == ("SUCCESS", "bob", "Account created")
    assert bob.user.account == "bob"
    assert h.server.accounts.owner("BOB") == "bob"


def test_register_before_connecting_then_welcome_logged_in(h: Harness) -> None:
    client = h.connect()
    client.send("CAP LS 302", "CAP REQ :draft/account-registration")
    msgs = ask(h, client, "NICK Dana", f"REGISTER Dana dana@example.org {PASSWORD}")
    assert params_of(msgs, "REGISTER") == [("SUCCESS", "Dana", "Account created")]
    welcome = ask(h, client, "USER d 0 * :D", "CAP END")
    assert RPL_WELCOME in commands(welcome)
    assert client.user.account == "Dana"


@pytest.mark.parametrize(
    ("nick", "line", "code"),
    [
        ("bob", "REGISTER carol * pw-long-enough", "ACCOUNT_NAME_MUST_BE_NICK"),
        ("bob", "REGISTER * * short", "WEAK_PASSWORD"),
        ("bob", "REGISTER * * BOB", "WEAK_PASSWORD"),
        ("bob", "REGISTER * not-an-address pw-long-enough", "INVALID_EMAIL"),
    ],
)
def test_register_refusals(h: Harness, nick: str, line: str, code: str) -> None:
    client = h.connect(nick)
    assert fail(ask(h, client, line))[:2] == ("REGISTER", code)
    assert client.user.account is None


def test_a_taken_name_and_someone_elses_nick(h: Harness) -> None:
    register(h, "alice")
    # Before connecting, nobody can register the nick someone is using.
    h.connect("root")
    early = h.connect()
    assert fail(ask(h, early, "NICK root", f"REGISTER * * {PASSWORD}"))[1] == "ACCOUNT_EXISTS"
    # Nor a name that is an account already (its nick is refused at welcome).
    late = h.connect()
    assert fail(ask(h, late, "NICK alice", f"REGISTER * * {PASSWORD}"))[1] == "ACCOUNT_EXISTS"


def test_need_nick_already_authenticated_and_service_names(h: Harness) -> None:
    early = h.connect()
    assert fail(ask(h, early, f"REGISTER * * {PASSWORD}"))[1:3] == ("NEED_NICK", "*")
    bob = h.connect("bob")
    ask(h, bob, f"REGISTER * * {PASSWORD}")
    assert fail(ask(h, bob, f"REGISTER * * {PASSWORD}"))[1] == "ALREADY_AUTHENTICATED"


def test_registration_is_limited_per_address(h: Harness) -> None:
    limit = h.config.accounts.registrations_per_ip
    for i in range(limit):
        assert commands(ask(h, h.connect(f"u{i}", ip="10.7.0.1"), f"REGISTER * * {PASSWORD}"))[
            -1
        ] == "REGISTER"
    refused = fail(ask(h, h.connect("one_more", ip="10.7.0.1"), f"REGISTER * * {PASSWORD}"))
    assert refused[1] == "TEMPORARILY_UNAVAILABLE" and "Too many accounts" in refused[-1]
    elsewhere = h.connect("elsewhere", ip="10.7.0.2")
    assert find(ask(h, elsewhere, f"REGISTER * * {PASSWORD}"), "REGISTER").params[0] == "SUCCESS"
    h.advance(3601)
    again = h.connect("later", ip="10.7.0.1")
    assert find(ask(h, again, f"REGISTER * * {PASSWORD}"), "REGISTER").params[0] == "SUCCESS"


def test_before_connect_can_be_turned_off(tmp_path: Path) -> None:
    config = {"accounts": {"registration_before_connect": False}}
    for h in accounts_harness(tmp_path, config):
        client = h.connect()
        ls = " ".join(m.params[-1] for m in client.ask("CAP LS 302") if m.command == "CAP")
        assert "draft/account-registration" in ls.split()  # no before-connect key
        assert fail(ask(h, client, "NICK bob", f"REGISTER * * {PASSWORD}"))[1] == (
            "COMPLETE_CONNECTION_REQUIRED"
        )


def test_registering_is_refused_when_turned_off(tmp_path: Path) -> None:
    for h in accounts_harness(tmp_path, {"accounts": {"registration": False}}):
        client = h.connect("bob")
        assert fail(ask(h, client, f"REGISTER * * {PASSWORD}"))[1] == "TEMPORARILY_UNAVAILABLE"
        notice = ask(h, client, f"NS REGISTER {PASSWORD}")[0]
        assert notice.params[1] == "Registering accounts is turned off here."


def test_a_required_email_is_verified_with_a_mailed_code(tmp_path: Path) -> None:
    with smtp_server() as (inbox, port):
        config = {"accounts": {"registration_requires_email": True,
                               "smtp": f"smtp://127.0.0.1:{port}",
                               "smtp_from": "irc@example.org"}}  # fmt: skip
        for h in accounts_harness(tmp_path, config):
            client = h.connect("erin")
            ls = " ".join(m.params[-1] for m in client.ask("CAP LS 302") if m.command == "CAP")
            assert "draft/account-registration=before-connect,email-required" in ls.split()
            assert fail(ask(h, client, f"REGISTER * * {PASSWORD}"))[1] == "INVALID_EMAIL"
            msgs = ask(h, client, f"REGISTER * erin@example.org {PASSWORD}")
            assert find(msgs, "REGISTER").params[:2] == ("VERIFICATION_REQUIRED", "erin")
            assert client.user.account is None
            mail = inbox.wait()[0]
            assert mail["To"] == "erin@example.org" and mail["From"] == "irc@example.org"
            code = inbox.code(mail)
            # Unverified: the nick is not reserved, the account cannot log in.
            assert h.server.accounts.owner("erin") is None
            tester = sasl_client(h, ip="10.5.0.1")
            assert commands(login_plain(h, tester, "erin", PASSWORD)) == ["904"]
            assert fail(ask(h, client, "VERIFY erin WRONGCOD"))[1] == "INVALID_CODE"
            msgs = ask(h, client, f"VERIFY erin {code.lower()}")
            assert find(msgs, "VERIFY").params == ("SUCCESS", "erin", "Account verified")
            assert client.user.account == "erin" and h.server.accounts.owner("erin") == "erin"


def test_a_mail_server_that_is_down_leaves_no_account(tmp_path: Path) -> None:
    config = {"accounts": {"registration_requires_email": True, "smtp": "smtp://127.0.0.1:9"}}
    for h in accounts_harness(tmp_path, config):
        client = h.connect("fay")
        refused = fail(ask(h, client, f"REGISTER * fay@example.org {PASSWORD}"))
        assert refused[1] == "TEMPORARILY_UNAVAILABLE" and "mail" in refused[-1]
        again = fail(ask(h, client, f"REGISTER * fay@example.org {PASSWORD}"))
        assert again[1] == "TEMPORARILY_UNAVAILABLE"  # not ACCOUNT_EXISTS: nothing was kept


def test_passwords_and_payloads_are_never_kept_in_events_or_logs(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[Any] = []

    class Recorder:
        def record(self, event: Any) -> None:
            seen.append(event)

    h.server.pipeline.subscribers.append(Recorder())
    secret = "Very-Secret-42"
    bob = h.connect("bob", ["echo-message"])
    h.join("#room", bob)
    ask(h, bob, f"REGISTER * * {secret}", f"PRIVMSG NickServ :IDENTIFY bob {secret}",
        f"NS SET PASSWORD {secret}2")  # fmt: skip
    client = sasl_client(h)
    login_plain(h, client, "bob", secret + "2")
    login_plain(h, client, "bob", "wrong-" + secret)
    assert seen, "the recorder saw the events"
    assert secret not in repr(seen)
    assert secret not in caplog.text
    assert "failed login to bob from 10.0.0.7" in caplog.text


def test_a_password_typed_as_the_account_name_is_not_logged(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    register(h, "bob")
    client = sasl_client(h)
    login_plain(h, client, "My-Secret-Pass", "oops")
    login_plain(h, client, "bob", "wrong")
    assert "My-Secret-Pass" not in caplog.text
    assert "failed login to an unknown account from 10.0.0.7" in caplog.text
    assert "failed login to bob from 10.0.0.7" in caplog.text
