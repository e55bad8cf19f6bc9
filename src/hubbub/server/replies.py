"""The reply buffer: what one command sends back to the client that sent it.

Handlers add messages here and never write to a transport (ergo's
ResponseBuffer). When the handler is done, the dispatcher flushes the buffer,
which is where IRCv3 labeled-response happens: no reply becomes an ACK, one
reply carries the label, several are wrapped in a ``labeled-response``
batch. Handlers know nothing of labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocol import Message

from .fanout import encode

if TYPE_CHECKING:
    from .connection import Connection


class ReplyBuffer:
    """Messages for one connection, sent together at the end of a command."""

    __slots__ = ("conn", "messages")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.messages: list[Message] = []

    def add(self, msg: Message) -> None:
        """Queue ``msg`` for the client."""
        self.messages.append(msg)

    def flush(self, label: str | None = None) -> None:
        """Send everything queued; ``label`` is the client's label, if it
        has labeled-response and sent one."""
        conn, messages = self.conn, self.messages
        self.messages = []
        if label is not None and "labeled-response" in conn.caps:
            messages = self._labeled(messages, label, conn.server_name)
        profile = conn.tag_profile
        for msg in messages:
            conn.send_bytes(encode(msg, profile))

    def _labeled(self, messages: list[Message], label: str, server: str) -> list[Message]:
        if not messages:
            return [Message("ACK", (), server, {"label": label})]
        if len(messages) == 1 or "batch" not in self.conn.caps:
            first = messages[0]
            return [first.with_tags({**first.tags, "label": label}), *messages[1:]]
        ref = self.conn.next_batch_id()
        return [
            Message("BATCH", (f"+{ref}", "labeled-response"), server, {"label": label}),
            *(m.with_tags({**m.tags, "batch": ref}) for m in messages),
            Message("BATCH", (f"-{ref}",), server),
        ]
