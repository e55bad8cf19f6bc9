"""What a connection gathers before it is a user: the registration state.

IRC connection registration collects a nick (NICK), a username and realname
(USER), the server password if there is one (PASS), and, when the client
negotiates capabilities (CAP LS/REQ ... CAP END), waits for the end of that.
SASL adds the account the client proved before registering. A session
holds one :class:`Registration` until the welcome, then drops it: a
registered client does not pay for these fields.
"""

from __future__ import annotations


class Registration:
    """A connection's registration in progress."""

    __slots__ = (
        "account", "asked_nick", "cap_negotiating", "nick", "pass_ok", "realname", "started",
        "uid", "username",
    )  # fmt: skip

    def __init__(self, *, password_required: bool, started: float, uid: str) -> None:
        #: When the connection opened (loop clock), for the registration timeout.
        self.started = started
        #: The uid the user will have: it names the connection in the logs
        #: from its accept on (kept here, not on the session, which then
        #: has its user's).
        self.uid = uid
        self.nick: str | None = None
        self.username: str | None = None
        self.realname = ""
        self.pass_ok = not password_required
        self.cap_negotiating = False
        #: The account proved before registration (SASL, REGISTER), if any.
        self.account: str | None = None
        #: The last nick asked for, even if refused (REGISTER * names it).
        self.asked_nick: str | None = None

    @property
    def complete(self) -> bool:
        """Everything is in: nick and user given, CAP negotiation over.
        (A wrong password is decided then, with its own error.)"""
        return self.nick is not None and self.username is not None and not self.cap_negotiating
