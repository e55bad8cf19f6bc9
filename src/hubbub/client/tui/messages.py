"""Textual messages: how the worker and the widgets talk to the app."""

from __future__ import annotations

from textual.message import Message

from hubbub.client import events as ev
from hubbub.client.actions import Outcome


class IrcEvent(Message):
    """A client library event, posted by the network worker."""

    def __init__(self, event: ev.Event) -> None:
        super().__init__()
        self.event = event


class CommandDone(Message):
    """A typed line was run; ``outcome`` says what to show or keep."""

    def __init__(self, text: str, outcome: Outcome) -> None:
        super().__init__()
        self.text = text
        self.outcome = outcome


class ClientStopped(Message):
    """The network worker ended (after /quit, or a connection given up)."""
