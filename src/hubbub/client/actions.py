"""Running a parsed slash command against a :class:`~.connection.Client`.

The front ends differ in how they show things, not in what a command does,
so :func:`execute` returns an :class:`Outcome` that says what to show or
switch to, and each front end renders it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubbub.protocol import EmptyLine, ProtocolError, parse_line

from . import slash
from .connection import Client

NOT_CONNECTED = "Not connected right now; nothing was sent. Your text is kept — try again soon."


@dataclass
class Outcome:
    """What a command asks of the front end."""

    #: Lines to show locally (help text, hints).
    info: list[str] = field(default_factory=list)
    #: A sentence explaining why nothing happened.
    error: str | None = None
    #: False when the text could not be sent: keep it for the person.
    sent: bool = True
    #: A buffer to open and switch to (``/query``).
    open_buffer: str | None = None
    #: A buffer to close (``/close`` of a query).
    close_buffer: str | None = None
    #: The person asked to leave.
    quit: bool = False
    quit_reason: str = ""


def _is_channel(client: Client, name: str | None) -> bool:
    return bool(name) and client.state.server.is_channel(name or "")


async def execute(client: Client, command: slash.Command, current: str | None) -> Outcome:
    """Run ``command`` typed in the buffer ``current`` (``None``: server)."""
    match command:
        case slash.Say(text):
            if current is None:
                return Outcome(
                    error="This is the server buffer: join a channel (/join #name) or "
                    "open a query (/query nick) to talk.",
                    sent=False,
                )
            return _sent(await client.privmsg(current, text))
        case slash.Me(text):
            if current is None:
                return Outcome(error="/me needs a channel or query to act in.", sent=False)
            return _sent(await client.action(current, text))
        case slash.Msg(target, text):
            return _sent(await client.privmsg(target, text))
        case slash.Query(nick, text):
            if _is_channel(client, nick):
                return Outcome(error=f"{nick} is a channel: use /join {nick}.", sent=False)
            outcome = Outcome(open_buffer=nick)
            if text and not await client.privmsg(nick, text):
                outcome.error, outcome.sent = NOT_CONNECTED, False
            return outcome
        case slash.Join(channel, key):
            there = client.state.channel(channel)
            if there is not None:
                # Already there: /join brings the channel up, as irssi does.
                return Outcome(open_buffer=there.name)
            return _sent(await client.join(channel, key))
        case slash.Part(channel, reason):
            target = channel or current or ""
            if not _is_channel(client, target):
                return Outcome(error="Which channel? /part #channel", sent=False)
            return _sent(await client.part(target, reason))
        case slash.Close():
            if current is None:
                return Outcome(error="The server buffer stays open; /quit to leave.")
            joined = _is_channel(client, current) and client.state.channel(current) is not None
            if joined and not await client.part(current):
                return Outcome(error=NOT_CONNECTED, sent=False)
            return Outcome(close_buffer=current)
        case slash.Nick(nick):
            return _sent(await client.set_nick(nick))
        case slash.Topic(channel, text):
            target = channel or current or ""
            if not _is_channel(client, target):
                return Outcome(error="Which channel? /topic #channel [text]", sent=False)
            chan = client.state.channel(target)
            if text is None and chan is not None:
                shown = chan.topic or "(no topic set)"
                return Outcome(info=[f"Topic of {chan.name}: {shown}"])
            return _sent(await client.topic(target, text))
        case slash.Names(channel):
            target = channel or current or ""
            if not _is_channel(client, target):
                return Outcome(error="Which channel? /names #channel", sent=False)
            return _sent(await client.names(target))
        case slash.Whois(nick):
            return _sent(await client.whois(nick))
        case slash.Away(message):
            return _sent(await client.away(message))
        case slash.Quote(line):
            try:
                msg = parse_line(line)
            except (EmptyLine, ProtocolError) as exc:
                return Outcome(error=f"That is not an IRC line: {exc}", sent=False)
            return _sent(await client.send(msg))
        case slash.Search(text):
            if "draft/search" not in client.state.caps:
                return Outcome(error="This server does not offer search.")
            if not await client.search(text):
                return Outcome(error=NOT_CONNECTED, sent=False)
            return Outcome(info=[f'Searching for "{text}"…'])
        case slash.Register(password, email):
            return _sent(await client.register_account(password, email))
        case slash.Verify(account, code):
            return _sent(await client.verify_account(account, code))
        case slash.Help(topic):
            return Outcome(info=slash.help_lines(topic))
        case slash.Quit(reason):
            return Outcome(quit=True, quit_reason=reason)
    return Outcome(error="That command is not available here.", sent=False)


def _sent(ok: bool) -> Outcome:
    return Outcome() if ok else Outcome(error=NOT_CONNECTED, sent=False)
