"""Slash commands: one typed dataclass per command, parsed from a line.

Both front ends (the TUI and ``--plain``) read what the person types with
:func:`parse` and run the result with :func:`hubbub.client.actions.execute`,
so ``/join`` means the same thing everywhere and the help text is written
once. A line without a slash is :class:`Say`; ``//text`` says ``/text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


class SlashError(ValueError):
    """A line that is not a valid command; the message is shown as is."""


@dataclass(frozen=True, slots=True)
class Say:
    """Text for the current buffer."""

    text: str


@dataclass(frozen=True, slots=True)
class Join:
    """``/join #channel [key]``."""

    channel: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """``/part [#channel] [reason]`` (the current channel by default)."""

    channel: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Msg:
    """``/msg <target> <text>``."""

    target: str
    text: str


@dataclass(frozen=True, slots=True)
class Query:
    """``/query <nick> [text]``: open a private conversation."""

    nick: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Me:
    """``/me <action>``."""

    text: str


@dataclass(frozen=True, slots=True)
class Nick:
    """``/nick <newnick>``."""

    nick: str


@dataclass(frozen=True, slots=True)
class Topic:
    """``/topic [#channel] [text]``: show or set."""

    channel: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Names:
    """``/names [#channel]``."""

    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Whois:
    """``/whois <nick>``."""

    nick: str


@dataclass(frozen=True, slots=True)
class Away:
    """``/away [message]``: without a message, you are back."""

    message: str | None = None


@dataclass(frozen=True, slots=True)
class Quit:
    """``/quit [reason]``."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Help:
    """``/help [command]``."""

    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """``/quote <raw IRC line>``."""

    line: str


@dataclass(frozen=True, slots=True)
class Search:
    """``/search text``: find past messages (in every conversation you may read)."""

    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """``/close``: close the current buffer (parting a channel)."""


@dataclass(frozen=True, slots=True)
class Register:
    """``/register <password> [email]``: make the current nick an account."""

    password: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Verify:
    """``/verify <account> <code>``: finish a registration that mailed a code."""

    account: str
    code: str


Command = (
    Say | Join | Part | Msg | Query | Me | Nick | Topic | Names | Whois | Away | Quit | Help
    | Quote | Close | Search | Register | Verify
)

#: name -> (usage, one-line description); the order is the /help order.
HELP: Final[dict[str, tuple[str, str]]] = {
    "join": ("/join #channel [key]", "join a channel"),
    "part": ("/part [#channel] [reason]", "leave a channel (this one by default)"),
    "msg": ("/msg nick|#channel text", "send a message without switching buffers"),
    "query": ("/query nick [text]", "open a private conversation with nick"),
    "me": ("/me action", "describe an action: * you waves"),
    "nick": ("/nick newnick", "change your nickname"),
    "topic": ("/topic [#channel] [text]", "show the topic, or set it"),
    "names": ("/names [#channel]", "list who is in a channel"),
    "whois": ("/whois nick", "show who someone is"),
    "away": ("/away [message]", "mark yourself away; /away alone to come back"),
    "quit": ("/quit [reason]", "leave the server and close the client"),
    "help": ("/help [command]", "list commands, or explain one"),
    "quote": ("/quote RAW LINE", "send a raw IRC line, e.g. /quote MODE #c +m"),
    "close": ("/close", "close this buffer (leaves the channel)"),
    "search": ("/search text", "find past messages with these words"),
    "register": ("/register password [email]", "make your nick an account (then: --account)"),
    "verify": ("/verify account code", "finish registering with the code you were mailed"),
}
ALIASES: Final = {
    "j": "join",
    "leave": "part",
    "q": "query",
    "raw": "quote",
    "exit": "quit",
    "w": "whois",
    "m": "msg",
}
COMMAND_NAMES: Final = tuple(HELP)


def _need(arg: str, name: str) -> str:
    if not arg:
        raise SlashError(f"Usage: {HELP[name][0]}")
    return arg


def _channel_prefixed(name: str) -> str:
    # "/join lobby" means #lobby: nobody types a channel without wanting one.
    return name if name[:1] in "#&+!" else "#" + name


def parse(line: str) -> Command:
    """The command a typed line stands for; raises :class:`SlashError`."""
    if not line.startswith("/") or line.startswith("//"):
        return Say(line[1:] if line.startswith("//") else line)
    word, _, rest = line[1:].partition(" ")
    name = ALIASES.get(word.lower(), word.lower())
    rest = rest.strip()
    first, _, tail = rest.partition(" ")
    tail = tail.strip()
    if name == "join":
        return Join(_channel_prefixed(_need(first, name)), tail.split(" ")[0] or None)
    if name == "part":
        if first[:1] in "#&":
            return Part(first, tail)
        return Part(None, rest)
    if name == "msg":
        if not tail:
            raise SlashError(f"Usage: {HELP[name][0]}")
        return Msg(first, tail)
    if name == "query":
        return Query(_need(first, name), tail)
    if name == "me":
        return Me(_need(rest, name))
    if name == "nick":
        return Nick(_need(first, name))
    if name == "topic":
        if first[:1] in "#&":
            return Topic(first, tail or None)
        return Topic(None, rest or None)
    if name == "names":
        return Names(first or None)
    if name == "whois":
        return Whois(_need(first, name))
    if name == "away":
        return Away(rest or None)
    if name == "quit":
        return Quit(rest)
    if name == "help":
        return Help(first.lstrip("/").lower() or None)
    if name == "quote":
        return Quote(_need(rest, name))
    if name == "close":
        return Close()
    if name == "search":
        return Search(_need(rest, name))
    if name == "register":
        words = rest.split()
        if not words or len(words) > 2:
            raise SlashError(f"Usage: {HELP[name][0]}")
        return Register(words[0], words[1] if len(words) > 1 else None)
    if name == "verify":
        if not first or not tail:
            raise SlashError(f"Usage: {HELP[name][0]}")
        return Verify(first, tail)
    raise SlashError(f"Unknown command /{word}. Type /help for the list of commands.")


def help_lines(topic: str | None = None) -> list[str]:
    """The text of ``/help`` or ``/help <command>``."""
    if topic:
        name = ALIASES.get(topic, topic)
        if name not in HELP:
            return [f"There is no /{topic} command. Type /help for the list of commands."]
        usage, what = HELP[name]
        return [f"{usage} — {what}"]
    width = max(len(usage) for usage, _ in HELP.values())
    lines = ["Commands (a line without a slash is sent to the current channel or query):"]
    lines += [f"  {usage:<{width}}  {what}" for usage, what in HELP.values()]
    return lines
