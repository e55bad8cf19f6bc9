"""A real SMTP server for tests (aiosmtpd, on its own thread and a free port)
that keeps every message it is handed."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._arrived:
            self.messages.append(email.message_from_bytes(envelope.content))
            self._arrived.notify_all()
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Message]:
        """Until ``count`` messages arrived (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(self.messages)} of {count} mails arrived"
                self._arrived.wait(left)
            return list(self.messages)

    @staticmethod
    def code(message: Message) -> str:
        """The verification code in a message."""
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        found = re.search(r"VERIFY \S+ ([A-Z0-9]{8})", body.decode())
        assert found, body
        return found.group(1)


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server on 127.0.0.1: its inbox and its port."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
