"""Events are plain data: every type survives the wire format unchanged."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest

from hubbub import events as ev

#: A value for each field type events use, by the type's name.
SAMPLES: dict[str, Any] = {
    "<class 'str'>": "x y",
    "<class 'float'>": 1700000000.125,
    "<class 'bool'>": True,
    "<class 'int'>": 7,
    "str | None": None,
    "tuple[tuple[bool, str], ...]": ((True, "i"), (False, "w")),
    "tuple[tuple[bool, str, str | None], ...]": ((True, "o", "bob"), (False, "n", None)),
    "collections.abc.Mapping[str, str]": {"+draft/react": "x", "account": "alice"},
    "int | None": 25,
    "tuple[tuple[str, str, float], ...]": (("$a:bob", "alice!a@h", 1.5), ("*!*@x", "b!c@d", 2.0)),
    "tuple[tuple[str, str], ...]": (("bob", "o"), ("carol", "v")),
}


def sample(kind: type[ev.Event]) -> ev.Event:
    """An instance of ``kind`` with a value of the right type in every field
    (a new field type fails here until it has a sample)."""
    hints = typing.get_type_hints(kind)
    return kind(**{name: SAMPLES[str(hints[name])] for name in kind._fields})


@pytest.mark.parametrize("kind", list(ev.EVENT_TYPES.values()), ids=list(ev.EVENT_TYPES))
def test_every_event_type_round_trips_through_json(kind: type[ev.Event]) -> None:
    event = sample(kind)
    wire = json.loads(json.dumps(ev.to_wire(event)))
    assert wire["type"] == kind.__name__
    back = ev.from_wire(wire)
    assert type(back) is kind
    assert back == event


def test_every_event_starts_with_the_common_fields() -> None:
    for kind in ev.EVENT_TYPES.values():
        assert kind._fields[:4] == ("msgid", "time", "uid", "source"), kind.__name__


def test_an_unknown_type_or_missing_field_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        ev.from_wire({"type": "Teleported"})
    with pytest.raises(ValueError, match="UserQuit"):
        ev.from_wire({"type": "UserQuit", "msgid": "m", "time": 1.0})


def test_fields_from_a_newer_version_are_ignored() -> None:
    wire = ev.to_wire(ev.UserQuit("m", 1.0, "u", "a!b@c", "bye"))
    wire["added_later"] = 42
    assert ev.from_wire(wire) == ev.UserQuit("m", 1.0, "u", "a!b@c", "bye")


def test_a_msgid_starts_with_its_time_in_milliseconds() -> None:
    msgid = ev.make_msgid(1_700_000_000.1234, "ab12cd34", 255)
    assert msgid == "18bcfe5687bab12cd34ff"
    assert ev.msgid_time(msgid) == 1_700_000_000_123
    for foreign in ("", "abc", "18bcfe56872", "zzzzzzzzzzz1", "m1"):
        assert ev.msgid_time(foreign) is None
