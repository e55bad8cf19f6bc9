"""Turning numeric replies into sentences a person reads.

Most numerics are ``<me> <args...> :<text>``; the generic rendering drops our
own nick and joins the rest. The WHOIS family and a few others read much
better as sentences, so they get a template. Nothing here changes state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hubbub.protocol import Message
from hubbub.protocol import numerics as n


def _args(msg: Message) -> tuple[str, ...]:
    """Parameters after our own nick (the first parameter of every numeric)."""
    return msg.params[1:]


def _whoisuser(a: tuple[str, ...]) -> str:
    return f"{a[0]} is {a[1]}@{a[2]} ({a[-1]})" if len(a) >= 5 else " ".join(a)


def _whoisserver(a: tuple[str, ...]) -> str:
    return f"{a[0]} is connected to {a[1]} ({a[2]})" if len(a) >= 3 else " ".join(a)


def _whoisidle(a: tuple[str, ...]) -> str:
    if len(a) >= 2 and a[1].isdigit():
        return f"{a[0]} has been idle for {int(a[1])}s"
    return " ".join(a)


def _pair(verb: str) -> Callable[[tuple[str, ...]], str]:
    def render(a: tuple[str, ...]) -> str:
        return f"{a[0]} {verb} {a[-1]}" if len(a) >= 2 else " ".join(a)

    return render


_TEMPLATES: Final[dict[str, Callable[[tuple[str, ...]], str]]] = {
    n.RPL_WHOISUSER: _whoisuser,
    n.RPL_WHOISSERVER: _whoisserver,
    n.RPL_WHOISIDLE: _whoisidle,
    n.RPL_WHOISCHANNELS: _pair("is on"),
    n.RPL_AWAY: _pair("is away:"),
    n.RPL_WHOISACCOUNT: lambda a: f"{a[0]} is logged in as {a[1]}" if len(a) >= 2 else "",
    n.RPL_WHOWASUSER: _whoisuser,
    n.RPL_TOPICWHOTIME: lambda a: f"Topic of {a[0]} set by {a[1]}" if len(a) >= 2 else "",
    n.RPL_LIST: lambda a: f"{a[0]} ({a[1]} users): {a[-1]}" if len(a) >= 3 else " ".join(a),
    n.RPL_MOTD: lambda a: a[-1][2:] if a and a[-1].startswith("- ") else (a[-1] if a else ""),
}

#: Replies that only close a list: nothing worth a line of their own.
SILENT: Final = frozenset(
    {
        n.RPL_ENDOFWHOIS,
        n.RPL_ENDOFWHOWAS,
        n.RPL_ENDOFMOTD,
        n.RPL_MOTDSTART,
        n.RPL_ENDOFNAMES,
        n.RPL_LISTSTART,
        n.RPL_ENDOFWHO,
        n.RPL_CREATIONTIME,
    }
)


def render_numeric(msg: Message) -> str:
    """A sentence for a numeric reply or error."""
    args = _args(msg)
    template = _TEMPLATES.get(msg.command)
    if template is not None:
        text = template(args)
        if text:
            return text
    if not args:
        return ""
    if len(args) == 1:
        return args[0]
    if is_error(msg.command):
        # "<thing> :<explanation>" reads best as "thing: explanation".
        return " ".join(args[:-1]) + ": " + args[-1]
    if msg.command in (n.RPL_LOCALUSERS, n.RPL_GLOBALUSERS):
        return args[-1]  # the counts are repeated in the sentence
    return " ".join(args)


def is_error(command: str) -> bool:
    """True for the 4xx and 5xx error numerics (and the 72x/90x failures)."""
    return command.isdigit() and (
        command[0] in "45" or command in (n.ERR_NOPRIVS, n.ERR_SASLFAIL, n.ERR_NICKLOCKED)
    )
