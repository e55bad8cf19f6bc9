"""The server's own rooms (``server.auto_join``): they exist from the start,
belong to the server (nobody becomes their operator by joining), stay when
they empty, and IRC operators can still moderate them."""

from __future__ import annotations

import json
from typing import Any

from hubbub import events as ev
from hubbub.config import from_mapping
from hubbub.protocol.numerics import ERR_CHANOPRIVSNEEDED, RPL_LIST, RPL_NAMREPLY
from hubbub.server.apply import apply
from hubbub.server.state import Network

from serverharness import DEFAULT_CONFIG, NO_HISTORY, FakeClient, Harness, commands, params_of

LOBBY: dict[str, Any] = {"server": {"auto_join": ["#lobby", "#Help"]}}
OPER: dict[str, Any] = {"operators": [{"name": "admin", "password": "secret"}]}


def names(client: FakeClient, channel: str) -> list[str]:
    msgs = client.ask(f"NAMES {channel}")
    return [name for p in params_of(msgs, RPL_NAMREPLY) for name in p[-1].split()]


def listed(client: FakeClient) -> dict[str, str]:
    """LIST as channel -> member count."""
    return {p[1]: p[2] for p in params_of(client.ask("LIST"), RPL_LIST)}


def test_the_rooms_exist_before_anyone_connects() -> None:
    h = Harness(LOBBY)
    for name in ("#lobby", "#help"):
        chan = h.server.network.channel(name)
        assert chan is not None and chan.server_room and not chan.members
    assert h.server.network.channel("#help").name == "#Help"  # type: ignore[union-attr]
    assert listed(h.connect("early", ip="10.0.0.9")) == {"#lobby": "1", "#Help": "1"}


def test_nobody_becomes_operator_by_arriving_first() -> None:
    h = Harness(LOBBY)
    first = h.connect("first")
    h.connect("second", ip="10.0.0.2")
    assert names(first, "#lobby") == ["first", "second"]
    # Without +o, the first comer cannot take the room over.
    assert commands(first.ask("MODE #lobby +o second")) == [ERR_CHANOPRIVSNEEDED]
    assert commands(first.ask("TOPIC #lobby :mine now")) == [ERR_CHANOPRIVSNEEDED]


def test_an_emptied_room_stays_and_still_gives_no_op() -> None:
    h = Harness(LOBBY)
    first = h.connect("first")
    first.send("PART #lobby", "PART #Help")
    assert h.server.network.channel("#lobby") is not None
    first.ask("JOIN #lobby")
    assert names(first, "#lobby") == ["first"]
    first.disconnect()
    later = h.connect("later", ip="10.0.0.3")
    assert names(later, "#lobby") == ["later"]


def test_other_channels_still_make_their_founder_op() -> None:
    h = Harness(LOBBY)
    alice = h.connect("alice")
    alice.ask("JOIN #own")
    assert names(alice, "#own") == ["@alice"]
    alice.ask("PART #own")
    assert h.server.network.channel("#own") is None


def test_an_irc_operator_can_still_moderate_a_room() -> None:
    h = Harness({**LOBBY, **OPER})
    admin, loud = h.connect("admin"), h.connect("loud", ip="10.0.0.2")
    admin.ask("OPER admin secret")
    admin.ask("MODE #lobby +o admin")
    assert "@admin" in names(admin, "#lobby")
    admin.ask("TOPIC #lobby :Be kind", "KICK #lobby loud :too loud")
    assert names(admin, "#lobby") == ["@admin"]
    assert h.server.network.channel("#lobby").topic == "Be kind"  # type: ignore[union-attr]
    assert any(m.command == "KICK" for m in loud.messages())


def test_a_rehash_takes_new_rooms_and_lets_dropped_ones_go() -> None:
    h = Harness(LOBBY)
    alice = h.connect("alice")
    alice.send("PART #Help")
    config = from_mapping({**DEFAULT_CONFIG, **NO_HISTORY, "server": {**DEFAULT_CONFIG["server"],
                                                        "auto_join": ["#lobby", "#news"]}})
    h.server.config_loader = lambda: config
    assert h.server.rehash() is None
    h.run()  # the room changes come back from the bus (later, on a cluster's)
    network = h.server.network
    assert network.channel("#news") is not None and network.channel("#news").server_room  # type: ignore[union-attr]
    assert network.channel("#help") is None  # let go, and nobody was in it
    # A room let go with people in it becomes an ordinary channel.
    h.server.config_loader = lambda: from_mapping({**DEFAULT_CONFIG, **NO_HISTORY})
    assert h.server.rehash() is None
    h.run()
    lobby = network.channel("#lobby")
    assert lobby is not None and not lobby.server_room
    alice.send("PART #lobby")
    assert network.channel("#lobby") is None


def test_the_rooms_are_events_and_replay_to_the_same_state() -> None:
    h = Harness()
    recorded: list[ev.Event] = []

    class Recorder:
        def record(self, event: ev.Event) -> None:
            recorded.append(event)

    h.server.pipeline.subscribers.append(Recorder())
    h.server.config_loader = lambda: from_mapping(
        {**DEFAULT_CONFIG, **NO_HISTORY,
         "server": {**DEFAULT_CONFIG["server"], "auto_join": ["#lobby"]}}
    )
    assert h.server.rehash() is None
    alice, bob = h.connect("alice"), h.connect("bob", ip="10.0.0.2")
    alice.send("PART #lobby")
    bob.send("QUIT :bye")
    h.run()
    rooms = [e for e in recorded if isinstance(e, ev.ServerRoomChanged)]
    assert [(e.channel, e.held, e.uid, e.source) for e in rooms] == [
        ("#lobby", True, "", "irc.test")
    ]
    fresh = Network()
    for event in recorded:
        apply(fresh, ev.from_wire(json.loads(json.dumps(ev.to_wire(event)))))
    assert fresh.snapshot() == h.server.network.snapshot()
    assert fresh.snapshot()["channels"]["#lobby"]["members"] == {}
