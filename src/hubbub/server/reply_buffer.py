"""The reply buffer: what one command sends back to the client that sent it.

Handlers add messages here and never write to a transport (ergo's
ResponseBuffer). When the handler is done, the dispatcher flushes the buffer,
which is where IRCv3 labeled-response happens: no reply becomes an ACK, one
reply carries the label, several are wrapped in a ``labeled-response``
batch. Handlers know nothing of labels.
"""

from __future__ import annotations

from hubbub.protocol import MAX_BODY, Message, fit, parse_line

from .encoding import encode
from .interfaces import Peer


class ReplyBuffer:
    """Messages for one session, sent together at the end of a command."""

    __slots__ = ("messages", "session")

    def __init__(self, session: Peer) -> None:
        self.session = session
        #: Messages, or wire bytes already rendered (see :class:`~.welcome.NumericBlock`).
        self.messages: list[Message | bytes] = []

    def add(self, msg: Message) -> None:
        """Queue ``msg`` for the client."""
        self.messages.append(msg)

    def add_rendered(self, data: bytes) -> None:
        """Queue tagless lines already encoded for this client."""
        self.messages.append(data)

    def hold(self) -> None:
        """An event of this command is on its way back from an asynchronous
        bus: the replies wait for it (a command's :class:`~.dispatch.Context`
        also holds its client's next lines). Nothing to do for a plain buffer."""

    def release(self) -> None:
        """The event :meth:`hold` waited for came back."""

    def flush(self, label: str | None = None) -> None:
        """Send everything queued; ``label`` is the client's label, if it
        has labeled-response and sent one."""
        if not self.messages and label is None:
            return
        session, queued = self.session, self.messages
        self.messages = []
        if label is not None and "labeled-response" in session.caps:
            # Rare: only now are rendered lines parsed back, to carry batch tags.
            messages = [m for item in queued for m in _as_messages(item)]
            queued = list(self._labeled(messages, label, session.server_name))
        profile = session.tag_profile
        for item in queued:
            if isinstance(item, bytes):
                session.send_bytes(item)
                continue
            data = encode(item, profile)
            if len(data) > MAX_BODY:  # rare: a long line, maybe one that echoes input
                data = encode(fit(item), profile)
            session.send_bytes(data)

    def _labeled(self, messages: list[Message], label: str, server: str) -> list[Message]:
        if not messages:
            return [Message("ACK", (), server, {"label": label})]
        if len(messages) == 1 or "batch" not in self.session.caps or _one_batch(messages):
            # One line, or one batch that is the whole answer (a chathistory
            # batch): the label goes on its first line.
            first = messages[0]
            return [first.with_tags({**first.tags, "label": label}), *messages[1:]]
        ref = self.session.next_batch_id()
        # Lines inside a batch of their own keep it (batches nest): only the
        # reply's top-level lines join the labeled-response batch.
        return [
            Message("BATCH", (f"+{ref}", "labeled-response"), server, {"label": label}),
            *(m if "batch" in m.tags else m.with_tags({**m.tags, "batch": ref}) for m in messages),
            Message("BATCH", (f"-{ref}",), server),
        ]


def _one_batch(messages: list[Message]) -> bool:
    """Whether ``messages`` are exactly one batch: its start, its lines, its end."""
    first, last = messages[0], messages[-1]
    if first.command != "BATCH" or last.command != "BATCH" or len(messages) < 2:
        return False
    opened, closed = first.params[0] if first.params else "", last.params[0] if last.params else ""
    ref = opened[1:]
    return (
        opened.startswith("+")
        and closed == f"-{ref}"
        and all(m.tags.get("batch") == ref for m in messages[1:-1])
    )


def _as_messages(item: Message | bytes) -> list[Message]:
    if isinstance(item, Message):
        return [item]
    return [parse_line(line) for line in item.decode("utf-8").split("\r\n") if line]
