"""What the client learns about channels: joins, parts, kicks, quits, nick
changes, topics, member lists (NAMES) and prefix modes (MODE).

A mixin of :class:`~.session.ClientSession` (split out to keep that module a
readable size): each ``_on_<COMMAND>`` applies one line to
:class:`~.state.ClientState` and returns the events it makes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from hubbub.protocol import Message, split_userhost

from . import events as ev
from .state import Channel, ClientState, Member


class ChannelHandlers:
    """The channel part of :class:`~.session.ClientSession` (a mixin)."""

    state: ClientState
    wanted_nick: str
    rejoin: dict[str, str]
    _names_pending: set[str]
    _names_requested: set[str]
    _known_accounts: dict[str, dict[str, str | None]]

    if TYPE_CHECKING:

        def _time(self, msg: Message) -> datetime: ...
        def _nick(self, msg: Message) -> str: ...
        def _on_numeric(self, msg: Message) -> list[ev.Event]: ...
        def _buffer_for_target(self, target: str) -> str | None: ...
        def _ask_accounts(self, channel: str) -> None: ...

    def _on_JOIN(self, msg: Message) -> list[ev.Event]:
        if not msg.params:
            return []
        name = msg.params[0]
        nick = self._nick(msg)
        state = self.state
        key = state.server.fold(name)
        own = state.is_me(nick)
        if own:
            state.channels[key] = Channel(name)
            self.rejoin[key] = name
        chan = state.channels.get(key)
        if chan is None:
            return []
        # extended-join: JOIN <channel> <account|*> :<realname>
        account = msg.params[1] if len(msg.params) >= 3 and msg.params[1] != "*" else None
        chan.members[state.server.fold(nick)] = Member(nick, account=account)
        return [ev.Join(chan.name, nick, own, self._time(msg))]

    def _on_PART(self, msg: Message) -> list[ev.Event]:
        if not msg.params:
            return []
        nick = self._nick(msg)
        reason = msg.params[1] if len(msg.params) > 1 else ""
        return self._leave(
            msg.params[0], nick, lambda name, own: ev.Part(name, nick, reason, own, self._time(msg))
        )

    def _on_KICK(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        by = self._nick(msg)
        nick = msg.params[1]
        reason = msg.params[2] if len(msg.params) > 2 else ""
        return self._leave(
            msg.params[0],
            nick,
            lambda name, own: ev.Kick(name, nick, by, reason, own, self._time(msg)),
        )

    def _leave(
        self, channel: str, nick: str, make: Callable[[str, bool], ev.Event]
    ) -> list[ev.Event]:
        state = self.state
        key = state.server.fold(channel)
        chan = state.channels.get(key)
        if chan is None:
            return []
        own = state.is_me(nick)
        if own:
            del state.channels[key]
            self.rejoin.pop(key, None)
        else:
            chan.members.pop(state.server.fold(nick), None)
        return [make(chan.name, own)]

    def _on_QUIT(self, msg: Message) -> list[ev.Event]:
        nick = self._nick(msg)
        key = self.state.server.fold(nick)
        shared = self.state.shared_channels(nick)
        for chan in shared:
            del chan.members[key]
        reason = msg.params[0] if msg.params else ""
        names = tuple(chan.name for chan in shared)
        return [ev.Quit(nick, reason, names, self._time(msg))]

    def _on_NICK(self, msg: Message) -> list[ev.Event]:
        if not msg.params:
            return []
        old = self._nick(msg)
        new = msg.params[0]
        state = self.state
        own = state.is_me(old)
        old_key, new_key = state.server.fold(old), state.server.fold(new)
        shared = state.shared_channels(old)
        for chan in shared:
            member = chan.members.pop(old_key)
            member.nick = new
            chan.members[new_key] = member
        if own:
            state.nick = new
            self.wanted_nick = new
        names = tuple(chan.name for chan in shared)
        return [ev.NickChange(old, new, own, names, self._time(msg))]

    def _on_TOPIC(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        chan = self.state.channel(msg.params[0])
        setter = self._nick(msg)
        name = chan.name if chan else msg.params[0]
        if chan is not None:
            chan.topic, chan.topic_setter = msg.params[1], setter
        return [ev.Topic(name, msg.params[1], setter, True, self._time(msg))]

    def _on_332(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 3:
            return []
        chan = self.state.channel(msg.params[1])
        if chan is None:
            return self._on_numeric(msg)
        chan.topic = msg.params[2]
        return [ev.Topic(chan.name, chan.topic, None, False, self._time(msg))]

    def _on_333(self, msg: Message) -> list[ev.Event]:
        chan = self.state.channel(msg.params[1]) if len(msg.params) >= 3 else None
        if chan is not None:
            chan.topic_setter = split_userhost(msg.params[2]).nick
        return []

    def _on_331(self, msg: Message) -> list[ev.Event]:
        chan = self.state.channel(msg.params[1]) if len(msg.params) >= 2 else None
        if chan is None:
            return []
        chan.topic, chan.topic_setter = "", None
        return [ev.Topic(chan.name, "", None, False, self._time(msg))]

    def _on_353(self, msg: Message) -> list[ev.Event]:
        # RPL_NAMREPLY: <me> <symbol> <channel> :<[prefixes]nick[!user@host]> ...
        if len(msg.params) < 4:
            return []
        state = self.state
        key = state.server.fold(msg.params[2])
        chan = state.channels.get(key)
        if chan is not None:
            if key not in self._names_pending:
                # A fresh list replaces the old one (a repeated NAMES); the
                # accounts we knew stay (NAMES does not carry them).
                self._names_pending.add(key)
                self._known_accounts[key] = {k: m.account for k, m in chan.members.items()}
                chan.members.clear()
            known = self._known_accounts.get(key, {})
            for entry in msg.params[3].split():
                prefixes, rest = state.server.split_prefixes(entry)
                nick = split_userhost(rest).nick
                if nick:
                    folded = state.server.fold(nick)
                    chan.members[folded] = Member(
                        nick, state.server.sort_prefixes(prefixes), account=known.get(folded)
                    )
        if key in self._names_requested:
            text = f"Users on {msg.params[2]}: {msg.params[3]}"
            return [
                ev.ServerReply(
                    msg.command,
                    msg.params,
                    text,
                    self._buffer_for_target(msg.params[2]),
                    self._time(msg),
                )
            ]
        return []

    def _on_366(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        key = self.state.server.fold(msg.params[1])
        self._names_pending.discard(key)
        self._names_requested.discard(key)
        self._known_accounts.pop(key, None)
        chan = self.state.channels.get(key)
        if chan is None:
            return []
        if not chan.names_complete:
            self._ask_accounts(chan.name)  # who was here already, logged in to what
        chan.names_complete = True
        return [ev.Members(chan.name)]

    def _on_MODE(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        target, modes, args = msg.params[0], msg.params[1], msg.params[2:]
        time = self._time(msg)
        change = ev.ModeChange(target, self._nick(msg), modes, tuple(args), time)
        chan = self.state.channel(target)
        if chan is None:
            return [change]
        server = self.state.server
        list_modes, always, when_set, _flags = server.chanmodes
        adding, queue, changed = True, list(args), False
        for mode in modes:
            if mode in "+-":
                adding = mode == "+"
                continue
            takes_arg = (
                mode in server.prefix_modes
                or mode in list_modes
                or mode in always
                or (adding and mode in when_set)
            )
            arg = queue.pop(0) if takes_arg and queue else None
            if mode in server.prefix_modes and arg is not None:
                member = chan.members.get(server.fold(arg))
                if member is None:
                    continue
                symbol = server.prefix_symbols[server.prefix_modes.index(mode)]
                if adding:
                    member.prefixes = server.sort_prefixes(member.prefixes + symbol)
                else:
                    member.prefixes = member.prefixes.replace(symbol, "")
                changed = True
        return [change, ev.Members(chan.name)] if changed else [change]
