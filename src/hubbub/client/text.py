"""Text helpers: CTCP framing, splitting long messages, server-time.

IRC lines are at most 512 bytes including the prefix the server adds when it
relays our message (``:nick!user@host PRIVMSG target :``), which we cannot
see exactly. :func:`split_text` therefore budgets for the longest prefix a
server could add and splits on spaces where it can, on UTF-8 character
boundaries where it must, so no relayed line is ever cut by the server.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hubbub.protocol import MAX_BODY

CTCP_DELIM = "\x01"
# Hosts (or cloaks) are at most 63 bytes in practice; usernames at most ~10.
_HOST_BUDGET = 63
_USER_BUDGET = 12


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def parse_server_time(value: str | None) -> datetime | None:
    """The IRCv3 ``time`` tag (``2024-05-01T12:00:00.000Z``) as an aware
    datetime, or ``None`` when missing or malformed."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ctcp(text: str) -> tuple[str, str] | None:
    """``"\\x01ACTION waves\\x01"`` -> ``("ACTION", "waves")``; ``None`` for
    plain text. The closing delimiter is optional, as in the wild."""
    if not text.startswith(CTCP_DELIM):
        return None
    body = text[1:]
    if body.endswith(CTCP_DELIM):
        body = body[:-1]
    command, _, arg = body.partition(" ")
    return command.upper(), arg


def payload_budget(nick: str, command: str, target: str) -> int:
    """Bytes of text that fit in one relayed ``command target :text`` line."""
    prefix = f":{nick}!{'u' * _USER_BUDGET}@{'h' * _HOST_BUDGET} {command} {target} :"
    return max(MAX_BODY - 2 - len(prefix.encode("utf-8")), 32)


def split_text(text: str, budget: int) -> list[str]:
    """Split ``text`` into pieces of at most ``budget`` UTF-8 bytes, at the
    last space that fits when there is one. Never returns an empty list."""
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > budget:
        # The longest prefix that fits, without cutting a character in two.
        cut = rest.encode("utf-8")[:budget].decode("utf-8", "ignore")
        space = cut.rfind(" ")
        if space > 0:
            pieces.append(cut[:space])
            rest = rest[space + 1 :]
        else:
            pieces.append(cut)
            rest = rest[len(cut) :]
    pieces.append(rest)
    return pieces
