"""The event pipeline: every change is an event, and events are the whole truth.

Two properties carry history and a multi-node network:

* replay: applying the recording of a session's events to an empty network
  gives the same state (after a round trip through the wire format);
* publish: every command that changes something publishes exactly the events
  of what changed, and a refused command publishes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hubbub import events as ev
from hubbub.server.apply import apply
from hubbub.server.state import Network

from serverharness import FakeClient, Harness


class Recorder:
    """A pipeline subscriber that keeps every event."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def record(self, event: ev.Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


def recording(h: Harness) -> Recorder:
    recorder = Recorder()
    h.server.pipeline.subscribers.append(recorder)
    return recorder


OPER_CONFIG = {"operators": [{"name": "admin", "password": "secret"}]}


def scripted_session(h: Harness) -> None:
    """A busy afternoon: everything that changes users and channels."""
    alice = h.connect("alice", ip="10.0.0.1")
    bob = h.connect("bob", caps=("message-tags", "extended-join"), ip="10.0.0.2")
    carol = h.connect("carol", ip="10.0.0.3")
    dave = h.connect("dave", ip="10.0.0.4")
    for line in (
        "JOIN #tea,#coffee", "TOPIC #tea :Earl Grey only", "MODE #tea +o-n+tk bob secret",
        "MODE #tea +l 10", "MODE #tea +b *!*@bad.example", "MODE #tea +e ok!*@*",
        "MODE #tea +I friend!*@*", "MODE #coffee +ims", "MODE alice +iw",
        "AWAY :tea break", "SETNAME :Alice Liddell",
    ):  # fmt: skip
        alice.send(line)
    bob.send("JOIN #tea secret", "PRIVMSG #tea :hello", "@+draft/react=x TAGMSG #tea")
    carol.send("JOIN #tea secret", "NICK caroline", "PRIVMSG alice :psst")
    alice.send("INVITE dave #coffee", "KICK #tea caroline :too loud", "AWAY")
    dave.send("JOIN #coffee", "NOTICE #coffee :hi all", "MODE dave +B")
    alice.send("MODE #tea -l+v bob", "TOPIC #tea :Any tea", "RENAME #coffee #espresso :rebrand")
    alice.send("OPER admin secret", "CHGHOST dave dave cafe.example", "WALLOPS :tidy up")
    bob.send("PART #tea :off", "JOIN #tea secret", "JOIN 0")
    carol.send("QUIT :bye")
    alice.send("KILL dave :enough", "MODE alice -o")
    h.run()


def test_replaying_the_recording_rebuilds_the_same_state() -> None:
    h = Harness(OPER_CONFIG)
    recorder = recording(h)
    scripted_session(h)
    assert {"Joined", "Kicked", "Killed", "UserQuit", "ChannelRenamed", "OperUp"} <= set(
        recorder.kinds()
    )

    # Through the wire format, as a store or a bus would carry them.
    carried = [ev.from_wire(json.loads(json.dumps(ev.to_wire(e)))) for e in recorder.events]
    assert carried == recorder.events
    fresh = Network()
    for event in carried:
        apply(fresh, event)

    live = h.server.network.snapshot()
    assert fresh.snapshot() == live
    # The comparison is not empty: the afternoon left users, channels and lists.
    assert set(live["channels"]) == {"#tea", "#espresso"}
    assert live["channels"]["#tea"]["bans"]
    assert {u["nick"] for u in live["users"].values()} == {"alice", "bob"}


def test_replay_of_a_prefix_matches_the_state_at_that_moment() -> None:
    h = Harness()
    recorder = recording(h)
    alice, bob = h.connect("alice"), h.connect("bob")
    h.join("#x", alice, bob)
    alice.send("MODE #x +o bob", "TOPIC #x :first")
    middle = h.server.network.snapshot()
    cut = len(recorder.events)
    bob.send("KICK #x alice", "TOPIC #x :second")
    fresh = Network()
    for event in recorder.events[:cut]:
        apply(fresh, event)
    assert fresh.snapshot() == middle


# --- every family publishes, and refusals publish nothing ----------------------

