"""IRCv3 message-tag escaping (https://ircv3.net/specs/extensions/message-tags).

A tag value may not contain ``;``, space, CR, LF or NUL on the wire, so they are
escaped with a backslash. Unescaping works character by character: a naive chain
of ``str.replace`` calls turns ``\\\\n`` (an escaped backslash followed by ``n``)
into a newline, which the shared parser vectors check for. A backslash before any
other character is dropped, and a trailing lone backslash is dropped too.
"""

from __future__ import annotations

from collections.abc import Mapping

_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def escape_value(value: str) -> str:
    """Escape a tag value for the wire."""
    return value.translate(_ESCAPE)


def unescape_value(raw: str) -> str:
    """Undo :func:`escape_value`, leniently, as the spec asks of parsers."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    chars = iter(raw)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append(_UNESCAPE.get(nxt, nxt))
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    """Parse the tag section (without its leading ``@``) into a dict.

    A tag without a value, or with an empty one, maps to ``""``; when a key
    repeats, the last occurrence wins.
    """
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if key:
            tags[key] = unescape_value(value)
    return tags


def serialise_tags(tags: Mapping[str, str]) -> str:
    """The tag section without the leading ``@``; empty values are bare keys."""
    return ";".join(f"{k}={escape_value(v)}" if v else k for k, v in tags.items())
