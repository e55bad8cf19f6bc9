"""IRC over WebSocket against a real ``hubbub serve --web``, with the
``websockets`` client library: subprotocols, one line per message, limits,
origins, proxies, sendq, and the web client's files on the same port."""

from __future__ import annotations

import gzip
import http.client
import signal
import socket
import ssl

import pytest
from websockets.exceptions import InvalidStatus

from hubtest import RunningServer, ServerFactory, make_cert, untrusting
from ircclient import Closed, LineClient
from wsclient import BINARY, TEXT, WSClient


@pytest.fixture
def web(server_factory: ServerFactory) -> RunningServer:
    """Defaults (auto_join #lobby, flood control on) plus a web listener."""
    return server_factory(web=True)


def ws(srv: RunningServer, nick: str | None = None, **kwargs: object) -> WSClient:
    assert srv.web_port is not None
    client = WSClient(srv.web_port, **kwargs)  # type: ignore[arg-type]
    srv.clients.append(client)
    if nick is not None:
        client.register(nick)
    return client


# --- subprotocols and framing ------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen", "kind"),
    [
        ([TEXT], TEXT, str),
        ([BINARY], BINARY, bytes),
        ([BINARY, TEXT], BINARY, bytes),  # the client's order wins
        ([TEXT, BINARY], TEXT, str),
        (None, None, str),  # none asked: text, and no header in the answer
        (["chat.example"], None, str),  # none we know: the same
    ],
)
def test_subprotocol_is_chosen_in_the_clients_order_and_sets_the_message_type(
    web: RunningServer, offered: list[str] | None, chosen: str | None, kind: type
) -> None:
    tcp = web.client("tcpuser")
    c = ws(web, "webuser", subprotocols=offered)
    assert c.subprotocol == chosen
    assert c.frames and all(type(f) is kind for f in c.frames)
    # Both ways between the transports, whatever the client sends.
    c.send("PRIVMSG tcpuser :hello from the web")
    assert tcp.expect("PRIVMSG", "tcpuser").params[1] == "hello from the web"
    tcp.send("PRIVMSG webuser :hi back")
    assert c.expect("PRIVMSG", "webuser").params[1] == "hi back"


def test_every_message_is_one_line_without_crlf(web: RunningServer) -> None:
    c = ws(web, subprotocols=[TEXT])
    burst = c.register("oneline")  # 001..376: many lines written in one go
    assert len(burst) > 10
    assert len(c.frames) == len(c.inbox) + len(burst)
    for frame in c.frames:
        assert isinstance(frame, str)
        assert "\r" not in frame and "\n" not in frame


def test_a_fragmented_message_is_one_line_and_a_trailing_crlf_is_forgiven(
    web: RunningServer,
) -> None:
    tcp = web.client("hearer")
    c = ws(web, "sender", subprotocols=[TEXT])
    c.conn.send(["PRIVMSG hearer :frag", "mented ", "line"])  # three frames, one message
    assert tcp.expect("PRIVMSG", "hearer").params[1] == "fragmented line"
    c.send("PRIVMSG hearer :with crlf\r\n")
    assert tcp.expect("PRIVMSG", "hearer").params[1] == "with crlf"


def test_two_lines_in_one_message_are_a_malformed_line(web: RunningServer) -> None:
    c = ws(web, "twolines", subprotocols=[TEXT])
    c.send("PRIVMSG #lobby :one\r\nPRIVMSG #lobby :two")
    err = c.expect("ERROR")
    assert "malformed" in err.params[0]
    with pytest.raises(Closed):
        c.expect("PING", timeout=3)
    assert c.close_code() == 1000