Setup = Callable[[Harness], dict[str, FakeClient]]


def room(h: Harness) -> dict[str, FakeClient]:
    """alice (op) and bob in #a; carol outside; an operator block."""
    clients = {n: h.connect(n, ip=f"10.0.0.{i}") for i, n in enumerate(("alice", "bob", "carol"))}
    h.join("#a", clients["alice"], clients["bob"])
    return clients


def opered(h: Harness) -> dict[str, FakeClient]:
    clients = room(h)
    clients["alice"].send("OPER admin secret")
    h.drain()
    return clients


CASES: list[tuple[str, Setup, str, str, list[str]]] = [
    # (name, setup, who, line, event kinds)
    ("join", room, "carol", "JOIN #a", ["Joined"]),
    ("join again", room, "alice", "JOIN #a", []),
    ("join bad name", room, "carol", "JOIN nochan", []),
    ("join 0", room, "alice", "JOIN 0", ["Parted"]),
    ("part", room, "bob", "PART #a :bye", ["Parted"]),
    ("part not member", room, "carol", "PART #a", []),
    ("topic", room, "alice", "TOPIC #a :hi", ["TopicChanged"]),
    ("topic refused", room, "bob", "TOPIC #a :hi", []),
    ("topic query", room, "bob", "TOPIC #a", []),
    ("mode", room, "alice", "MODE #a +o-t bob", ["ChannelModeChanged"]),
    ("mode no change", room, "alice", "MODE #a +nt", []),
    ("mode refused", room, "bob", "MODE #a +m", []),
    ("mode query", room, "bob", "MODE #a", []),
    ("ban list query", room, "bob", "MODE #a +b", []),
    ("user mode", room, "bob", "MODE bob +i", ["UserModeChanged"]),
    ("user mode other", room, "bob", "MODE alice +i", []),
    ("kick", room, "alice", "KICK #a bob", ["Kicked"]),
    ("kick refused", room, "bob", "KICK #a alice", []),
    ("kick two", room, "alice", "KICK #a bob,alice", ["Kicked", "Kicked"]),
    ("invite", room, "alice", "INVITE carol #a", ["Invited"]),
    ("invite member", room, "alice", "INVITE bob #a", []),
    ("rename", room, "alice", "RENAME #a #b :new", ["ChannelRenamed"]),
    ("rename refused", room, "bob", "RENAME #a #b", []),
    ("nick", room, "bob", "NICK robert", ["NickChanged"]),
    ("nick taken", room, "bob", "NICK alice", []),
    ("nick same", room, "bob", "NICK bob", []),
    ("privmsg", room, "bob", "PRIVMSG #a :hello", ["MessageSent"]),
    ("privmsg two targets", room, "bob", "PRIVMSG #a,alice :hi", ["MessageSent", "MessageSent"]),
    ("privmsg no channel", room, "bob", "PRIVMSG #nope :x", []),
    ("privmsg outside +n", room, "carol", "PRIVMSG #a :x", []),
    ("notice", room, "bob", "NOTICE alice :x", ["MessageSent"]),
    ("tagmsg", room, "bob", "@+typing=active TAGMSG #a", ["MessageSent"]),
    ("away", room, "bob", "AWAY :brb", ["AwayChanged"]),
    ("setname", room, "bob", "SETNAME :Robert", ["RealnameChanged"]),
    ("setname empty", room, "bob", "SETNAME :", []),
    ("oper", room, "alice", "OPER admin secret", ["OperUp"]),
    ("oper wrong", room, "alice", "OPER admin nope", []),
    ("wallops", opered, "alice", "WALLOPS :hi", ["Wallops"]),
    ("wallops refused", room, "bob", "WALLOPS :hi", []),
    ("chghost", opered, "alice", "CHGHOST bob b host.example", ["HostChanged"]),
    ("kill", opered, "alice", "KILL bob :bye", ["Killed", "UserQuit"]),
    ("kill refused", room, "bob", "KILL alice :x", []),
    ("quit", room, "bob", "QUIT :bye", ["UserQuit"]),
    ("queries", room, "bob", "WHO #a", []),
    ("whois", room, "bob", "WHOIS alice", []),
    ("names list lusers", room, "bob", "NAMES #a", []),
    ("motd", room, "bob", "MOTD", []),
    ("monitor", room, "bob", "MONITOR + carol", []),
    ("ping", room, "bob", "PING x", []),
    ("unknown", room, "bob", "FROB", []),
]


