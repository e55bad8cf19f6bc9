"""Applying events to the network: the only code that changes it.

One small function per event kind, ``(network, event) -> None``, in the
:data:`APPLY` table (a reducer, in event-sourcing terms). Each reads only the
network and the event, so applying the same events in the same order gives
the same state anywhere: on this process now, in a test that replays a
recording, on another node later.

Handlers validated the event against the state before publishing it, so here
everything normally fits. A reducer still skips what no longer applies (a
user who left, a channel that emptied) instead of failing: with several
nodes, events that were valid where they were made can meet a state that
moved on, and every node must then skip the same thing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from hubbub import events as ev
from hubbub.protocol import casefold

from .state import Channel, ChannelRegistration, Network, User, rank_sorted

#: List modes by letter: the Channel attribute holding each.
LIST_ATTRS = {"b": "bans", "e": "excepts", "I": "invex"}


def apply(network: Network, event: ev.Event) -> None:
    """Change ``network`` as ``event`` says."""
    reducer = APPLY.get(type(event))
    if reducer is not None:
        reducer(network, event)


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


#: Event kinds that change no state: messages, WALLOPS, and kills (the
#: quit that follows a kill does).
NO_STATE: frozenset[type[Any]] = frozenset(
    {ev.Killed, ev.MessageSent, ev.MessageRedacted, ev.Wallops}
)

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
}
