"""Every command, fed odd parameters, answers with a numeric or nothing, and
never fails: replies quote what the client sent, so a quote must never be able
to break a reply (``WHO :a b``, ``KICK #c :,``, ``PRIVMSG a,,b :x``)."""

from __future__ import annotations

import logging

import pytest

from hubbub.server.commands import COMMANDS

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
