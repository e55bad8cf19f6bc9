"""AUTHENTICATE payloads: base64, cut into 400-byte chunks (IRCv3 SASL 3.1).

A payload is sent base64-encoded in lines of at most 400 bytes; a line of
exactly 400 bytes means "more follows", so a payload whose encoding is a
multiple of 400 long ends with ``AUTHENTICATE +``, as does an empty one.
:func:`encode_chunks` cuts (both sides send), :class:`ChunkReader` joins
what arrives, with a bound on the total.
"""

from __future__ import annotations

import base64
import binascii
import enum

#: The most bytes of base64 one AUTHENTICATE line carries.
CHUNK = 400
#: The largest payload accepted, base64 included: room for any mechanism we
#: speak (a PLAIN line with a long password is well under 1 KB); past it the
#: exchange fails instead of buffering whatever a client sends.
MAX_PAYLOAD = 8192


def encode_chunks(payload: bytes) -> list[str]:
    """The AUTHENTICATE parameters that carry ``payload``."""
    text = base64.b64encode(payload).decode("ascii")
    chunks = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]
    if not chunks or len(chunks[-1]) == CHUNK:
        chunks.append("+")
    return chunks


class Read(enum.Enum):
    """What one chunk did."""

    MORE = "more"  # a full chunk: wait for the next
    DONE = "done"  # the payload is complete: see ChunkReader.payload
    TOO_LONG = "too long"  # one chunk over 400 bytes (ERR_SASLTOOLONG)
    TOO_BIG = "too big"  # the whole payload passed MAX_PAYLOAD
    BAD = "bad"  # not base64


class ChunkReader:
    """Joins the chunks of one payload."""

    __slots__ = ("_parts", "_size", "payload")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        #: The decoded payload, once :meth:`feed` said DONE.
        self.payload = b""

    def feed(self, chunk: str) -> Read:
        """Take one AUTHENTICATE parameter."""
        if len(chunk) > CHUNK:
            return Read.TOO_LONG
        if chunk != "+":
            self._size += len(chunk)
            if self._size > MAX_PAYLOAD:
                return Read.TOO_BIG
            self._parts.append(chunk)
            if len(chunk) == CHUNK:
                return Read.MORE
        text, self._parts, self._size = "".join(self._parts), [], 0
        try:
            self.payload = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return Read.BAD
        return Read.DONE
