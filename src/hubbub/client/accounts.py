"""Accounts on the client side: SASL login, registering, and who is logged in.

Theory of operation
-------------------
With credentials (:class:`Credentials`), the session asks for the ``sasl``
capability and, once it is acknowledged, logs in before ending capability
negotiation: ``AUTHENTICATE SCRAM-SHA-256`` when the server offers it (the
password never leaves the machine), else ``PLAIN``. ``CAP END`` waits for
903 (logged in) or a failure (904-907), which is reported as
:class:`~.events.LoginFailed` while registration goes on without the account.
The same credentials log in again after every reconnect.

Registering uses IRCv3 ``REGISTER`` when the server offers
``draft/account-registration``, else ``/msg NickServ REGISTER``.

Accounts of other people come from ``extended-join`` (the JOIN line carries
them), ``account-notify`` (ACCOUNT lines) and, for those already in a
channel when we join, one ``WHO #channel %tna`` (WHOX) per join.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from hubbub.auth.chunks import CHUNK, encode_chunks
from hubbub.auth.scram import ScramClient, ScramError
from hubbub.protocol import Message
from hubbub.protocol import numerics as n

from . import events as ev
from .state import ClientState

#: Mechanisms we speak, best first.
MECHANISMS = ("SCRAM-SHA-256", "PLAIN")
#: The WHOX token that marks our own account queries.
WHOX_TOKEN = "174"


class Credentials(NamedTuple):
    """An account and its password, for SASL."""

    account: str
    password: str


class SaslLogin:
    """One login attempt on one connection (sans-I/O)."""

    def __init__(self, credentials: Credentials, offered: str | None) -> None:
        self.credentials = credentials
        names = offered.split(",") if offered else []
        # No list (a server without CAP 302 values): try ours in order.
        self.mechanisms = [m for m in MECHANISMS if not names or m in names]
        self.mechanism: str | None = None
        self.sent_payload = False
        self._scram: ScramClient | None = None
        self._chunks: list[str] = []

    def next_mechanism(self) -> str | None:
        """The next mechanism to try, or None when none is left."""
        if not self.mechanisms:
            return None
        self.mechanism = self.mechanisms.pop(0)
        self.sent_payload = False
        self._scram = None
        return self.mechanism

    def challenge(self, param: str) -> list[str] | None:
        """The AUTHENTICATE lines answering one from the server: None while
        a chunked challenge is incomplete; raises ScramError on a bad one."""
        if param != "+":
            self._chunks.append(param)
            if len(param) == CHUNK:
                return None
        data = base64.b64decode("".join(self._chunks)) if self._chunks else b""
        self._chunks = []
        self.sent_payload = True
        account, password = self.credentials
        if self.mechanism == "PLAIN":
            return encode_chunks(f"{account}\0{account}\0{password}".encode())
        if self._scram is None:
            self._scram = ScramClient(account, password)
            return encode_chunks(self._scram.first())
        if data.startswith(b"v="):
            if not self._scram.verify(data):
                raise ScramError("the server could not prove it knows the password")
            return ["+"]
        return encode_chunks(self._scram.final(data))


class AccountHandlers:
    """The account part of :class:`~.session.ClientSession` (a mixin)."""

    state: ClientState
    credentials: Credentials | None
    _login: SaslLogin | None
    _cap_values: dict[str, str | None]
    _cap_offered: set[str]

    if TYPE_CHECKING:

        def _send(self, command: str, *params: str) -> None: ...
        def _finish_caps(self) -> None: ...
        def _time(self, msg: Message) -> datetime: ...
        def _on_numeric(self, msg: Message) -> list[ev.Event]: ...

    # -- commands ---------------------------------------------------------

    def register_account(self, password: str, email: str | None = None) -> None:
        """Register the current nick as an account (logs in on success)."""
        if "draft/account-registration" in self._cap_offered:
            self._send("REGISTER", "*", email or "*", password)
        else:
            self._send("PRIVMSG", "NickServ", f"REGISTER {password} {email or ''}".strip())

    def verify_account(self, account: str, code: str) -> None:
        """Finish a registration with the code that was mailed."""
        if "draft/account-registration" in self._cap_offered:
            self._send("VERIFY", account, code)
        else:
            self._send("PRIVMSG", "NickServ", f"VERIFY {account} {code}")

    # -- logging in -------------------------------------------------------

    def _start_login(self) -> None:
        """``sasl`` was acknowledged during registration: log in first."""
        if self.credentials is None or self._login is not None:
            return
        self._login = SaslLogin(self.credentials, self._cap_values.get("sasl"))
        self._try_next_mechanism()

    def _try_next_mechanism(self) -> list[ev.Event]:
        login = self._login
        mechanism = login.next_mechanism() if login is not None else None
        if mechanism is None:
            return self._login_over("the server offers no SASL mechanism this client speaks")
        self._send("AUTHENTICATE", mechanism)
        return []

    def _login_over(self, failure: str | None) -> list[ev.Event]:
        self._login = None
        self._finish_caps()
        return [ev.LoginFailed(failure)] if failure else []

    def _on_AUTHENTICATE(self, msg: Message) -> list[ev.Event]:
        login = self._login
        if login is None or not msg.params:
            return []
        try:
            lines = login.challenge(msg.params[0])
        except (ScramError, ValueError) as exc:
            self._send("AUTHENTICATE", "*")
            return self._login_over(f"login aborted: {exc}")
        for line in lines or ():
            self._send("AUTHENTICATE", line)
        return []

    def _on_900(self, msg: Message) -> list[ev.Event]:
        # RPL_LOGGEDIN <nick> <nick!user@host> <account> :text
        account = msg.params[2] if len(msg.params) >= 4 else None
        self.state.account = account
        return [ev.LoggedIn(account, msg.params[-1], self._time(msg))]

    def _on_901(self, msg: Message) -> list[ev.Event]:
        self.state.account = None
        return [ev.LoggedIn(None, msg.params[-1], self._time(msg))]

    def _on_903(self, msg: Message) -> list[ev.Event]:
        self._login_over(None)
        return []

    def _login_failed(self, msg: Message) -> list[ev.Event]:
        login = self._login
        if login is None:
            return self._on_numeric(msg)
        if not login.sent_payload and msg.command == n.ERR_SASLFAIL and login.mechanisms:
            return self._try_next_mechanism()  # that mechanism was refused: next one
        return self._login_over(msg.params[-1] if msg.params else "login failed")

    _on_902 = _login_failed
    _on_904 = _login_failed
    _on_905 = _login_failed
    _on_906 = _login_failed
    _on_907 = _login_failed

    def _on_908(self, msg: Message) -> list[ev.Event]:
        login = self._login
        if login is not None and len(msg.params) >= 2:
            offered = msg.params[1].split(",")
            login.mechanisms = [m for m in login.mechanisms if m in offered]
        return []

    # -- registering -------------------------------------------------------

    def _on_REGISTER(self, msg: Message) -> list[ev.Event]:
        text = msg.params[-1] if msg.params else ""
        return [ev.ServerReply("REGISTER", msg.params, text, None, self._time(msg))]

    _on_VERIFY = _on_REGISTER

    # -- other people's accounts -------------------------------------------

    def _set_account(self, nick: str, account: str | None) -> list[ev.Event]:
        key = self.state.server.fold(nick)
        changed: list[ev.Event] = []
        for chan in self.state.channels.values():
            member = chan.members.get(key)
            if member is not None and member.account != account:
                member.account = account
                changed.append(ev.Members(chan.name))
        return changed

    def _on_ACCOUNT(self, msg: Message) -> list[ev.Event]:
        if not msg.params or not msg.source:
            return []
        nick = msg.source.split("!", 1)[0]
        account = None if msg.params[0] == "*" else msg.params[0]
        if self.state.is_me(nick):
            self.state.account = account
        return self._set_account(nick, account)

    def _on_354(self, msg: Message) -> list[ev.Event]:
        # RPL_WHOSPCRPL <me> <token> <nick> <account> (our "%tna" query)
        if len(msg.params) < 4 or msg.params[1] != WHOX_TOKEN:
            return self._on_numeric(msg)
        return self._set_account(msg.params[2], None if msg.params[3] == "0" else msg.params[3])

    def _ask_accounts(self, channel: str) -> None:
        """After joining: who of those here is logged in (WHOX), if the server says."""
        if "WHOX" in self.state.server.features:
            self._send("WHO", channel, f"%tna,{WHOX_TOKEN}")
