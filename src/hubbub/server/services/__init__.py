"""The server's own services: NickServ (accounts) and ChanServ (channels).

They are built in, as in Ergo: no separate daemon, no server link. Each is
reached by a PRIVMSG to its nick (``/msg NickServ IDENTIFY ...``) or by
the NS/CS commands; :data:`SERVICES` maps the casefolded nick to it.
"""

from __future__ import annotations

from collections.abc import Callable

from hubbub.protocol import casefold

from ..dispatch import Context
from .chanserv import chanserv
from .nickserv import nickserv

#: Casefolded service nick -> what runs a line said to it.
SERVICES: dict[str, Callable[[Context, str], None]] = {
    casefold(service.nick): service for service in (nickserv, chanserv)
}
