"""Every command, fed odd parameters, answers with a numeric or nothing, and
never fails: replies quote what the client sent, so a quote must never be able
to break a reply (``WHO :a b``, ``KICK #c :,``, ``PRIVMSG a,,b :x``)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.server.commands import COMMANDS
from hubbub.store.sqlite.history import SQLiteHistoryStore

from serverharness import Harness

ODD = ["", " ", "a b", ":x", ",", "a,,b", ",#c", "#c,", "* *", ":", "#", "+", "@#c", "0"]
#: Commands that end the session or the server by design.
ENDING = {"QUIT", "DIE", "RESTART", "KILL"}


def forms(verb: str, odd: str) -> list[str]:
    word = odd.replace(" ", "") or "x"
    return [f"{verb} :{odd}", f"{verb} x :{odd}", f"{verb} #c :{odd}",
            f"{verb} #c +b :{odd}", f"{verb} {word} :{odd}"]  # fmt: skip


@pytest.mark.parametrize("verb", sorted(set(COMMANDS) - ENDING))
def test_odd_parameters_never_break_a_command(
    verb: str, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness({"operators": [{"name": "op", "password": "pw"}]})
    caplog.set_level(logging.ERROR)
    for odd in ODD:
        for line in forms(verb, odd):
            client = h.connect("fuzz")
            client.send("OPER op pw", "JOIN #c")
            client.messages()
            client.send(line)
            replies = client.messages()
            assert "ERROR" not in [m.command for m in replies], (line, replies)
            client.send("QUIT")
            h.loop.run()
    assert not caplog.records, [r.getMessage() for r in caplog.records]

@pytest.mark.parametrize("verb", ["CHATHISTORY", "REDACT", "SEARCH", "JOIN", "PRIVMSG"])
def test_odd_parameters_never_break_a_history_command(
    verb: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # With history kept, these read the store on a worker thread.
    h = Harness(history=SQLiteHistoryStore.open(tmp_path / "h.sqlite3"))
    caplog.set_level(logging.ERROR)
    client = h.connect("fuzz")
    client.send("JOIN #c", "PRIVMSG #c :something to find")
    for odd in ODD:
        for line in forms(verb, odd):
            client.send(line)
            h.settle()
            replies = client.messages()
            assert "ERROR" not in [m.command for m in replies], (line, replies)
    client.send("PING :alive")
    h.settle()
    assert "PONG" in [m.command for m in client.messages()]
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    h.close()


_word = st.text(alphabet="#&@+!*?:,.-_ab~[]^{}|\\ 0123456789éß", max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    verb=st.sampled_from(sorted(set(COMMANDS) - ENDING)),
    words=st.lists(_word.filter(lambda w: w and " " not in w and w[0] != ":"), max_size=4),
    last=st.one_of(st.none(), _word),
)
def test_random_commands_never_fail(verb: str, words: list[str], last: str | None) -> None:
    h = Harness({"operators": [{"name": "op", "password": "pw"}]})
    client = h.connect("fuzz")
    other = h.connect("other")
    client.send("OPER op pw", "JOIN #c")
    other.send("JOIN #c")
    client.messages()
    line = " ".join([verb, *words] + ([f":{last}"] if last is not None else []))
    client.send(line)
    replies = client.messages()
    assert "ERROR" not in [m.command for m in replies], (line, replies)
    assert not client.closed, line
    client.send("PING :alive")  # still served
    assert "PONG" in [m.command for m in client.messages()]


def _body(line: str) -> int:
    """Bytes of a line without its tags, with CR LF."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1]
    return len(line.encode()) + 2


@pytest.mark.parametrize(
    "line",
    [
        "PART #c :" + "é" * 248,  # a full input line; the relayed copy adds a source
        "KICK #c peer :" + "k" * 490,
        "TOPIC #c :" + "t" * 380 + "é" * 50,
        "QUIT :" + "q" * 500,
        "AWAY :" + "a" * 380 + "😀" * 25,
        "PRIVMSG " + "n" * 495 + " :x",  # 401 echoes the target
        "HELP " + "h" * 500,  # 524 echoes the subject
        "CAP REQ :" + "c" * 495,  # NAK echoes the request
    ],
    ids=lambda line: line.split()[0],
)
def test_nothing_the_server_sends_passes_512_bytes(line: str) -> None:
    h = Harness()
    client = h.connect("longwinded")
    peer = h.connect("peer", caps=("away-notify",))
    h.join("#c", client, peer)
    assert len(line.encode()) + 2 <= 512  # the client's own line is fine
    client.send(line)
    got = client.lines() + peer.lines()
    assert got, "no answer at all"
    assert max(_body(g) for g in got) <= 512, [g[:80] for g in got if _body(g) > 512]
