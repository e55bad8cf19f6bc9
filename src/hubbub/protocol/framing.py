"""Splitting a byte stream into IRC lines, with hard length limits.

Theory of operation
-------------------
A peer sends bytes; lines end with LF, usually preceded by CR (both are
accepted, as Modern IRC asks). :class:`LineBuffer` keeps at most one partial
line, and never more than ``max_line`` bytes of it: a peer that sends 100 KB
without a newline does not make us buffer 100 KB. When the partial line passes
the limit, the buffer reports it once as :data:`TOO_LONG` (so the server can
answer ERR_INPUTTOOLONG at once) and discards bytes up to the next LF.

The one exception is a CR as byte ``max_line + 1``: it may be the first half
of a CR LF that the next read completes, and the line is then exactly at the
limit. Judging it too long would make the outcome depend on where the reads
happen to split the stream, so it is held (one byte over) until the next byte
decides.

The limits follow the IRCv3 message format: up to 8191 bytes of tags
(4094 of them from a client) and up to 512 bytes for the rest, CR LF included.
:func:`check_length` applies them to one complete line.

Decoding is separate (:func:`decode`): the server wants to know whether a line
was valid UTF-8 (to refuse it under UTF8ONLY), the client just wants text.
"""

from __future__ import annotations

from typing import Final

#: Bytes of the message without tags, CR LF included (RFC 1459, Modern IRC).
MAX_BODY: Final = 512
#: Bytes of the tag section a client may send, ``@`` and the space included.
MAX_CLIENT_TAGS: Final = 4096
#: Bytes of the tag section in total, as a server may send it.
MAX_TAGS: Final = 8191
#: The longest line worth buffering at all.
MAX_LINE: Final = MAX_TAGS + MAX_BODY


class TooLong:
    """Marker for a line that passed the buffer's limit and was dropped."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TOO_LONG"


TOO_LONG: Final = TooLong()


class LineBuffer:
    """Feed bytes, get complete lines (without CR LF) or :data:`TOO_LONG`."""

    __slots__ = ("_buf", "_discarding", "max_line")

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._buf = b""
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | TooLong]:
        """Add ``data``; return every line it completes, in order. Empty lines
        are skipped (clients send them as keep-alives)."""
        if (
            # Most reads hold exactly one whole line: the common case, quickly.
            not self._buf
            and data[-1:] == b"\n"
            and data.find(b"\n") == len(data) - 1
            and len(data) <= self.max_line
            and not self._discarding
        ):
            line = data[:-2] if data[-2:-1] == b"\r" else data[:-1]
            return [line] if line else []
        buf = self._buf + data if self._buf else data
        out: list[bytes | TooLong] = []
        if b"\n" in buf:
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                if self._discarding:
                    # The tail of a line already reported as too long.
                    self._discarding = False
                    continue
                if line.endswith(b"\r"):
                    line = line[:-1]
                if len(line) > self.max_line:
                    out.append(TOO_LONG)
                elif line:
                    out.append(line)
        if len(buf) > self.max_line and not (
            # A line of exactly max_line bytes whose LF has not arrived yet.
            len(buf) == self.max_line + 1 and buf.endswith(b"\r")
        ):
            if not self._discarding:
                out.append(TOO_LONG)
                self._discarding = True
            buf = b""
        self._buf = buf
        return out

    @property
    def pending(self) -> int:
        """Bytes held for an incomplete line (at most ``max_line``, plus a CR)."""
        return len(self._buf)


def check_length(line: bytes, *, max_tags: int = MAX_CLIENT_TAGS) -> bool:
    """True when ``line`` (without CR LF) fits the tag and body limits."""
    if line.startswith(b"@"):
        space = line.find(b" ")
        if space == -1:
            return len(line) < max_tags
        if space + 1 > max_tags:
            return False
        body = len(line) - space - 1
    else:
        body = len(line)
    return body + 2 <= MAX_BODY


def decode(line: bytes) -> tuple[str, bool]:
    """Decode a line as UTF-8: ``(text, True)``, or, for invalid UTF-8, the
    text with U+FFFD replacements and ``False``. Never raises."""
    try:
        return line.decode("utf-8"), True
    except UnicodeDecodeError:
        return line.decode("utf-8", "replace"), False