def test_long_lines_get_417_and_huge_messages_close_with_1009(web: RunningServer) -> None:
    watcher = web.client("watcher")
    c = ws(web, "longliner", subprotocols=[TEXT])
    c.send("PRIVMSG #lobby :" + "x" * 600)
    c.expect("417")
    c.send("PRIVMSG #lobby :still here")  # the connection goes on
    assert watcher.expect("PRIVMSG", "#lobby").params[1] == "still here"
    c.send("PRIVMSG #lobby :" + "y" * 100_000)  # not even buffered
    quit_ = watcher.expect("QUIT")
    assert quit_.source and quit_.source.startswith("longliner!")
    assert "WebSocket error" in quit_.params[0] and "exceeds limit" in quit_.params[0]
    with pytest.raises(Closed):
        c.expect("PING", timeout=3)
    assert c.close_code() == 1009


def test_invalid_utf8_in_a_text_message_closes_with_1007(web: RunningServer) -> None:
    watcher = web.client("watcher")
    c = ws(web, "mojibake", subprotocols=[TEXT])
    c.send_raw_text(b"PRIVMSG #lobby :caf\xe9")
    quit_ = watcher.expect("QUIT")
    assert quit_.params[0] == "WebSocket error: invalid UTF-8 in a text message"
    with pytest.raises(Closed):
        c.expect("PING", timeout=3)
    assert c.close_code() == 1007
    assert not [m for m in watcher.quiet(0.3) if m.command == "PRIVMSG"]


def test_invalid_utf8_in_a_binary_message_gets_fail_as_on_tcp(web: RunningServer) -> None:
    watcher = web.client("watcher")
    c = ws(web, "latin1", subprotocols=[TEXT])
    c.send(b"PRIVMSG #lobby :caf\xe9")  # bytes: a binary message
    fail = c.expect("FAIL")
    assert fail.params[:2] == ("PRIVMSG", "INVALID_UTF8")
    c.send("PRIVMSG #lobby :caf\u00e9")
    assert watcher.expect("PRIVMSG", "#lobby").params[1] == "caf\u00e9"


# --- the same session rules as TCP ---------------------------------------------


def test_ping_and_ping_timeout_as_on_tcp(server_factory: ServerFactory) -> None:
    srv = server_factory("[limits]\nping_interval = 1\n", web=True)
    c = ws(srv, "sleeper")
    ping = c.expect("PING", timeout=5)
    assert ping.params
    # No PONG: after as long again, the server gives up on it.
    err = c.wait_for(lambda m: m.command == "ERROR", timeout=8)[0]
    assert "Ping timeout" in err.params[0]


def test_per_ip_limit_counts_websocket_clients(server_factory: ServerFactory) -> None:
    srv = server_factory("[limits]\nmax_clients_per_ip = 2\n", web=True)
    srv.client("first")
    ws(srv, "second")
    third = ws(srv)
    err = third.expect("ERROR")
    assert "Too many connections from your IP address" in err.params[0]


# A WebSocket reader that stops reading: tests/integration/test_sendq.py.


# --- origins and proxies ------------------------------------------------------


