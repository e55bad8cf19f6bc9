"""TLS with a self-signed certificate, end to end: `hubbub cert`, `hubbub serve
--tls-listen`, and a client that trusts the certificate by CA file, by pinned
fingerprint or (for tests) not at all. A certificate that fails the check
stops the client at once with a sentence that names the fingerprint: it is
never retried."""

from __future__ import annotations

import asyncio
import sys

import pytest

from hubbub.client import Client
from hubbub.client import events as ev
from hubbub.client.trust import Trust, fingerprint, parse_fingerprint

from .conftest import TlsServer
from .test_plain import Proc


async def registered_over_tls(tls: TlsServer, nick: str, trust: Trust) -> None:
    server = tls.server
    async with Client(server.host, server.port, nick, tls=True, trust=trust) as client:
        await client.wait_for(ev.Ready)
        assert client.connected and client.state.channel("#lobby") is not None


@pytest.mark.parametrize("how", ["ca_file", "pinned", "insecure"])
async def test_a_trusted_self_signed_certificate_connects(
    tls_hubbub_server: TlsServer, how: str
) -> None:
    trust = {
        "ca_file": Trust(ca_file=str(tls_hubbub_server.cert)),
        "pinned": Trust(pinned=tls_hubbub_server.fingerprint),
        "insecure": Trust(insecure=True),
    }[how]
    await registered_over_tls(tls_hubbub_server, f"via_{how}", trust)


async def _gives_up(client: Client) -> ev.Disconnected:
    """The one Disconnected a client sends, after which it stops by itself."""
    client.start()
    events = [e async for e in client.events()]  # ends only when run() ends
    (gone,) = [e for e in events if isinstance(e, ev.Disconnected)]
    assert not [e for e in events if isinstance(e, ev.Connecting) and e.attempt > 1]
    return gone


async def test_an_untrusted_certificate_stops_the_client_and_says_why(
    tls_hubbub_server: TlsServer,
) -> None:
    server = tls_hubbub_server.server
    # Reconnecting is on (the default): a network error would be retried.
    client = Client(server.host, server.port, "doubtful", tls=True, backoff_initial=0.1)
    async with asyncio.timeout(10):
        gone = await _gives_up(client)
    assert gone.reconnect_in is None
    assert gone.reason.startswith(f"The TLS certificate of 127.0.0.1:{server.port} is not "
                                  "trusted: self-signed certificate. Not retrying.")  # fmt: skip
    assert f"--tls-fingerprint {tls_hubbub_server.fingerprint}" in gone.reason
    assert "--tls-ca" in gone.reason


async def test_a_certificate_that_is_not_the_pinned_one_is_refused(
    tls_hubbub_server: TlsServer,
) -> None:
    server = tls_hubbub_server.server
    wrong = fingerprint(b"some other certificate")
    client = Client(server.host, server.port, "pinner", tls=True, trust=Trust(pinned=wrong),
                    backoff_initial=0.1)  # fmt: skip
    async with asyncio.timeout(10):
        gone = await _gives_up(client)
    assert gone.reconnect_in is None
    assert "is not the pinned one" in gone.reason
    assert tls_hubbub_server.fingerprint in gone.reason and wrong in gone.reason


def test_fingerprints_are_read_as_people_paste_them() -> None:
    colons = fingerprint(b"x")
    bare = colons.replace(":", "")
    for text in (colons, bare, bare.lower(), f"sha256:{bare}", f" {colons.lower()} "):
        assert parse_fingerprint(text) == colons
    for bad in ("", "AB:CD", bare[:-1] + "G", bare + "00"):
        with pytest.raises(ValueError, match="is not a SHA-256 fingerprint"):
            parse_fingerprint(bad)


async def test_hubbub_chat_plain_with_a_pinned_certificate(tls_hubbub_server: TlsServer) -> None:
    server = tls_hubbub_server.server
    async with Client(server.host, server.port, "listener", tls=True,
                      trust=Trust(pinned=tls_hubbub_server.fingerprint)) as listener:  # fmt: skip
        await listener.wait_for(ev.Ready)
        chat = await Proc.start(server.port, "--nick", "pinned",
                                "--tls-fingerprint", tls_hubbub_server.fingerprint)  # fmt: skip
        chat.send("hello over TLS")
        got = await listener.wait_for(ev.ChatMessage, lambda e: e.nick == "pinned")
        assert (got.buffer, got.text) == ("#lobby", "hello over TLS")
        assert await chat.close_stdin_and_wait() == 0


async def test_hubbub_chat_plain_without_trust_exits_with_the_reason(
    tls_hubbub_server: TlsServer,
) -> None:
    chat = await Proc.start(tls_hubbub_server.server.port, "--nick", "x", "--tls")
    line = await chat.expect("stderr", "is not trusted", timeout=15)
    assert tls_hubbub_server.fingerprint in line
    async with asyncio.timeout(10):
        assert await chat.proc.wait() == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--tls-fingerprint", "AB:CD"], "is not a SHA-256 fingerprint"),
        (["--tls-ca", "/nonexistent/ca.pem"], "cannot load the CA file /nonexistent/ca.pem"),
    ],
)
async def test_bad_trust_options_are_clear_errors(args: list[str], says: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hubbub", "chat", "--plain", *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert says in err.decode()
    assert "Traceback" not in err.decode()


async def test_the_tui_says_at_once_why_it_will_not_connect(tls_hubbub_server: TlsServer) -> None:
    from hubbub.client.tui.app import make_app

    from .test_tui import on_screen, until

    server = tls_hubbub_server.server
    app = make_app(server.host, server.port, "tuiuser", tls=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, on_screen(app, "is not trusted"))
        await until(pilot, lambda: "disconnected" in app.status)
        await pilot.pause(1.5)  # long enough for a retry, were there one
        told = [line for line in app.model.server.lines if "is not trusted" in line.plain]
        assert len(told) == 1
        assert f"--tls-fingerprint {tls_hubbub_server.fingerprint}" in told[0].plain
