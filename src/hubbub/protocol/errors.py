"""Errors the protocol layer raises."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A line or message that breaks the IRC message format."""


class EmptyLine(ProtocolError):
    """A line with no command at all (only spaces, or a lone source/tags)."""
