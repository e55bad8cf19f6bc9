"""The log's wire format: every event survives it, old and new nodes read each other."""

from __future__ import annotations

import json

import pytest

from hubbub import events as ev
from hubbub.bus.wire import decode_event, encode_event, entry_msgid, system_event
from test_events import sample


@pytest.mark.parametrize("kind", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
def test_every_event_type_round_trips(kind: type[ev.Event]) -> None:
    event = sample(kind)
    assert decode_event(encode_event(event)) == event


def test_a_body_from_an_older_node_gets_the_defaults() -> None:
    old = json.dumps(["UserRegistered", "m", 1.0, "u", "a!b@c", "a", "b", "c", "r"])
    assert decode_event(old) == ev.UserRegistered("m", 1.0, "u", "a!b@c", "a", "b", "c", "r")


def test_a_body_from_a_newer_node_loses_only_the_fields_this_one_lacks() -> None:
    new = json.dumps(["UserQuit", "m", 1.0, "u", "a!b@c", "bye", "a field from later"])
    assert decode_event(new) == ev.UserQuit("m", 1.0, "u", "a!b@c", "bye")


@pytest.mark.parametrize("body", ['["Teleported", 1]', "not json", '{"type": "UserQuit"}', "[]"])
def test_what_is_not_an_event_is_a_clear_error(body: str) -> None:
    with pytest.raises(ValueError):
        decode_event(body)


def test_the_log_s_own_entries_become_the_same_events_on_every_node() -> None:
    joined = system_event("1700000000123-4", {"k": "joined", "node": "n2", "epoch": "7"},
                          "irc.example")  # fmt: skip
    assert joined == ev.NodeJoined(entry_msgid("1700000000123-4")[0], 1700000000.123, "",
                                   "irc.example", "n2", 7)  # fmt: skip
    gone = system_event("1700000000124-0", {"k": "gone", "node": "n2", "epoch": "7",
                                            "why": "lease"}, "irc.example")  # fmt: skip
    assert isinstance(gone, ev.NodeGone) and gone.reason == "irc.example n2.irc.example"
    assert ev.msgid_time(gone.msgid) == 1700000000124
