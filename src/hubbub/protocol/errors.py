"""Errors the protocol layer raises."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A line or message that breaks the IRC message format."""


class EmptyLine(ProtocolError):
    """A line with nothing in it but spaces: Modern IRC says to ignore it."""


class MissingCommand(ProtocolError):
    """Tags or a source, and then no command (``@a=b``, ``:nick``): not
    empty, so not to be ignored, but nothing to run either."""
