"""Ping and registration timeouts, in one sweep over the sessions.

One periodic pass (the app runs it a few times per ping interval) instead of
a timer per connection: ten thousand idle clients cost nothing between
sweeps.
"""

from __future__ import annotations

from hubbub.protocol import Message

from .server import Server


def sweep(server: Server) -> None:
    """Ping idle clients, drop dead ones and those that never register."""
    now = server.loop.time()
    limits = server.config.limits
    for session in list(server.sessions):
        if session.closing:
            continue
        registration = session.registration
        if registration is not None:
            if now - registration.started > limits.registration_timeout:
                session.close("Registration timed out")
        elif session.ping_sent is not None:
            if now - session.ping_sent > limits.ping_interval:
                session.close(f"Ping timeout: {int(now - session.last_recv)} seconds")
        elif now - session.last_recv > limits.ping_interval:
            session.ping_sent = now
            session.send(Message("PING", (server.name,)))
