"""Accounts against a real ``hubbub serve``: register, then log in with
PLAIN, SCRAM-SHA-256 and EXTERNAL (a client certificate on the TLS
listener); a wrong password is 904 and gets throttled; a registered nick
cannot be taken, GHOST frees it; a registered channel's founder gets +o back
after a restart; another client sees the account (account-tag, account-notify,
extended-join)."""

from __future__ import annotations

import ssl
from pathlib import Path

from hubbub.server.transports.client_certs import fingerprint

from hubtest import RunningServer, ServerFactory, free_port, make_cert, untrusting
from ircclient import LineClient

PASSWORD = "tea-and-biscuits"
NO_FLOOD = "[limits]\nflood_control = false\n"


def register_account(srv: RunningServer, nick: str, password: str = PASSWORD) -> None:
    """Register ``nick`` with draft/account-registration, then leave."""
    c = srv.client(nick)
    c.send(f"REGISTER * * {password}")
    assert c.expect("REGISTER").params[:2] == ("SUCCESS", nick)
    c.send("QUIT")


def sasl_connect(
    srv: RunningServer, nick: str, account: str, mechanism: str = "PLAIN",
    password: str = PASSWORD, client: LineClient | None = None, caps: str = "",
) -> LineClient:  # fmt: skip
    """A connection that logs in with SASL before registering as ``nick``."""
    c = client or srv.client()
    c.send("CAP LS 302")
    c.send(f"CAP REQ :sasl {caps}".strip())
    c.wait_for(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    done = c.authenticate(mechanism, account, password)
    assert done.command == "903", done
    c.send(f"NICK {nick}")
    c.send("USER u 0 * :Real Name")
    c.send("CAP END")
    c.expect("001")
    c.wait_for(lambda m: m.command in ("376", "422"))
    c.nick = nick
    return c


def tls_client(port: int, cert: tuple[Path, Path] | None = None) -> LineClient:
    ctx = untrusting()
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    c = LineClient("127.0.0.1", port)
    c.sock = ctx.wrap_socket(c.sock)
    return c


def test_register_then_log_in_with_plain_scram_and_external(
    server_factory: ServerFactory, tmp_path: Path, history_database: str
) -> None:
    server_cert = make_cert(tmp_path, "irc.test.local")
    client_cert = make_cert(tmp_path, "alice-laptop")
    tls_port = free_port()
    srv = server_factory(
        f"[history]\n{history_database}"
        f'[server]\ntls_listen = ["127.0.0.1:{tls_port}"]\n'
        f'tls_cert = "{server_cert[0]}"\ntls_key = "{server_cert[1]}"\n'
    )
    probe = srv.client()
    offered = probe.offered_caps()
    assert "sasl=SCRAM-SHA-256,PLAIN,EXTERNAL" in offered
    register_account(srv, "alice")

    plain = sasl_connect(srv, "alice", "alice", "PLAIN")
    plain.send("WHOIS alice")
    assert plain.expect("330").params[1:3] == ("alice", "alice")
    plain.send("QUIT")
    scram = sasl_connect(srv, "alice", "alice", "SCRAM-SHA-256")
    # Over TLS with a client certificate: CERT ADD takes this connection's.
    secure = sasl_connect(srv, "alice_tls", "alice", client=tls_client(tls_port, client_cert))
    srv.clients.append(secure)
    secure.send("PRIVMSG NickServ :CERT ADD")
    der = ssl.PEM_cert_to_DER_cert(client_cert[0].read_text())
    fp = fingerprint_of(der)
    assert secure.expect("NOTICE").params[1] == f"Certificate {fp} now logs in to alice."
    secure.send("WHOIS alice_tls")
    assert secure.expect("276").params[2].endswith(fp)
    scram.send("QUIT")
    secure.send("QUIT")
    external = sasl_connect(srv, "alice", "", "EXTERNAL", client=tls_client(tls_port, client_cert))
    srv.clients.append(external)
    external.send("WHOIS alice")
    assert external.expect("330").params[2] == "alice"


def fingerprint_of(der: bytes) -> str:
    class _Peer:
        def getpeercert(self, binary_form: bool) -> bytes:
            return der

    found = fingerprint(_Peer())
    assert found is not None
    return found


def test_a_wrong_password_gets_904_and_is_throttled(server_factory: ServerFactory) -> None:
    srv = server_factory(NO_FLOOD)
    register_account(srv, "bob")
    c = srv.client()
    c.send("CAP REQ :sasl")
    c.expect("CAP")
    first = c.authenticate("PLAIN", "bob", "guess-0")
    assert (first.command, first.params[1]) == ("904", "SASL authentication failed")
    for i in range(1, 10):
        assert c.authenticate("PLAIN", "bob", f"guess-{i}").command == "904"
    # From another connection and with the right password: still refused for now.
    other = srv.client()
    other.send("CAP REQ :sasl")
    other.expect("CAP")
    locked = other.authenticate("PLAIN", "bob", PASSWORD)
    assert locked.command == "904"
    assert "Too many failed logins; try again in" in locked.params[1]
    srv.wait_for_log("failed login to bob from 127.0.0.1")
    assert PASSWORD not in srv.log.read_text() and "guess-3" not in srv.log.read_text()


def test_a_registered_nick_cannot_be_taken_and_ghost_frees_it(server: RunningServer) -> None:
    register_account(server, "carol")
    # Someone else asking for the nick is refused with a reason, even while it is free...
    thief = server.client()
    thief.send("NICK carol")
    thief.send("USER t 0 * :T")
    refused = thief.expect("433")
    assert refused.params[1] == "carol" and "registered to an account" in refused.params[2]
    thief.register("thief")
    thief.send("NICK carol")
    assert thief.expect("433").params[1] == "carol"
    old = sasl_connect(server, "carol", "carol")
    # ...and the owner's second connection finds it in use, until GHOST frees it.
    second = server.client()
    second.send("CAP REQ :sasl")
    second.expect("CAP")
    assert second.authenticate("PLAIN", "carol", PASSWORD).command == "903"
    second.send("NICK carol")
    second.send("USER c 0 * :C")
    assert second.expect("433").params[2] == "Nickname is already in use"
    second.send("NICK carol_")
    second.send("CAP END")
    second.expect("001")
    second.send("PRIVMSG NickServ :GHOST carol")
    assert second.expect("NOTICE").params[1] == "carol has been disconnected."
    kill = old.wait_for(lambda m: m.command in ("KILL", "ERROR"))[0]
    assert "GHOST command used by carol_" in " ".join(kill.params)
    second.send("NICK carol")
    assert second.expect("NICK").params[0] == "carol"


def test_a_registered_channel_gives_its_founder_op_back_after_a_restart(
    server_factory: ServerFactory, history_database: str
) -> None:
    srv = server_factory(f"[history]\n{history_database}")
    register_account(srv, "dave")
    dave = sasl_connect(srv, "dave", "dave")
    dave.send("JOIN #crew")
    dave.expect("366")
    dave.send("TOPIC #crew :Cups on Thursday")
    dave.expect("TOPIC")
    dave.send("MODE #crew +k biscuit")
    dave.expect("MODE")
    dave.send("PRIVMSG ChanServ :REGISTER #crew")
    assert dave.expect("NOTICE").params[1].startswith("#crew is registered to dave.")
    srv.restart()
    dave = sasl_connect(srv, "dave", "dave")
    dave.send("JOIN #crew")  # no key needed: the founder
    _, joined = dave.wait_for(lambda m: m.command == "366" and m.params[1] == "#crew")
    assert [m.params[-1] for m in joined if m.command == "332"][-1] == "Cups on Thursday"
    mode = dave.expect("MODE", "#crew")
    assert (mode.source, mode.params) == ("ChanServ!ChanServ@services", ("#crew", "+o", "dave"))
    guest = srv.client("guest")
    guest.send("JOIN #crew")
    assert guest.expect("475").params[1] == "#crew"  # the key survived too


def test_another_client_sees_the_account(server: RunningServer) -> None:
    register_account(server, "erin")
    register_account(server, "frank")
    watcher = server.client("watcher", caps=("account-tag", "account-notify", "extended-join"))
    watcher.expect("366", "watcher", "#lobby")
    erin = sasl_connect(server, "erin", "erin")
    joined = watcher.expect("JOIN", "#lobby")
    assert joined.source is not None and joined.source.startswith("erin!")
    assert joined.params[1:] == ("erin", "Real Name")  # extended-join: the account
    erin.send("PRIVMSG #lobby :hello")
    said = watcher.expect("PRIVMSG", "#lobby")
    assert said.tags.get("account") == "erin"
    # Logging in after connecting is an ACCOUNT line for those who asked.
    frank = server.client("frank_")
    watcher.expect("JOIN", "#lobby")
    frank.send(f"PRIVMSG NickServ :IDENTIFY frank {PASSWORD}")
    account = watcher.expect("ACCOUNT")
    assert account.source is not None and account.source.startswith("frank_!")
    assert account.params == ("frank",)
    frank.send("PRIVMSG #lobby :now with an account")
    assert watcher.expect("PRIVMSG", "#lobby").tags.get("account") == "frank"
