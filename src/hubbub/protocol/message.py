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

No atom may hold CR, LF or NUL, tag values included (escaping covers CR and
LF there, but not NUL). The parser refuses such lines instead of passing the
characters on: a bare CR inside a relayed PRIVMSG would otherwise reach other
clients, some of which end lines at a CR, as an injected line. Likewise a
command may not start with ``:`` or ``@`` (it would read back as a source or
as tags), and a tag key may not hold ``=``, ``;`` or a space. So whatever
:func:`parse_line` returns is a Message that :class:`Message` itself would
accept, and that serialises back to an equal Message.

Lines here are ``str`` without the CR LF: framing and decoding bytes are the
job of :mod:`.framing`, so this module is usable by the client and the server
alike and never touches I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from .errors import EmptyLine, MissingCommand, ProtocolError
from .framing import MAX_BODY
from .tags import parse_tags, serialise_tags

# One regular expression per check: a C-speed scan instead of a Python loop per
# character class, because servers build messages on their hot path.
_BAD_CHARS = re.compile(r"[\r\n\0]")
_BAD_COMMAND = re.compile(r"[\r\n\0 ]")
# A tag key ends at "=" or ";" and the tag section at a space.
_BAD_KEY = re.compile(r"[=; \r\n\0]")


def _command_error(cmd: str) -> str | None:
    """Why ``cmd`` cannot be a command, or None when it can."""
    if not cmd or cmd[0] in ":@" or _BAD_COMMAND.search(cmd):
        return f"invalid command: {cmd!r}"
    return None


def _check_params(params: tuple[str, ...]) -> None:
    if not params:
        return
    if _BAD_CHARS.search("".join(params)):
        bad = next(p for p in params if _BAD_CHARS.search(p))
        raise ProtocolError(f"parameter contains CR, LF or NUL: {bad!r}")
    for param in params[:-1]:
        if not param or " " in param or param[0] == ":":
            raise ProtocolError(
                f"only the last parameter may be empty, spaced or ':'-led: {param!r}"
            )


def middle_param(text: str) -> str:
    """``text`` made fit for a middle parameter, for replies that echo what a
    client sent (``WHO :a b`` is answered with ``315 nick a_b``): empty becomes
    ``*``, spaces become ``_`` and a leading ``:`` is dropped."""
    if text and " " not in text and text[0] != ":":
        return text
    text = text.lstrip(":").replace(" ", "_")
    return text or "*"


def reply_params(params: tuple[str, ...]) -> tuple[str, ...]:
    """``params`` with every parameter but the last made a valid middle one."""
    if len(params) < 2:
        return params
    return (*map(middle_param, params[:-1]), params[-1])


_CRLF = "\r\n"

#: The tags of a message without any: shared, and read-only so it stays empty.
NO_TAGS: Mapping[str, str] = MappingProxyType({})


class _MessageFields(NamedTuple):
    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str] = NO_TAGS


