"""Errors the protocol layer raises, each carrying the numeric to answer with.

Like h11's ``error_status_hint``, an error knows how a server should reply to
the peer that caused it, so the code that catches it never guesses.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """A line that cannot be understood; ``numeric`` is the reply hint, if any."""

    numeric: str | None = None

    def __init__(self, message: str, numeric: str | None = None) -> None:
        super().__init__(message)
        if numeric is not None:
            self.numeric = numeric


class EmptyLine(ProtocolError):
    """A line with no command at all (only spaces, or a lone source/tags)."""


class LineTooLong(ProtocolError):
    """A line (or its tag section) over the limits of the IRCv3 message format."""

    numeric = "417"  # ERR_INPUTTOOLONG