def _refused(srv: RunningServer, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as exc:
        ws(srv, **kwargs)
    return exc.value.response.status_code


def test_pages_from_other_sites_are_refused_with_403(web: RunningServer) -> None:
    port = web.web_port
    assert _refused(web, origin="https://evil.example") == 403
    assert _refused(web, origin="null") == 403
    ws(web, "samepage", origin=f"http://127.0.0.1:{port}")  # the page we serve
    ws(web, "nobrowser")  # no Origin at all: not a browser page
    assert "origin https://evil.example is not allowed" in web.log.read_text()


def test_allowed_origins_admits_listed_sites(server_factory: ServerFactory) -> None:
    srv = server_factory('[server]\nallowed_origins = ["https://chat.example.org"]\n', web=True)
    ws(srv, "listed", origin="https://chat.example.org")
    ws(srv, "ours", origin=f"http://127.0.0.1:{srv.web_port}")
    assert _refused(srv, origin="https://other.example.org") == 403
    anyone = server_factory('[server]\nallowed_origins = ["*"]\n', web=True)
    ws(anyone, "anywhere", origin="https://other.example.org")


def _host_of(client: LineClient, nick: str) -> str:
    client.send(f"WHOIS {nick}")
    return client.expect("311").params[3]


def test_x_forwarded_for_only_from_a_trusted_proxy(server_factory: ServerFactory) -> None:
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    untrusted = server_factory(None, web=True)
    c = ws(untrusted, "direct", headers=forwarded)
    assert _host_of(c, "direct") == "127.0.0.1"  # anyone can send the header

    srv = server_factory(
        '[server]\ntrusted_proxies = ["127.0.0.0/8"]\n[limits]\nmax_clients_per_ip = 1\n',
        web=True,
    )
    a = ws(srv, "proxied", headers=forwarded)
    # The nearest hop that is not a trusted proxy is the client.
    assert _host_of(a, "proxied") == "203.0.113.9"
    # Per-IP limits use the real address: another client behind the same
    # proxy is someone else, the same client again is over its limit.
    ws(srv, "neighbour", headers={"X-Forwarded-For": "203.0.113.10"})
    again = ws(srv, headers={"X-Forwarded-For": "203.0.113.9"})
    assert "Too many connections from your IP address" in again.expect("ERROR").params[0]
    # The proxy says the client came over TLS: WHOIS shows a secure link.
    tls = ws(srv, "viatls", headers={"X-Forwarded-For": "192.0.2.1", "X-Forwarded-Proto": "https"})
    tls.send("WHOIS viatls")
    assert any(m.command == "671" for m in tls.collect("318"))
    # A direct client saying the same is not believed.
    liar = ws(untrusted, "liar", headers={"X-Forwarded-Proto": "https"})
    liar.send("WHOIS liar")
    assert not any(m.command == "671" for m in liar.collect("318"))


# --- TLS ----------------------------------------------------------------------


def test_wss_with_the_servers_certificate(server_factory: ServerFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cert, key = make_cert(tmp_path, "web.test")
    srv = server_factory(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n', web=True)
    c = ws(srv, "secure", scheme="wss", ssl=untrusting())
    c.send("WHOIS secure")
    replies = c.collect("318")
    assert any(m.command == "671" for m in replies), "WHOIS does not say the link is secure"
    assert srv.web_port is not None
    conn = http.client.HTTPSConnection("127.0.0.1", srv.web_port, context=untrusting())
    conn.request("GET", "/")
    assert conn.getresponse().status == 200
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        plain = http.client.HTTPConnection("127.0.0.1", srv.web_port, timeout=3)
        plain.request("GET", "/")
        plain.getresponse().read()


# --- the same port over plain HTTP ----------------------------------------------


def test_the_web_client_is_served_on_the_same_port(web: RunningServer) -> None:
    assert web.web_port is not None
    conn = http.client.HTTPConnection("127.0.0.1", web.web_port, timeout=5)
    conn.request("GET", "/", headers={"Accept-Encoding": "gzip"})
    page = conn.getresponse()
    body = page.read()
    assert page.status == 200
    assert page.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in (page.getheader("Content-Security-Policy") or "")
    assert b"<!doctype html>" in (
        gzip.decompress(body) if page.getheader("Content-Encoding") else body
    )
    for path, status in [("/js/main.js", 200), ("/style.css", 200), ("/nothing.js", 404)]:
        conn = http.client.HTTPConnection("127.0.0.1", web.web_port, timeout=5)
        conn.request("GET", path)
        assert conn.getresponse().status == status, path
    # An IRC client pointed at the web port is told what the port is.
    with socket.create_connection(("127.0.0.1", web.web_port), timeout=5) as raw:
        raw.sendall(b"NICK lost\r\nUSER lost 0 * :lost\r\n")
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400") and b"not plain IRC" in answer


def test_allowed_origins_follow_a_reload(server_factory: ServerFactory) -> None:
    srv = server_factory('[server]\nmotd = "hi"\n', web=True)
    assert _refused(srv, origin="https://friend.example") == 403
    config = srv.log.parent / "hubbub.toml"
    config.write_text('[server]\nmotd = "hi"\nallowed_origins = ["https://friend.example"]\n')
    srv.proc.send_signal(signal.SIGUSR1)
    srv.wait_for_log("configuration reloaded")
    ws(srv, "friend", origin="https://friend.example")
