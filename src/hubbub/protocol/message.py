"""IRC messages: parse one line into a :class:`Message`, serialise it back.

Theory of operation
-------------------
A line is ``[@tags ][:source ]command[ params...][ :trailing]`` (Modern IRC,
IRCv3 message-tags). Parsing follows the shared ``irc-parser-tests`` vectors,
which encode what the wider ecosystem agrees on:

* runs of spaces between atoms count as one separator (RFC 1459), but a tab is
  not a separator, and the trailing parameter keeps its spaces verbatim;
* a trailing parameter is just the last parameter: ``JOIN #chan`` and
  ``JOIN :#chan`` parse to the same Message;
* tag values are unescaped character by character (see :mod:`.tags`).

Serialising goes the other way and prefixes the last parameter with ``:`` only
when it must (empty, contains a space, or starts with ``:``), except that
callers may force it with ``trailing=True`` for clients that expect a colon
before free text. Every other parameter must be a non-empty word without
spaces that does not start with ``:``; :class:`Message` refuses anything else
when it is built, so a bad message cannot reach the wire.

Lines here are ``str`` without the CR LF: framing and decoding bytes are the
job of :mod:`.framing`, so this module is usable by the client and the server
alike and never touches I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import EmptyLine, ProtocolError
from .tags import parse_tags, serialise_tags

_FORBIDDEN = ("\r", "\n", "\0")


def _check_param(param: str, last: bool) -> None:
    for ch in _FORBIDDEN:
        if ch in param:
            raise ProtocolError(f"parameter contains {ch!r}: {param!r}")
    if not last and (not param or " " in param or param[0] == ":"):
        raise ProtocolError(f"only the last parameter may be empty, spaced or ':'-led: {param!r}")


@dataclass(frozen=True, slots=True)
class Message:
    """One IRC message. ``params`` includes the trailing parameter, if any."""

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cmd = self.command
        if not cmd or " " in cmd or cmd[0] == ":" or any(c in cmd for c in _FORBIDDEN):
            raise ProtocolError(f"invalid command: {cmd!r}")
        if self.source is not None and (not self.source or " " in self.source):
            raise ProtocolError(f"invalid source: {self.source!r}")
        last = len(self.params) - 1
        for i, param in enumerate(self.params):
            _check_param(param, i == last)

    def to_line(self, *, tags: bool = True, trailing: bool = False) -> str:
        """Serialise without CR LF. ``tags=False`` drops tags (for clients
        without message-tags); ``trailing=True`` always colon-prefixes the last
        parameter."""
        parts: list[str] = []
        if tags and self.tags:
            parts.append("@" + serialise_tags(self.tags))
        if self.source is not None:
            parts.append(":" + self.source)
        parts.append(self.command)
        if self.params:
            parts.extend(self.params[:-1])
            last = self.params[-1]
            if trailing or not last or " " in last or last[0] == ":":
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    def to_bytes(self, *, tags: bool = True, trailing: bool = False) -> bytes:
        """Serialise to wire bytes, UTF-8 with CR LF."""
        return (self.to_line(tags=tags, trailing=trailing) + "\r\n").encode("utf-8")

    def with_tags(self, tags: Mapping[str, str]) -> Message:
        """A copy with ``tags`` instead of the current tags."""
        return Message(self.command, self.params, self.source, tags)


def parse_line(line: str) -> Message:
    """Parse one line (CR LF already removed). Raises :class:`EmptyLine`
    when there is no command, and :class:`ProtocolError` for NUL bytes."""
    if "\0" in line:
        raise ProtocolError("line contains NUL")
    rest = line.lstrip(" ")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
        rest = rest.lstrip(" ")
    source: str | None = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not source:
            source = None
    head, has_trailing, trailing = rest.partition(" :")
    words = [w for w in head.split(" ") if w]
    if not words:
        raise EmptyLine("no command")
    if has_trailing:
        words.append(trailing)
    # Build without re-validating: every atom here is valid by construction,
    # and parsing sits on the server's hot path.
    msg = object.__new__(Message)
    object.__setattr__(msg, "command", words[0])
    object.__setattr__(msg, "params", tuple(words[1:]))
    object.__setattr__(msg, "source", source)
    object.__setattr__(msg, "tags", tags)
    return msg
