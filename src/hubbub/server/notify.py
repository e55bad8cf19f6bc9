"""Telling a service manager how the server is doing (systemd's ``sd_notify``).

Under systemd with ``Type=notify`` (or ``Type=notify-reload``),
``$NOTIFY_SOCKET`` names a unix datagram socket. The server sends
``READY=1`` once every listener accepts connections (so "started" means a
client can connect), ``RELOADING=1`` then ``READY=1`` around a reload, and
``STOPPING=1`` when it begins to shut down. Without the variable nothing is
sent. The protocol is one datagram of ``KEY=VALUE`` lines, so no library is
needed.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

READY = "READY=1"
STOPPING = "STOPPING=1"


def notify(*fields: str) -> bool:
    """Send ``fields`` to the service manager; False when there is none
    (or it cannot be reached, which is logged, never fatal)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto("\n".join(fields).encode(), address)
    except OSError as exc:
        log.warning("could not notify the service manager at %s: %s", address, exc,
                    extra={"event": "systemd.notify_failed", "reason": str(exc)})  # fmt: skip
        return False
    return True


def reloading() -> tuple[str, str]:
    """The fields that announce a reload (``Type=notify-reload`` wants the
    monotonic time with it)."""
    usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return ("RELOADING=1", f"MONOTONIC_USEC={usec}")
