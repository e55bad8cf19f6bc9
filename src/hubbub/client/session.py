"""The client side of IRC, sans-I/O: messages in, events and messages out.

Theory of operation
-------------------
:class:`ClientSession` is the whole client protocol without a socket, like
h11's ``Connection``. The I/O wrapper (:mod:`.connection`) calls
:meth:`connection_made` when a socket opens, feeds every parsed line to
:meth:`receive`, writes whatever :meth:`data_to_send` returns, and calls
:meth:`connection_lost` when the socket closes. Tests join a session to a
scripted server in memory with no sockets at all.

Registration goes ``CAP LS 302``, ``NICK``, ``USER``; the server holds
registration until we answer the capability list with ``CAP REQ`` (the
intersection of what we want and what it offers) and ``CAP END``. A server
that does not know CAP ignores or rejects it and registers us anyway, so
nothing waits on CAP. After RPL_WELCOME we rejoin the channels we were in
before a reconnect, and after the MOTD we send a PING with a private token:
the server answers lines in order, so its PONG proves that everything it did
on connect (an auto-join, say) has reached us, and we report :class:`Ready`.

A refused nick before registration either waits for :meth:`set_nick` (a
person chooses, ``alt_nicks=False``) or tries ``nick_``, ``nick__``...
(bots, and every reconnect: the person chose a nick already).

With credentials the session logs in with SASL before ``CAP END`` (see
:mod:`.accounts`, which also tracks who is logged in to what).

Own messages: with ``echo-message`` the server echoes what we send and we
report the echo (it carries the server's timestamp and proves delivery);
without it we report the message ourselves at once.

History: lines inside a ``chathistory`` batch (the answer to
:meth:`ClientSession.history`, or a server's replay on join) or a search
batch are past messages. They are collected, marked ``history``, and
reported as one :class:`~.events.History` or :class:`~.events.SearchResults`
when the batch ends; they never change the present state (a JOIN from the
past adds nobody to a member list).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime

from hubbub.protocol import Message, serialise_tags, split_userhost
from hubbub.protocol import numerics as n

from . import events as ev
from .accounts import AccountHandlers, Credentials
from .batches import HISTORY_BATCH, Batches, Closed
from .channel_handlers import ChannelHandlers
from .replies import SILENT, is_error, render_numeric
from .state import ClientState
from .text import CTCP_DELIM, ctcp, parse_server_time, payload_budget, split_text, utcnow

#: The IRCv3 capabilities the client understands and asks for when offered.
WANTED_CAPS = frozenset(
    {
        "server-time",
        "echo-message",
        "message-tags",
        "multi-prefix",
        "away-notify",
        "batch",
        "account-notify",
        "account-tag",
        "extended-join",
        "userhost-in-names",
        "cap-notify",
        "chghost",
        "invite-notify",
        "setname",
        # History: we ask for it ourselves (so the server replays nothing on
        # join), and search it.
        "draft/chathistory",
        "draft/search",
    }
)

_READY_TOKEN = "hubbub-ready"
_NICK_REFUSED = frozenset(
    {n.ERR_NICKNAMEINUSE, n.ERR_ERRONEUSNICKNAME, "436", "437"}  # collision, unavailable
)
_VERSION = "hubbub (https://hubbub.invalid) IRC client"


class ClientSession(ChannelHandlers, AccountHandlers):
    """One client's protocol state machine; see the module docstring."""

    def __init__(
        self,
        nick: str,
        *,
        user: str = "hubbub",
        realname: str = "hubbub user",
        password: str | None = None,
        credentials: Credentials | None = None,
        caps: Iterable[str] = WANTED_CAPS,
        alt_nicks: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.wanted_nick = nick
        #: The account to log in to with SASL on every connection, if any.
        self.credentials = credentials
        self._login = None
        self.user = user
        self.realname = realname
        self.password = password
        self.wanted_caps = frozenset(caps)
        self.alt_nicks = alt_nicks
        self.clock = clock
        self.state = ClientState(nick)
        #: Channels to (re)join after registration: casefolded -> name as typed.
        self.rejoin: dict[str, str] = {}
        self.ever_registered = False
        self.ready = False
        self._outbox: list[Message] = []
        self._cap_offered: set[str] = set()
        self._cap_values: dict[str, str | None] = {}
        self._cap_pending = 0  # REQs not yet ACKed or NAKed
        self._cap_negotiating = False
        self._alt_attempt = 0
        self._batches = Batches()
        self._names_pending: set[str] = set()
        self._names_requested: set[str] = set()
        self._known_accounts: dict[str, dict[str, str | None]] = {}

    # -- driving the session ------------------------------------------------

    def connection_made(self) -> None:
        """A socket opened: start registration."""
        nick = self.state.nick if self.ever_registered else self.wanted_nick
        self.state = ClientState(nick)
        self.ready = False
        self._outbox.clear()
        self._cap_offered.clear()
        self._cap_values.clear()
        self._login = None
        self._cap_pending = 0
        self._cap_negotiating = True
        self._alt_attempt = 0
        self._batches.clear()
        self._names_pending.clear()
        self._names_requested.clear()
        if self.password:
            self._send("PASS", self.password)
        self._send("CAP", "LS", "302")
        self._send("NICK", nick)
        self._send("USER", self.user, "0", "*", self.realname)

    def connection_lost(self) -> None:
        """The socket closed: forget per-connection state. ``rejoin`` already
        holds every channel we were in (our own JOINs add to it)."""
        self.state.registered = False
        self.state.channels.clear()
        self.ready = False

    def data_to_send(self) -> list[Message]:
        """The messages queued since the last call, in order."""
        out, self._outbox = self._outbox, []
        return out

    def receive(self, msg: Message) -> list[ev.Event]:
        """Apply one line from the server; return what happened."""
        past = self._batches.past(msg.tags.get("batch"))
        if past is not None:
            # Past lines: collect the messages; never re-apply joins or parts
            # from the past to the present member lists.
            if msg.command in ("PRIVMSG", "NOTICE"):
                kind: ev.MessageKind = "privmsg" if msg.command == "PRIVMSG" else "notice"
                past += [e for e in self._chat(msg, kind) if isinstance(e, ev.ChatMessage)]
            return []
        handler = getattr(self, "_on_" + msg.command.upper(), None)
        if handler is not None:
            result: list[ev.Event] = handler(msg)
            return result
        if msg.command.isdigit():
            return self._on_numeric(msg)
        return []

    # -- commands from the user --------------------------------------------

    def send_raw(self, msg: Message) -> None:
        """Queue any message as is (``/quote``)."""
        self._outbox.append(msg)

    def set_nick(self, nick: str) -> None:
        """Ask for a new nick (also the answer to a pre-registration
        :class:`~.events.NickInUse`)."""
        if not self.state.registered:
            self.wanted_nick = nick
            self.state.nick = nick
        self._send("NICK", nick)

    def join(self, channel: str, key: str | None = None) -> None:
        """Join ``channel`` (remembered for rejoining after a reconnect)."""
        self.rejoin[self.state.server.fold(channel)] = channel
        if key:
            self._send("JOIN", channel, key)
        else:
            self._send("JOIN", channel)

    def part(self, channel: str, reason: str = "") -> None:
        """Leave ``channel`` (and stop rejoining it)."""
        self.rejoin.pop(self.state.server.fold(channel), None)
        if reason:
            self._send("PART", channel, reason)
        else:
            self._send("PART", channel)

    def message(self, target: str, text: str, kind: ev.MessageKind = "privmsg") -> list[ev.Event]:
        """Send text to a channel or nick, split to fit; return the local
        echo events (empty when the server will echo, with echo-message)."""
        command = "NOTICE" if kind == "notice" else "PRIVMSG"
        overhead = len("\x01ACTION \x01") if kind == "action" else 0
        budget = payload_budget(self.state.nick, command, target) - overhead
        out: list[ev.Event] = []
        for line in text.split("\n"):
            for piece in split_text(line, budget):
                body = f"{CTCP_DELIM}ACTION {piece}{CTCP_DELIM}" if kind == "action" else piece
                if not body:
                    continue
                self._send(command, target, body)
                if "echo-message" not in self.state.caps:
                    out.append(
                        ev.ChatMessage(
                            buffer=self._private_buffer(target),
                            nick=self.state.nick,
                            target=target,
                            text=piece,
                            kind=kind,
                            own=True,
                            time=self.clock(),
                        )
                    )
        return out

    def history(self, target: str, limit: int = 50, before: str | None = None) -> None:
        """Ask for ``target``'s latest ``limit`` messages, or those before the
        message ``before`` (a msgid); the answer is a :class:`~.events.History`."""
        limit = max(1, min(limit, self.history_limit))
        self._batches.asked[self.state.server.fold(target)] = (limit, before)
        if before is None:
            self._send("CHATHISTORY", "LATEST", target, "*", str(limit))
        else:
            self._send("CHATHISTORY", "BEFORE", target, f"msgid={before}", str(limit))

    def search(self, text: str, target: str | None = None, limit: int = 50) -> None:
        """Search history for ``text`` (in ``target`` only, if given); the
        answer is a :class:`~.events.SearchResults`."""
        attrs = {"text": text, "limit": str(limit)}
        if target:
            attrs["in"] = target
        self._batches.searches.append(text)
        self._send("SEARCH", serialise_tags(attrs))

    @property
    def history_limit(self) -> int:
        """The most messages one history request may ask for (ISUPPORT CHATHISTORY)."""
        value = self.state.server.features.get("CHATHISTORY") or ""
        return int(value) if value.isdigit() and int(value) > 0 else 100

    def names(self, channel: str) -> None:
        """Ask for the member list of ``channel`` and report it as text."""
        self._names_requested.add(self.state.server.fold(channel))
        self._send("NAMES", channel)

    def quit(self, reason: str = "") -> None:
        """Say goodbye; the server closes the connection."""
        self.rejoin.clear()
        self._send("QUIT", reason or "Leaving")

    # -- internals ---------------------------------------------------------

    def _send(self, command: str, *params: str) -> None:
        self._outbox.append(Message(command, tuple(params)))

    def _time(self, msg: Message) -> datetime:
        return parse_server_time(msg.tags.get("time")) or self.clock()

    def _private_buffer(self, other: str) -> str | None:
        return other if other and other != "*" else None

    def _buffer_for_target(self, target: str) -> str | None:
        """The buffer a reply about ``target`` belongs to, if it names one."""
        if self.state.server.is_channel(target) and self.state.channel(target):
            return self.state.channel(target).name  # type: ignore[union-attr]
        return None

    def _nick(self, msg: Message) -> str:
        return split_userhost(msg.source or "").nick

    def _finish_caps(self) -> None:
        if self._cap_negotiating and self._cap_pending == 0 and self._login is None:
            self._cap_negotiating = False
            self._send("CAP", "END")

    def _next_alt_nick(self, refused: str, code: str) -> str:
        self._alt_attempt += 1
        maxlen = self.state.server.nicklen
        if code == n.ERR_ERRONEUSNICKNAME or self._alt_attempt > 4:
            return f"Guest{random.randint(1000, 99999)}"[:maxlen]
        base = self.wanted_nick[: maxlen - self._alt_attempt]
        return base + "_" * self._alt_attempt

    # -- handlers: connection and registration -------------------------------

    def _on_PING(self, msg: Message) -> list[ev.Event]:
        self._send("PONG", *msg.params) if msg.params else self._send("PONG", "hubbub")
        return []

    def _on_PONG(self, msg: Message) -> list[ev.Event]:
        if msg.params and msg.params[-1] == _READY_TOKEN and not self.ready:
            self.ready = True
            return [ev.Ready(self.state.nick)]
        return []

    def _on_CAP(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 3:
            return []
        sub = msg.params[1].upper()
        # "CAP * LS * :a b" continues; the last line has no "*".
        more = len(msg.params) >= 4 and msg.params[2] == "*"
        tokens = [token.partition("=") for token in msg.params[-1].split()]
        names = [name for name, _, _ in tokens]
        if sub in ("LS", "NEW"):
            self._cap_values.update((name, value if eq else None) for name, eq, value in tokens)
        if sub == "LS":
            self._cap_offered.update(names)
            if not more:
                self._request(self._cap_offered)
        elif sub == "ACK":
            for name in names:
                if name.startswith("-"):
                    self.state.caps.discard(name[1:])
                else:
                    self.state.caps.add(name)
            self._cap_pending = max(self._cap_pending - 1, 0)
            if "sasl" in names and not self.state.registered:
                self._start_login()
            self._finish_caps()
        elif sub == "NAK":
            self._cap_pending = max(self._cap_pending - 1, 0)
            self._finish_caps()
        elif sub == "NEW":
            self._cap_offered.update(names)
            self._request(set(names))
        elif sub == "DEL":
            self.state.caps.difference_update(names)
            self._cap_offered.difference_update(names)
        return []

    def _request(self, offered: set[str]) -> None:
        wanted_caps = self.wanted_caps | {"sasl"} if self.credentials else self.wanted_caps
        wanted = sorted((offered & wanted_caps) - self.state.caps)
        if wanted:
            self._cap_pending += 1
            self._send("CAP", "REQ", " ".join(wanted))
        self._finish_caps()

    def _on_001(self, msg: Message) -> list[ev.Event]:
        state = self.state
        state.registered = True
        self.ever_registered = True
        if msg.params:
            state.nick = msg.params[0]
        state.server.name = msg.source or ""
        # A server without CAP may still be waiting for nothing; make sure a
        # half-done negotiation does not linger.
        self._cap_negotiating = False
        if self.rejoin:
            # Comma lists keep this to one line per ~20 channels.
            names = list(self.rejoin.values())
            for start in range(0, len(names), 20):
                self._send("JOIN", ",".join(names[start : start + 20]))
        registered = ev.Registered(state.nick, state.server.name, frozenset(state.caps))
        return [registered, *self._on_numeric(msg)]

    def _on_005(self, msg: Message) -> list[ev.Event]:
        self.state.server.apply_isupport(list(msg.params[1:-1]))
        return []

    def _end_of_motd(self, msg: Message) -> list[ev.Event]:
        if not self.ready:
            self._send("PING", _READY_TOKEN)
        if msg.command == n.ERR_NOMOTD:
            # An error numeric only by number: a server without a MOTD is fine.
            text = render_numeric(msg)
            return [ev.ServerReply(msg.command, msg.params, text, None, self._time(msg))]
        return []

    _on_376 = _end_of_motd
    _on_422 = _end_of_motd

    def _on_ERROR(self, msg: Message) -> list[ev.Event]:
        text = msg.params[-1] if msg.params else "closing link"
        return [ev.ServerError("ERROR", msg.params, text, None, self._time(msg))]

    def _on_BATCH(self, msg: Message) -> list[ev.Event]:
        if not msg.params:
            return []
        ref = msg.params[0]
        if ref.startswith("+") and len(msg.params) >= 2:
            self._batches.start(ref[1:], msg.params[1], msg.params[2:])
        elif ref.startswith("-"):
            closed = self._batches.end(ref[1:])
            if closed is not None:
                return [self._past(closed)]
        return []

    def _past(self, closed: Closed) -> ev.Event:
        """The event a finished history or search batch makes."""
        messages = closed.messages
        if closed.kind != HISTORY_BATCH:
            return ev.SearchResults(self._batches.answer_search(), messages)
        target = closed.params[0] if closed.params else ""
        limit, before = self._batches.answer(self.state.server.fold(target))
        server = self.state.server
        if server.is_channel(target):
            chan = self.state.channel(target)
            buffer: str | None = chan.name if chan else target
        else:
            buffer = self._private_buffer(target)
        return ev.History(buffer, target, messages, before, limit > 0 and len(messages) < limit)

    def _on_numeric(self, msg: Message) -> list[ev.Event]:
        code = msg.command
        state = self.state
        time = self._time(msg)
        if code in _NICK_REFUSED and len(msg.params) >= 2:
            refused = msg.params[1] if len(msg.params) >= 3 else state.nick
            reason = msg.params[-1]
            if not state.registered:
                if self.alt_nicks or self.ever_registered:
                    alt = self._next_alt_nick(refused, code)
                    state.nick = alt
                    self._send("NICK", alt)
                    text = f"Nickname {refused} is unavailable ({reason}); trying {alt}"
                    return [ev.ServerReply(code, msg.params, text, None, time)]
                return [ev.NickInUse(refused, reason, registered=False)]
            return [ev.NickInUse(refused, reason, registered=True)]
        # Old servers reject CAP before registration; nothing is wrong.
        if (
            code in (n.ERR_UNKNOWNCOMMAND, n.ERR_NOTREGISTERED)
            and not state.registered
            and len(msg.params) >= 2
            and msg.params[1].upper() == "CAP"
        ):
            self._cap_negotiating = False
            return []
        if code in SILENT:
            return []
        text = render_numeric(msg)
        if not text:
            return []
        args = msg.params[1:]
        buffer = self._buffer_for_target(args[0]) if args else None
        if is_error(code):
            return [ev.ServerError(code, msg.params, text, buffer, time)]
        return [ev.ServerReply(code, msg.params, text, buffer, time)]

    # -- handlers: messages and presence -----------------------------------

    def _on_PRIVMSG(self, msg: Message) -> list[ev.Event]:
        return self._chat(msg, "privmsg")

    def _on_NOTICE(self, msg: Message) -> list[ev.Event]:
        return self._chat(msg, "notice")

    def _chat(self, msg: Message, kind: ev.MessageKind) -> list[ev.Event]:
        if len(msg.params) < 2:
            return []
        state = self.state
        target, text = msg.params[0], msg.params[1]
        source = msg.source or ""
        is_user = "!" in source or "@" in source
        nick = split_userhost(source).nick if source else state.server.name
        own = is_user and state.is_me(nick)
        # STATUSMSG: "@#chan" is a message to the channel's ops.
        bare = target.lstrip(state.server.statusmsg) if state.server.statusmsg else target
        time = self._time(msg)
        if state.server.is_channel(bare):
            chan = state.channel(bare)
            buffer: str | None = chan.name if chan else bare
        elif not is_user or not state.registered:
            buffer = None
        else:
            buffer = target if own else nick
        ref = msg.tags.get("batch")
        past = self._batches.past(ref) is not None
        about = self._batches.history_target(ref)
        if about is not None and state.server.is_channel(about):
            buffer = about
        parsed = ctcp(text)
        if parsed is not None:
            command, arg = parsed
            if command != "ACTION":
                # A CTCP request from the past is not answered again.
                return [] if past else self._ctcp(msg, kind, nick, command, arg, own, time)
            kind, text = "action", arg
        return [ev.ChatMessage(buffer, nick, target, text, kind, own, time, msg.tags, past)]

    def _ctcp(
        self,
        msg: Message,
        kind: ev.MessageKind,
        nick: str,
        command: str,
        arg: str,
        own: bool,
        time: datetime,
    ) -> list[ev.Event]:
        if own:
            return []
        if kind == "notice":
            text = f"CTCP {command} reply from {nick}: {arg}"
            return [ev.ServerReply("CTCP", msg.params, text, None, time)]
        answers = {
            "VERSION": _VERSION,
            "PING": arg,
            "TIME": self.clock().strftime("%a %b %d %H:%M:%S %Y UTC"),
            "CLIENTINFO": "ACTION CLIENTINFO PING TIME VERSION",
        }
        if command in answers:
            self._send(
                "NOTICE", nick, f"{CTCP_DELIM}{command} {answers[command]}".rstrip() + CTCP_DELIM
            )
        text = f"CTCP {command} from {nick}"
        return [ev.ServerReply("CTCP", msg.params, text, None, time)]

    def _on_AWAY(self, msg: Message) -> list[ev.Event]:
        nick = self._nick(msg)
        message = msg.params[0] if msg.params else None
        key = self.state.server.fold(nick)
        for chan in self.state.shared_channels(nick):
            chan.members[key].away = message is not None
        return [ev.Away(nick, message, self._time(msg))]

    def _on_305(self, msg: Message) -> list[ev.Event]:
        self.state.away = False
        return self._on_numeric(msg)

    def _on_306(self, msg: Message) -> list[ev.Event]:
        self.state.away = True
        return self._on_numeric(msg)

    def _on_INVITE(self, msg: Message) -> list[ev.Event]:
        if len(msg.params) < 2 or not self.state.is_me(msg.params[0]):
            return []
        return [ev.Invite(msg.params[1], self._nick(msg), self._time(msg))]

    def _on_FAIL(self, msg: Message) -> list[ev.Event]:
        # Standard replies: FAIL <command> <code> [<context>...] :<description>
        text = msg.params[-1] if msg.params else "failed"
        return [ev.ServerError("FAIL", msg.params, text, None, self._time(msg))]

    def _on_WARN(self, msg: Message) -> list[ev.Event]:
        text = msg.params[-1] if msg.params else ""
        return [ev.ServerReply("WARN", msg.params, text, None, self._time(msg))]

    _on_NOTE = _on_WARN
