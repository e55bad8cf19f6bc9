"""The names the server's own services go by (NickServ, ChanServ).

A leaf module: delivery needs ChanServ's name to show the status it gives,
and the services themselves are built on the command layer above it.
"""

from __future__ import annotations

from hubbub.protocol import casefold

NICKSERV = "NickServ"
CHANSERV = "ChanServ"
#: The host part of their ``nick!user@host``.
HOST = "services"


def source(nick: str) -> str:
    """A service's ``nick!user@host``."""
    return f"{nick}!{nick}@{HOST}"


NICKSERV_SOURCE = source(NICKSERV)
CHANSERV_SOURCE = source(CHANSERV)
#: Casefolded service nicks: nobody else may take them.
SERVICE_NICKS = frozenset({casefold(NICKSERV), casefold(CHANSERV)})
