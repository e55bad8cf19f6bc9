"""Applying events to the network: the only code that changes it.

One small function per event kind, ``(network, event) -> None``, in the
:data:`APPLY` table (a reducer, in event-sourcing terms). Each reads only the
network and the event, so applying the same events in the same order gives
the same state anywhere: on this process now, in a test that replays a
recording, on another node later.

Handlers validated the event against the state before publishing it. With
one process the state cannot move in between, but on a bus between nodes it
can: two nodes accept ``NICK bob`` at the same moment, each valid where it
was made. The log's order settles it: a *guard* per kind (:data:`GUARDS`)
says whether an event still applies to the state it meets, and one that
does not is skipped whole (not recorded, applied nor delivered), the same
way on every node; its origin answers its client as the loser (433 ...).
The reducers still skip parts that no longer apply (a MODE +o for someone
who left) instead of failing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from hubbub import events as ev
from hubbub.protocol import casefold

from .state import Channel, ChannelRegistration, Network, User, WhowasEntry, rank_sorted

#: List modes by letter: the Channel attribute holding each.
LIST_ATTRS = {"b": "bans", "e": "excepts", "I": "invex"}


def apply(
    network: Network, event: ev.Event, record: Callable[[ev.Event], None] | None = None
) -> bool:
    """Change ``network`` as ``event`` says; False (and nothing changed) when
    its guard says it no longer applies. ``record`` (the history recorder's)
    sees each event that applies just before it is applied, as the
    pipeline's subscribers do."""
    kind = type(event)
    guard = GUARDS.get(kind)
    if guard is not None and not guard(network, event):
        return False
    if kind is ev.NodeGone:
        # The node's users quit one by one, as the pipeline does it.
        for quit_ in node_quits(network, event):  # type: ignore[arg-type]
            apply(network, quit_, record)
    if record is not None:
        record(event)
    reducer = APPLY.get(kind)
    if reducer is not None:
        reducer(network, event)
    return True


def _user(network: Network, uid: str) -> User | None:
    return network.by_uid.get(uid)


def _member_channel(network: Network, uid: str, name: str) -> tuple[User, Channel] | None:
    user = network.by_uid.get(uid)
    chan = network.channel(name)
    if user is None or chan is None:
        return None
    return user, chan


def _registered(network: Network, e: ev.UserRegistered) -> None:
    if e.uid in network.by_uid:
        return
    user = User(e.uid, e.nick, e.user, e.host, e.realname, e.time)
    user.account = e.account
    user.tls = e.tls
    user.node = e.node
    network.add_user(user)


def _quit(network: Network, e: ev.UserQuit) -> None:
    user = _user(network, e.uid)
    if user is not None:
        network.remove_user(user, e.time)


def _nick(network: Network, e: ev.NickChanged) -> None:
    user = _user(network, e.uid)
    if user is not None:
        network.rename(user, e.nick, e.time)


def _user_modes(network: Network, e: ev.UserModeChanged) -> None:
    user = _user(network, e.uid)
    if user is None:
        return
    for adding, letter in e.changes:
        network.set_user_mode(user, letter, adding)
        if letter == "o" and not adding:
            user.oper = None


def _oper(network: Network, e: ev.OperUp) -> None:
    user = _user(network, e.uid)
    if user is not None:
        user.oper = e.name
        network.set_user_mode(user, "o", True)


def _away(network: Network, e: ev.AwayChanged) -> None:
    user = _user(network, e.uid)
    if user is not None:
        user.away = e.text


def _realname(network: Network, e: ev.RealnameChanged) -> None:
    user = _user(network, e.uid)
    if user is not None:
        user.realname = sys.intern(e.realname)


def _host(network: Network, e: ev.HostChanged) -> None:
    user = _user(network, e.uid)
    if user is not None:
        network.set_userhost(user, e.user, e.host)


def _account(network: Network, e: ev.AccountChanged) -> None:
    user = _user(network, e.uid)
    if user is not None:
        user.account = e.account


def _joined(network: Network, e: ev.Joined) -> None:
    user = _user(network, e.uid)
    if user is not None and casefold(e.channel) not in user.channels:
        chan = network.join(user, e.channel, e.time)
        if e.modes:
            chan.members[user] = rank_sorted(chan.members[user] + e.modes)


def _parted(network: Network, e: ev.Parted) -> None:
    found = _member_channel(network, e.uid, e.channel)
    if found is not None:
        network.part(*found)


def _kicked(network: Network, e: ev.Kicked) -> None:
    found = _member_channel(network, e.target, e.channel)
    if found is not None:
        network.part(*found)


def _topic(network: Network, e: ev.TopicChanged) -> None:
    chan = network.channel(e.channel)
    if chan is not None:
        chan.topic = e.topic
        chan.topic_setter = e.source
        chan.topic_time = e.time


def _channel_modes(network: Network, e: ev.ChannelModeChanged) -> None:
    chan = network.channel(e.channel)
    if chan is None:
        return
    for adding, letter, arg in e.changes:
        if letter in LIST_ATTRS:
            entries: dict[str, tuple[str, float]] = getattr(chan, LIST_ATTRS[letter])
            if adding:
                entries[arg or ""] = (e.source, e.time)
            else:
                entries.pop(arg or "", None)
        elif letter in "ov":
            member = network.user(arg or "")
            current = chan.members.get(member) if member is not None else None
            if member is None or current is None:
                continue
            chan.members[member] = (
                rank_sorted(current + letter) if adding else current.replace(letter, "")
            )
        elif letter == "k":
            chan.key = arg if adding else None
        elif letter == "l":
            chan.limit = int(arg or 0) if adding else None
        elif adding:
            chan.modes.add(letter)
        else:
            chan.modes.discard(letter)


def _invited(network: Network, e: ev.Invited) -> None:
    chan = network.channel(e.channel)
    target = _user(network, e.target)
    if chan is not None and target is not None:
        chan.invited.add(target.nick_cf)


def _renamed(network: Network, e: ev.ChannelRenamed) -> None:
    chan = network.channel(e.channel)
    if chan is not None and network.channel(e.new) in (None, chan):
        network.rename_channel(chan, e.new)


def _server_room(network: Network, e: ev.ServerRoomChanged) -> None:
    network.hold_channel(e.channel, e.time, e.held)


def _channel_registered(network: Network, e: ev.ChannelRegistered) -> None:
    registration = ChannelRegistration(e.founder, e.time) if e.founder is not None else None
    network.register_channel(e.channel, e.time, registration)


def _access(network: Network, e: ev.ChannelAccessChanged) -> None:
    chan = network.channel(e.channel)
    if chan is None or chan.registration is None:
        return
    if e.modes:
        chan.registration.access[casefold(e.account)] = e.modes
    else:
        chan.registration.access.pop(casefold(e.account), None)


def _restored(network: Network, e: ev.ChannelRestored) -> None:
    registration = ChannelRegistration(e.founder, e.registered)
    registration.access.update((casefold(a), modes) for a, modes in e.access)
    chan = network.register_channel(e.channel, e.created, registration)
    if chan is None:
        return
    chan.created = e.created
    chan.topic, chan.topic_setter, chan.topic_time = e.topic, e.topic_setter, e.topic_time
    chan.modes = set(e.modes)
    chan.key, chan.limit = e.key, e.limit
    for letter, entries in (("b", e.bans), ("e", e.excepts), ("I", e.invex)):
        kept: dict[str, tuple[str, float]] = getattr(chan, LIST_ATTRS[letter])
        kept.update((mask, (setter, when)) for mask, setter, when in entries)


def _node_joined(network: Network, e: ev.NodeJoined) -> None:
    network.nodes[e.node] = e.epoch


def _node_gone(network: Network, e: ev.NodeGone) -> None:
    # Its users are gone already (node_quits, applied before this).
    network.nodes.pop(e.node, None)


def node_quits(network: Network, e: ev.NodeGone) -> list[ev.UserQuit]:
    """The QUIT of each user of the node that left, in uid order: what a
    :class:`~hubbub.events.NodeGone` stands for. Their msgids derive from
    the NodeGone's, so every node makes the same ones."""
    users = sorted((u for u in network.by_uid.values() if u.node == e.node), key=_uid)
    return [
        ev.UserQuit(f"{e.msgid}-{i}", e.time, u.uid, u.source, e.reason)
        for i, u in enumerate(users)
    ]


def _uid(user: User) -> str:
    return user.uid


#: Event kinds that change no state: messages, WALLOPS, kills (the quit
#: that follows a kill does) and account news (account data is the store's).
NO_STATE: frozenset[type[Any]] = frozenset(
    {ev.Killed, ev.MessageSent, ev.MessageRedacted, ev.Wallops, ev.AccountRegistered,
     ev.AccountDropped}
)  # fmt: skip

#: Each event type that changes state, and its reducer.
APPLY: dict[type[Any], Callable[[Network, Any], None]] = {
    ev.UserRegistered: _registered,
    ev.UserQuit: _quit,
    ev.NickChanged: _nick,
    ev.UserModeChanged: _user_modes,
    ev.OperUp: _oper,
    ev.AwayChanged: _away,
    ev.RealnameChanged: _realname,
    ev.HostChanged: _host,
    ev.AccountChanged: _account,
    ev.Joined: _joined,
    ev.Parted: _parted,
    ev.Kicked: _kicked,
    ev.TopicChanged: _topic,
    ev.ChannelModeChanged: _channel_modes,
    ev.Invited: _invited,
    ev.ChannelRenamed: _renamed,
    ev.ServerRoomChanged: _server_room,
    ev.ChannelRegistered: _channel_registered,
    ev.ChannelAccessChanged: _access,
    ev.ChannelRestored: _restored,
    ev.NodeJoined: _node_joined,
    ev.NodeGone: _node_gone,
}


# --- guards: whether an event still applies to the state it meets ------------


def _has_user(network: Network, e: Any) -> bool:
    return e.uid in network.by_uid


def _registered_applies(network: Network, e: ev.UserRegistered) -> bool:
    # A nick race between nodes: the first registration in the log wins.
    return (
        e.uid not in network.by_uid
        and network.user(e.nick) is None
        and (not e.node or e.node in network.nodes)
    )


def _nick_applies(network: Network, e: ev.NickChanged) -> bool:
    user = network.by_uid.get(e.uid)
    holder = network.user(e.nick)
    return user is not None and (holder is None or holder is user)


def _joined_applies(network: Network, e: ev.Joined) -> bool:
    user = network.by_uid.get(e.uid)
    return user is not None and casefold(e.channel) not in user.channels


def _parted_applies(network: Network, e: ev.Parted) -> bool:
    user = network.by_uid.get(e.uid)
    return user is not None and casefold(e.channel) in user.channels


def _kicked_applies(network: Network, e: ev.Kicked) -> bool:
    target = network.by_uid.get(e.target)
    return target is not None and casefold(e.channel) in target.channels


def _target_applies(network: Network, e: ev.Killed) -> bool:
    return e.target in network.by_uid


def _channel_exists(network: Network, e: Any) -> bool:
    return network.channel(e.channel) is not None


def _invited_applies(network: Network, e: ev.Invited) -> bool:
    return network.channel(e.channel) is not None and e.target in network.by_uid


def _renamed_applies(network: Network, e: ev.ChannelRenamed) -> bool:
    chan = network.channel(e.channel)
    return chan is not None and network.channel(e.new) in (None, chan)


def _room_applies(network: Network, e: ev.ServerRoomChanged) -> bool:
    # Every node that starts asks for the rooms of its config: the first
    # request in the log takes them, the others change nothing.
    chan = network.channel(e.channel)
    return (chan is None or not chan.server_room) if e.held else (
        chan is not None and chan.server_room
    )  # fmt: skip


def _channel_registered_applies(network: Network, e: ev.ChannelRegistered) -> bool:
    chan = network.channel(e.channel)
    if e.founder is None:
        return chan is not None and chan.registration is not None
    return chan is None or chan.registration is None


def _access_applies(network: Network, e: ev.ChannelAccessChanged) -> bool:
    chan = network.channel(e.channel)
    return chan is not None and chan.registration is not None


def _restored_applies(network: Network, e: ev.ChannelRestored) -> bool:
    # Nodes that start together may each restore the kept channels.
    chan = network.channel(e.channel)
    return chan is None or chan.registration is None


def _node_joined_applies(network: Network, e: ev.NodeJoined) -> bool:
    return network.nodes.get(e.node) != e.epoch


def _node_gone_applies(network: Network, e: ev.NodeGone) -> bool:
    return network.nodes.get(e.node) == e.epoch


#: Each event kind that can meet a state where it no longer applies, and the
#: test. Messages have none: a line validated on its node before a KICK that
#: comes first in the log is still shown, as on any IRC network (the sender
#: could not have seen the KICK); and the relay path stays as cheap as it was.
GUARDS: dict[type[Any], Callable[[Network, Any], bool]] = {
    ev.UserRegistered: _registered_applies,
    ev.UserQuit: _has_user,
    ev.Killed: _target_applies,
    ev.NickChanged: _nick_applies,
    ev.UserModeChanged: _has_user,
    ev.OperUp: _has_user,
    ev.AwayChanged: _has_user,
    ev.RealnameChanged: _has_user,
    ev.HostChanged: _has_user,
    ev.AccountChanged: _has_user,
    ev.Joined: _joined_applies,
    ev.Parted: _parted_applies,
    ev.Kicked: _kicked_applies,
    ev.TopicChanged: _channel_exists,
    ev.ChannelModeChanged: _channel_exists,
    ev.Invited: _invited_applies,
    ev.ChannelRenamed: _renamed_applies,
    ev.ServerRoomChanged: _room_applies,
    ev.ChannelRegistered: _channel_registered_applies,
    ev.ChannelAccessChanged: _access_applies,
    ev.ChannelRestored: _restored_applies,
    ev.NodeJoined: _node_joined_applies,
    ev.NodeGone: _node_gone_applies,
}


# --- a snapshot back into a network ------------------------------------------


def _entries(data: Mapping[str, Any]) -> dict[str, tuple[str, float]]:
    return {mask: (setter, when) for mask, (setter, when) in data.items()}


def load_snapshot(network: Network, data: Mapping[str, Any]) -> None:
    """Make an empty ``network`` the one :meth:`Network.snapshot` described
    (after a round trip through JSON): how a node that joins a cluster late
    starts, before it reads the rest of the log."""
    assert not network.by_uid and not network.channels, "load_snapshot needs an empty network"
    for uid, u in data["users"].items():
        user = User(uid, u["nick"], u["user"], u["host"], u["realname"], u["signon"])
        user.away, user.account, user.oper, user.tls = u["away"], u["account"], u["oper"], u["tls"]
        user.node = u.get("node", "")
        for letter in u["modes"]:
            network.set_user_mode(user, letter, True)
        network.add_user(user)
    for cf, c in data["channels"].items():
        chan = Channel(c["name"], c["created"])
        chan.topic, chan.topic_setter, chan.topic_time = c["topic"], c["topic_setter"], c[
            "topic_time"
        ]
        chan.modes, chan.key, chan.limit = set(c["modes"]), c["key"], c["limit"]
        chan.bans, chan.excepts, chan.invex = (
            _entries(c["bans"]), _entries(c["excepts"]), _entries(c["invex"])
        )  # fmt: skip
        chan.invited = set(c["invited"])
        chan.server_room = c["server_room"]
        reg = c["registration"]
        if reg is not None:
            chan.registration = ChannelRegistration(reg["founder"], reg["registered"])
            chan.registration.access.update(reg["access"])
        for uid, modes in c["members"].items():
            member = network.by_uid[uid]
            chan.members[member] = modes
            member.channels[cf] = chan
        network.channels[cf] = chan
    network.whowas.extend(WhowasEntry(*entry) for entry in data["whowas"])
    network.nodes.update(data.get("nodes", {}))


def clear_network(network: Network) -> None:
    """Empty ``network`` in place (every part of the server holds this
    object): a cluster node whose log was lost starts again from nothing."""
    network.users.clear()
    network.by_uid.clear()
    network.channels.clear()
    network.whowas.clear()
    network.invisible.clear()
    network.opers.clear()
    network.nodes.clear()