class Message(_MessageFields):
    """One IRC message. ``params`` includes the trailing parameter, if any.

    Immutable (a NamedTuple: a server builds one per relayed line, and a
    frozen dataclass costs four times as much to make). The constructor
    validates every atom; :meth:`trusted` skips that for parts already known
    to be valid.
    """

    __slots__ = ()

    def __new__(
        cls,
        command: str,
        params: tuple[str, ...] = (),
        source: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Message:
        error = _command_error(command)
        if error:
            raise ProtocolError(error)
        if source is not None and (not source or _BAD_COMMAND.search(source)):
            raise ProtocolError(f"invalid source: {source!r}")
        if tags:
            for key in tags:
                if not key or _BAD_KEY.search(key):
                    raise ProtocolError(f"invalid tag key: {key!r}")
            if "\0" in "".join(tags.values()):
                raise ProtocolError("a tag value contains NUL")
        _check_params(params)
        return tuple.__new__(cls, (command, params, source, NO_TAGS if tags is None else tags))

    @staticmethod
    def trusted(
        command: str,
        params: tuple[str, ...] = (),
        source: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Message:
        """A Message built without the checks, for a server relaying parts it
        already holds as valid: atoms of a parsed line, names it accepted.

        Validation costs three times the construction itself, and a server
        builds a message per relayed line; anything that comes from elsewhere
        must use the ordinary constructor.
        """
        return tuple.__new__(Message, (command, params, source, NO_TAGS if tags is None else tags))

    def _body(self, trailing: bool, end: str = "") -> str:
        """The line after the tags: ``[:source ]command[ params]``, then ``end``."""
        command, params, source, _ = self
        head = f":{source} {command}" if source is not None else command
        if not params:
            return head + end
        last = params[-1]
        if trailing or not last or " " in last or last[0] == ":":
            last = ":" + last
        if len(params) == 1:
            return f"{head} {last}{end}"
        return f"{head} {' '.join(params[:-1])} {last}{end}"

    def to_line(self, *, tags: bool = True, trailing: bool = False) -> str:
        """Serialise without CR LF. ``tags=False`` drops tags (for clients
        without message-tags); ``trailing=True`` always colon-prefixes the last
        parameter."""
        body = self._body(trailing)
        if tags and self[3]:
            return f"@{serialise_tags(self[3])} {body}"
        return body

    def to_bytes(self, *, tags: bool = True, trailing: bool = False) -> bytes:
        """Serialise to wire bytes, UTF-8 with CR LF."""
        return (self.to_line(tags=tags, trailing=trailing) + "\r\n").encode("utf-8")

    def untagged_bytes(self) -> bytes:
        """The wire bytes without tags: what most clients get of a relayed line."""
        return self._body(False, _CRLF).encode("utf-8")

    def tagged_bytes(self, tags: Mapping[str, str]) -> bytes:
        """The wire bytes with ``tags`` (which may differ from the message's)."""
        if not tags:
            return self.untagged_bytes()
        return f"@{serialise_tags(tags)} {self._body(False, _CRLF)}".encode()

    def with_tags(self, tags: Mapping[str, str]) -> Message:
        """A copy with ``tags`` instead of the current tags."""
        return Message.trusted(self[0], self[1], self[2], tags)


def body_size(msg: Message) -> int:
    """Bytes of ``msg``'s line without tags, CR LF included."""
    return len(msg.untagged_bytes())


def fit(msg: Message, limit: int = MAX_BODY) -> Message:
    """``msg``, or a copy whose line without tags fits ``limit`` bytes (CR LF
    included): its longest parameter is cut at a character boundary, then
    the next, until it fits.

    For lines that repeat what a client sent (a reply that echoes a 400-byte
    word, a PART reason relayed with a source prefix the client's own line
    did not have): every client may read by the 512-byte limit, so nothing
    the server sends may pass it. A middle parameter keeps at least one
    character, so the message stays valid; what cannot fit even so (a long
    command or source) is left as it is.
    """
    excess = body_size(msg) - limit
    if excess <= 0:
        return msg
    params = list(msg.params)
    while excess > 0 and params:
        i = max(range(len(params)), key=lambda k: len(params[k].encode()))
        data = params[i].encode()
        keep = max(len(data) - excess, 0 if i == len(params) - 1 else 1)
        cut = data[:keep].decode("utf-8", "ignore")
        if i < len(params) - 1 and not cut:
            cut = params[i][0]  # a middle parameter may not be empty
        if cut == params[i]:
            break  # nothing left to cut
        params[i] = cut
        excess = body_size(Message.trusted(msg[0], tuple(params), msg[2])) - limit
    return Message.trusted(msg[0], tuple(params), msg[2], msg[3])


def parse_line(line: str) -> Message:
    """Parse one line (CR LF already removed). Raises :class:`EmptyLine`
    for a line of nothing but spaces, :class:`MissingCommand` for tags or a
    source without a command, and :class:`ProtocolError` for NUL, CR or LF
    anywhere in the line or a command starting with ``:`` or ``@``."""
    # Three substring scans cost a quarter of one regular-expression search.
    if "\0" in line or "\r" in line or "\n" in line:
        bad = next(ch for ch in "\0\r\n" if ch in line)
        raise ProtocolError(f"line contains {bad!r}")
    rest = line
    first = rest[:1]
    if first == " ":
        rest = rest.lstrip(" ")
        first = rest[:1]
    tags: Mapping[str, str] = NO_TAGS
    if first == "@":
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
        rest = rest.lstrip(" ")
        first = rest[:1]
    source: str | None = None
    if first == ":":
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not source:
            source = None
    head, has_trailing, trailing = rest.partition(" :")
    # Runs of spaces separate like one (RFC 1459); only then is filtering needed.
    words = head.split(" ")
    if "  " in head or not words[-1]:
        words = [w for w in words if w]
        if not words:
            # Only spaces is the empty message Modern IRC says to ignore; a
            # prefix with nothing after it is a line that lost its command.
            if not line.strip(" "):
                raise EmptyLine("no command")
            raise MissingCommand("tags or a source, but no command")
    command = words[0]
    if not command.isalnum():
        error = _command_error(command)
        if error:
            # ":src :x" or "@tags @x": the command position holds another prefix.
            raise ProtocolError(error)
    if has_trailing:
        words.append(trailing)
    # Every atom here is valid by construction, and parsing sits on the
    # server's hot path: no need to check them again.
    return tuple.__new__(Message, (command, tuple(words[1:]), source, tags))
