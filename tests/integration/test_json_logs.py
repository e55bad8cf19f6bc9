"""``--log-format json``: a real server's log parses line by line, carries
the stable keys, and holds no message text and no password at any level."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from hubtest import ServerFactory, free_port
from ircclient import LineClient
from opstest import gone, scrape
from wsclient import WSClient

SERVER_PASSWORD = "srv-Pass-8372"
OPER_PASSWORD = "oper-Pass-1193"
#: Everything a client said or typed as a secret: none may reach the log.
SECRETS = (
    SERVER_PASSWORD, OPER_PASSWORD, "wrong-Srv-5521", "wrong-Oper-7730", "tea-Secret-4410",
    "dm-Secret-9012", "notice-Secret-3318", "topic-Secret-6675", "away-Secret-2290",
    "part-Secret-8810", "quit-Secret-1147", "nul-Secret-5063", "long-Secret-7781",
    "ws-Secret-3926", "wsquit-Secret-4402", "kill-reason-0022", "cmd-Secret-6120",
    "acct-Pass-4471", "wrong-Acct-6620", *(
        base64.b64encode(f"\0alice\0{p}".encode()).decode()
        for p in ("acct-Pass-4471", "wrong-Acct-6620")
    ),
)  # fmt: skip
METRICS = free_port()
CONFIG = f"""
[metrics]
listen = "127.0.0.1:{METRICS}"
[server]
password = "{SERVER_PASSWORD}"
[[operators]]
name = "admin"
password = "{OPER_PASSWORD}"
[limits]
flood_control = false
"""
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_json_logs_parse_and_hold_no_message_text_or_password(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(CONFIG, "--log-format", "json", "--log-level", "debug", web=True)
    assert server.web_port is not None

    # A wrong server password: refused.
    intruder = LineClient(server.host, server.port)
    server.clients.append(intruder)
    intruder.send("PASS wrong-Srv-5521")
    intruder.send("NICK intruder")
    intruder.send("USER i 0 * :i")
    gone(intruder)

    def client(nick: str) -> LineClient:
        c = LineClient(server.host, server.port)
        server.clients.append(c)
        c.send(f"PASS {SERVER_PASSWORD}")
        c.register(nick)
        c.send("JOIN #tea")
        c.expect("JOIN", "#tea")
        return c

    alice, bob = client("alice"), client("bob")
    wendy = WSClient(server.web_port)
    server.clients.append(wendy)
    wendy.send(f"PASS {SERVER_PASSWORD}")
    wendy.register("wendy")
    wendy.send("JOIN #tea")
    wendy.expect("JOIN", "#tea")

    alice.send("PRIVMSG #tea :tea-Secret-4410")
    alice.send("PRIVMSG bob :dm-Secret-9012")
    alice.send("NOTICE #tea :notice-Secret-3318")
    alice.send("TOPIC #tea :topic-Secret-6675")
    alice.send("AWAY :away-Secret-2290")
    alice.send("PRIVMSG #tea :long-Secret-7781 " + "x" * 600)
    alice.expect("417")
    alice.send("OPER admin wrong-Oper-7730")
    alice.expect("464")
    alice.send(f"OPER admin {OPER_PASSWORD}")
    alice.expect("381")
    # An account, and SASL logins: one right, one wrong.
    alice.send("REGISTER * * acct-Pass-4471")
    alice.expect("REGISTER", "SUCCESS", timeout=10)
    for password, outcome in (("acct-Pass-4471", "903"), ("wrong-Acct-6620", "904")):
        sasl = LineClient(server.host, server.port)
        server.clients.append(sasl)
        sasl.send("CAP REQ :sasl")
        sasl.expect("CAP")
        sasl.send("AUTHENTICATE PLAIN")
        sasl.expect("AUTHENTICATE", "+")
        sasl.send("AUTHENTICATE " + base64.b64encode(f"\0alice\0{password}".encode()).decode())
        sasl.expect(outcome, timeout=10)
        sasl.close()
    wendy.send("PRIVMSG #tea :ws-Secret-3926")
    bob.expect("PRIVMSG", "#tea", "ws-Secret-3926")
    mallory = client("mallory")
    mallory.send(b"PRIVMSG #tea :nul-Secret-5063\x00\r\n")
    gone(mallory)
    mallet = client("mallet")  # a prefix where the command goes: the parser quotes it
    mallet.send(":mallet :cmd-Secret-6120 #tea :hello")
    gone(mallet)
    carol = client("carol")
    alice.send("KILL carol :kill-reason-0022")
    gone(carol)
    alice.send("PART #tea :part-Secret-8810")
    alice.send("QUIT :quit-Secret-1147")
    gone(alice)
    wendy.send("QUIT :wsquit-Secret-4402")
    bob.expect("QUIT")
    samples = scrape(METRICS)
    for result in ("success", "failure"):
        assert samples.get_value(
            "hubbub_sasl_authentications_total", mechanism="PLAIN", result=result
        ) == 1
    assert server.stop(signal.SIGTERM) == 0

    text = server.log.read_text()
    leaked = [s for s in SECRETS if s in text]
    # The KILL reason is the one thing a client types that is kept: it is an
    # operator's stated reason for an action, the audit trail of KILL.
    assert leaked == ["kill-reason-0022"], leaked
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(records) > 20
    for record in records:
        assert list(record)[:3] == ["time", "level", "event"], record
        assert TIME.match(record["time"]), record
        assert record["level"] in ("debug", "info", "warning", "error"), record
        assert {"message", "logger"} <= set(record), record
        assert record["event"] and not record["event"].startswith("hubbub"), record

    def events(name: str) -> list[dict[str, object]]:
        return [r for r in records if r["event"] == name]

    # Every connection and every disconnection names the client, the
    # address and (leaving) the reason; the same id from start to end.
    connected = {r["client_id"] for r in events("client.connected")}
    registered = {r["nick"]: r["client_id"] for r in events("client.registered")}
    left = {r["client_id"]: r["reason"] for r in events("client.disconnected")}
    assert set(registered) == {"alice", "bob", "wendy", "mallory", "mallet", "carol"}
    assert set(registered.values()) <= connected
    assert all(r["address"] == "127.0.0.1" for r in events("client.disconnected"))
    assert left[registered["alice"]] == "Quit"
    assert left[registered["wendy"]] == "Quit"
    assert left[registered["mallory"]] == "Received malformed line"
    assert left[registered["mallet"]] == "Received malformed line"
    assert str(left[registered["carol"]]).startswith("Killed (alice")
    assert "Bad password" in left.values()
    assert events("client.malformed_line")[0]["client_id"] == registered["mallory"]
    assert events("account.registered")[0]["account"] == "alice"
    (login,) = events("account.login")
    assert (login["account"], login["mechanism"]) == ("alice", "PLAIN")
    (failed,) = events("account.login_failed")
    assert (failed["account"], failed["address"]) == ("alice", "127.0.0.1")
    refused = events("oper.refused")
    assert [r["oper"] for r in refused] == ["admin"] and refused[0]["address"] == "127.0.0.1"
    assert events("oper.up")[0]["client_id"] == registered["alice"]
    transports = {r["client_id"]: r["transport"] for r in events("client.connected")}
    assert transports[registered["wendy"]] == "websocket"
    assert [r["event"] for r in records if r["event"].startswith("server.")][-3:] == [
        "server.stop_requested", "server.stopping", "server.stopped",
    ]  # fmt: skip


def test_a_configuration_error_is_a_json_line_too(tmp_path: Path) -> None:
    """A log system reading JSON must see why the server did not start."""
    bad = tmp_path / "hubbub.toml"
    bad.write_text('[metrics]\nlisten = "nowhere"\n')
    done = subprocess.run(
        [sys.executable, "-m", "hubbub", "serve", "--config", str(bad), "--log-format", "json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    record = json.loads(line)
    assert (record["event"], record["key"], record["path"]) == (
        "server.config_error", "metrics.listen", str(bad),
    )  # fmt: skip
    assert record["reason"] == "'nowhere' is not HOST:PORT"