@pytest.mark.parametrize(
    ("setup", "who", "line", "kinds"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_command_publishes_one_event_per_visible_change(
    setup: Setup, who: str, line: str, kinds: list[str]
) -> None:
    h = Harness(OPER_CONFIG)
    clients = setup(h)
    recorder = recording(h)
    clients[who].send(line)
    h.run()
    assert recorder.kinds() == kinds


def test_registration_publishes_the_user_and_its_auto_joins() -> None:
    h = Harness({"server": {"auto_join": ["#lobby", "#help"]}})
    recorder = recording(h)
    h.connect("newcomer")
    assert recorder.kinds() == ["UserRegistered", "Joined", "Joined"]
    registered = recorder.events[0]
    assert isinstance(registered, ev.UserRegistered)
    assert (registered.nick, registered.source) == ("newcomer", "newcomer!~user@10.0.0.1")


def test_a_dropped_connection_publishes_its_quit() -> None:
    h = Harness()
    alice = h.connect("alice")
    recorder = recording(h)
    alice.disconnect()
    assert recorder.kinds() == ["UserQuit"]
    (quit_,) = recorder.events
    assert isinstance(quit_, ev.UserQuit) and quit_.reason == "Connection closed"


# --- the order: subscribers, then apply, then delivery ----------------------------


def test_subscribers_see_the_state_the_event_found_before_anything_is_delivered() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    h.join("#a", alice, bob)
    seen: list[tuple[Any, ...]] = []

    class Watcher:
        def record(self, event: ev.Event) -> None:
            chan = h.server.network.channel("#a")
            assert chan is not None
            members = sorted(u.nick for u in chan.members)
            seen.append((type(event).__name__, members, bob.transport.writes))

    h.server.pipeline.subscribers.append(Watcher())
    writes = bob.transport.writes
    # Not applied yet: alice is still a member (history keeps her QUIT in #a
    # because of it); not delivered yet: bob has no new write.
    alice.send("QUIT :bye")
    assert seen[-1] == ("UserQuit", ["alice", "bob"], writes)
    chan = h.server.network.channel("#a")
    assert chan is not None and sorted(u.nick for u in chan.members) == ["bob"]
    assert [m.command for m in bob.messages()] == ["QUIT"]


def test_the_history_commit_runs_before_any_bytes_leave() -> None:
    h = Harness()
    alice, bob = h.connect("alice"), h.connect("bob")
    h.join("#a", alice, bob)
    at_commit: list[bytes] = []

    def commit() -> None:
        at_commit.append(bytes(bob.transport.data))

    h.server.output.before_write = commit
    bob.transport.take()
    alice.send("PRIVMSG #a :kept before seen")
    assert at_commit and b"kept before seen" not in at_commit[0]
    assert b"kept before seen" in bob.transport.take()


def test_a_change_made_beside_the_pipeline_shows_in_the_replay() -> None:
    # What the replay test would catch if a handler changed state itself.
    h = Harness()
    recorder = recording(h)
    h.connect("alice").send("JOIN #x")
    chan = h.server.network.channel("#x")
    assert chan is not None
    chan.topic = "set behind the pipeline's back"
    fresh = Network()
    for event in recorder.events:
        apply(fresh, event)
    assert fresh.snapshot() != h.server.network.snapshot()


def test_every_event_kind_has_a_reducer_or_changes_nothing_and_a_route() -> None:
    from hubbub.server.apply import APPLY, NO_STATE
    from hubbub.server.delivery import ROUTES

    kinds = set(ev.EVENT_TYPES.values())
    assert set(APPLY) | NO_STATE == kinds
    assert not set(APPLY) & NO_STATE
    assert set(ROUTES) == kinds
