"""The accounts service: what commands and NickServ ask of the accounts.

Theory of operation
-------------------
Two kinds of work, two places:

* On the event loop, at once: whether a nick belongs to an account
  (:meth:`Accounts.owner`, from the in-memory :attr:`Accounts.names`, read
  from the store at start and kept up to date here), the checks of a new
  registration that need no disk, throttling, and the store's writes when
  they are page-cache writes (SQLite: one small transaction each through
  the database's one writer).
* On worker threads, answering through a callback on the loop: reading an
  account, argon2 (about 20 ms), deriving SCRAM keys, sending mail. Hashing
  has a thread of its own, so a storm of logins never queues behind disk
  reads (or the other way round). The store's writes go there too when
  they wait on the network (PostgreSQL, :attr:`AccountStore.writes_block`):
  every write answers through a callback either way (:meth:`Accounts._write`).

Every operation answers with the account, or a :class:`Refused` carrying
the IRCv3 FAIL code and a sentence; the command layer turns that into its
own reply (FAIL REGISTER ..., 904, a NickServ notice). A database error is
logged here and answered as TEMPORARILY_UNAVAILABLE. Passwords, codes and
SASL payloads are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hubbub.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from hubbub.auth.scram import ScramCredentials, ScramError, decoy, derive
from hubbub.config import AccountsSection, Config, is_email
from hubbub.protocol import casefold, is_valid_nick
from hubbub.store.base import Account, AccountStore, PendingVerification
from hubbub.store.errors import DatabaseError

from ..limits import NICKLEN
from ..service_names import SERVICE_NICKS
from . import mail
from .throttle import LoginThrottle, RateLimit, describe_wait

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
Then = Callable[[T], None]
RunBlocking = Callable[[Callable[[], Any], Callable[[Any], None]], None]

#: How long a mailed verification code works.
CODE_LIFETIME = 24 * 3600.0
#: Codes use letters and digits that cannot be mistaken for one another.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 8


def _store_failed(exc: Exception) -> dict[str, object]:
    """Log fields of a database error met by the accounts (it names the
    file and the reason, never an account's secret)."""
    return {"event": "account.store_failed", "reason": str(exc)}


@dataclass(frozen=True, slots=True)
class Refused:
    """Why an account operation did not happen: an IRCv3 FAIL code and a sentence."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A registration that waits for the code mailed to its address."""

    name: str


_UNAVAILABLE = Refused(
    "TEMPORARILY_UNAVAILABLE", "Accounts are unavailable right now; try again later"
)


def _nobody_hears(name: str, exists: bool) -> None:
    pass


def _guarded(run: RunBlocking) -> RunBlocking:
    """``run``, but a job that raises (a bug, not a database error: those
    are answered where they happen) answers TEMPORARILY_UNAVAILABLE, logged
    with its traceback, instead of leaving its client waiting for ever."""

    def guarded_run(fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        def job() -> Any:
            try:
                return fn()
            except Exception:
                # Jobs handle passwords: the error's type and place, not its text.
                log.exception("accounts: a job on a worker thread failed",
                              extra={"event": "account.job_failed", "exc_private": True})
                return _UNAVAILABLE

        run(job, then)

    return guarded_run


def code_hash(code: str) -> str:
    """What is kept of a verification code (SHA-256, hex; codes are case-blind)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_code() -> str:
    """A fresh verification code."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


class Accounts:
    """The accounts of one server (see the module docstring)."""

    def __init__(
        self,
        store: AccountStore,
        *,
        enabled: bool,
        run_blocking: RunBlocking,
        run_hashing: RunBlocking,
        clock: Callable[[], float],
        now: Callable[[], float],
    ) -> None:
        self.store = store
        self.enabled = enabled
        self._run_blocking = _guarded(run_blocking)
        self._run_hashing = _guarded(run_hashing)
        self._now = now
        self.throttle = LoginThrottle(clock)
        self._registrations = RateLimit(clock, 0)
        #: Verified accounts: casefolded name -> name as registered.
        self.names: dict[str, str] = {}
        #: Tells the network that an account came to exist (True) or went
        #: (False); the server publishes it, and every node :meth:`learn`\ s it.
        self.announce: Callable[[str, bool], None] = _nobody_hears
        #: Decoy SCRAM salts for names without an account (per process).
        self._decoy_secret = secrets.token_bytes(32)
        self.section = AccountsSection()
        self._sender = "hubbub@localhost"
        self._network = "hubbub"

    def configure(self, config: Config) -> None:
        """Take the (reloaded) ``[accounts]`` settings."""
        self.section = config.accounts
        self._registrations.limit = config.accounts.registrations_per_ip
        self._sender = config.accounts.smtp_from or f"hubbub@{config.server.name}"
        self._network = config.server.network

    def load(self) -> None:
        """Read the names of the verified accounts (at start, before serving)."""
        self.names = {casefold(name): name for name in self.store.names()}

    # --- at once, on the loop --------------------------------------------------

    @property
    def registration_open(self) -> bool:
        """Whether new accounts may be registered."""
        return self.enabled and self.section.registration

    def learn(self, name: str, exists: bool) -> None:
        """The account ``name`` exists now (its nick is reserved), or no more."""
        if exists:
            self.names[casefold(name)] = name
        else:
            self.names.pop(casefold(name), None)

    def owner(self, nick: str) -> str | None:
        """The account (as registered) that owns ``nick``, if one does."""
        return self.names.get(casefold(nick)) if self.names else None

    def throttled(self, name: str | None, ip: str) -> Refused | None:
        """A refusal while ``name`` may not be tried from ``ip``."""
        wait = self.throttle.wait(name, ip)
        if wait <= 0:
            return None
        return Refused(
            "THROTTLED", f"Too many failed logins; try again in {describe_wait(wait)}"
        )

    def check_new(self, name: str, email: str | None, password: str) -> Refused | None:
        """Why ``name`` cannot be registered with these details (no disk involved)."""
        if not self.registration_open:
            return Refused("TEMPORARILY_UNAVAILABLE", "Registering accounts is turned off here")
        if not is_valid_nick(name, NICKLEN) or casefold(name) in SERVICE_NICKS:
            return Refused("BAD_ACCOUNT_NAME", f"{name} cannot be an account name")
        if casefold(name) in self.names:
            return Refused("ACCOUNT_EXISTS", f"The account {name} already exists")
        if email is None and self.section.registration_requires_email:
            return Refused("INVALID_EMAIL", "An e-mail address is required to register here")
        if email is not None and not is_email(email):
            return Refused("INVALID_EMAIL", f"{email} is not an e-mail address")
        return self.check_password_rules(name, password)

    # --- logging in --------------------------------------------------------------

    def login_password(
        self, name: str, password: str, ip: str, then: Then[Account | Refused]
    ) -> None:
        """Check ``password`` for ``name`` (PLAIN, IDENTIFY): the account, or why not."""
        refused = self.throttled(name, ip)
        if refused is not None:
            then(refused)
            return
        store = self.store

        def check() -> tuple[Account | None, bool, str | None] | Refused:
            try:
                account = store.get(name)
            except DatabaseError as exc:
                log.error("login: %s", exc, extra=_store_failed(exc))
                return _UNAVAILABLE
            usable = account is not None and account.verified
            stored = account.password_hash if account is not None and usable else dummy_hash()
            # The same work whether or not the account exists: timing tells nothing.
            ok = verify_password(stored, password) and usable
            fresh = hash_password(password) if ok and needs_rehash(stored) else None
            return account, ok, fresh

        def answer(result: tuple[Account | None, bool, str | None] | Refused) -> None:
            if isinstance(result, Refused):
                then(result)
                return
            account, ok, fresh = result
            if not ok or account is None:
                self.login_failed(name, ip)
                then(Refused("FAILED", "Invalid account name or password"))
                return
            self.throttle.succeeded(account.name)
            if fresh is not None:
                # Stronger hashing parameters since it was stored: upgrade it.
                self._write(lambda: store.set_password(account.name, fresh, account.scram),
                            _ignore)  # fmt: skip
            then(account)

        self._run_hashing(check, answer)

    def scram_credentials(
        self, name: str, ip: str, then: Then[tuple[Account | None, ScramCredentials] | Refused]
    ) -> None:
        """The SCRAM keys of ``name`` (a decoy when there is no such account,
        so the exchange fails at its end like a wrong password)."""
        refused = self.throttled(name, ip)
        if refused is not None:
            then(refused)
            return
        store, secret = self.store, self._decoy_secret

        def read() -> tuple[Account | None, ScramCredentials] | Refused:
            try:
                account = store.get(name)
            except DatabaseError as exc:
                log.error("login: %s", exc, extra=_store_failed(exc))
                return _UNAVAILABLE
            if account is not None and account.verified:
                try:
                    return account, ScramCredentials.decode(account.scram)
                except ScramError:
                    log.error("account %s has unreadable SCRAM credentials", account.name,
                              extra={"event": "account.credentials_unreadable",
                                     "account": account.name})  # fmt: skip
            return None, decoy(casefold(name), secret)

        self._run_blocking(read, then)

    def login_failed(self, name: str | None, ip: str) -> None:
        """Count a failed login (a wrong password, proof or code)."""
        # Only a name that is an account is logged: people type their password
        # into the name field too, and the log must never hold one.
        known = self.names.get(casefold(name)) if name else None
        log.info("failed login to %s from %s", known or "an unknown account", ip, extra={
            "event": "account.login_failed", "address": ip, "account": known,
        })  # fmt: skip
        self.throttle.failed(name, ip)

    def login_certfp(self, fp: str, then: Then[Account | Refused]) -> None:
        """The account a client certificate logs in to (SASL EXTERNAL)."""
        store = self.store

        def read() -> Account | Refused:
            try:
                account = store.by_certfp(fp)
            except DatabaseError as exc:
                log.error("login: %s", exc, extra=_store_failed(exc))
                return _UNAVAILABLE
            if account is None or not account.verified:
                return Refused("FAILED", "This client certificate belongs to no account")
            return account

        self._run_blocking(read, then)

    # --- registering ---------------------------------------------------------------

    def register(
        self,
        name: str,
        email: str | None,
        password: str,
        ip: str,
        then: Then[Account | Pending | Refused],
    ) -> None:
        """Register ``name``: the account (verified, log in), :class:`Pending`
        (a code was mailed), or why not."""
        refused = self.check_new(name, email, password)
        if refused is None and not self._registrations.allow(ip):
            refused = Refused(
                "TEMPORARILY_UNAVAILABLE",
                "Too many accounts were registered from your address; try again later",
            )
        if refused is not None:
            then(refused)
            return
        needs_code = self.section.registration_requires_email
        code = new_code() if needs_code else None

        def hashes() -> tuple[str, str]:
            return hash_password(password), derive(password).encode()

        def store_it(result: tuple[str, str] | Refused) -> None:
            if isinstance(result, Refused):
                then(result)
                return
            now = self._now()
            account = Account(name, result[0], result[1], email, now)
            pending = (
                PendingVerification(code_hash(code), now + CODE_LIFETIME) if code else None
            )

            def stored(created: bool | None) -> None:
                if created is None:
                    then(_UNAVAILABLE)
                elif not created:
                    then(Refused("ACCOUNT_EXISTS", f"The account {name} already exists"))
                elif code is None:
                    self.learn(name, True)
                    self.announce(name, True)
                    log.info("account %s registered from %s", name, ip, extra={
                        "event": "account.registered", "address": ip, "account": name,
                    })  # fmt: skip
                    then(account)
                else:
                    assert email is not None
                    self._mail_code(account, email, code, then)

            self._write(lambda: self.store.create(account, pending, now=now), stored)

        self._run_hashing(hashes, store_it)

    def _mail_code(
        self, account: Account, email: str, code: str, then: Then[Account | Pending | Refused]
    ) -> None:
        smtp = self.section.smtp
        assert smtp is not None  # config validation: a required e-mail needs smtp
        msg = mail.verification_message(
            self._sender, email, account=account.name, code=code, network=self._network
        )

        def send() -> str | None:
            try:
                mail.send(smtp, msg)
            except mail.MailError as exc:
                return str(exc)
            return None

        def sent(error: str | Refused | None) -> None:
            if error is None:
                log.info("account %s registered, waiting for its e-mail code", account.name,
                         extra={"event": "account.registered", "account": account.name,
                                "pending": True})  # fmt: skip
                then(Pending(account.name))
                return
            why = error.text if isinstance(error, Refused) else error
            log.error("could not send the verification mail for %s: %s", account.name, why,
                      extra={"event": "account.mail_failed", "account": account.name,
                             "reason": why})  # fmt: skip
            self._write(lambda: self.store.drop(account.name), _ignore)
            then(Refused("TEMPORARILY_UNAVAILABLE",
                         "The verification mail could not be sent; try again later"))  # fmt: skip

        self._run_blocking(send, sent)

    def verify(self, name: str, code: str, ip: str, then: Then[Account | Refused]) -> None:
        """Check a mailed code; the now verified account, or why not."""
        refused = self.throttled(name, ip)
        if refused is not None:
            then(refused)
            return
        store = self.store

        def read() -> tuple[Account | None, PendingVerification | None] | Refused:
            try:
                return store.get(name), store.pending(name)
            except DatabaseError as exc:
                log.error("verify: %s", exc, extra=_store_failed(exc))
                return _UNAVAILABLE

        def check(result: tuple[Account | None, PendingVerification | None] | Refused) -> None:
            if isinstance(result, Refused):
                then(result)
                return
            account, pending = result
            if account is None or pending is None or pending.expires < self._now() or not (
                hmac.compare_digest(code_hash(code), pending.code_hash)
            ):
                self.login_failed(name, ip)
                then(Refused("INVALID_CODE", "That code is wrong or has expired"))
                return

            def verified(done: bool | None) -> None:
                if not done:
                    then(_UNAVAILABLE)
                    return
                self.learn(account.name, True)
                self.announce(account.name, True)
                log.info("account %s verified from %s", account.name, ip, extra={
                    "event": "account.verified", "address": ip, "account": account.name,
                })  # fmt: skip
                then(Account(account.name, account.password_hash, account.scram, account.email,
                             account.created, account.certfps, True))  # fmt: skip

            self._write(lambda: store.mark_verified(account.name), verified)

        self._run_blocking(read, check)

    # --- managing ------------------------------------------------------------------

    def get(self, name: str, then: Then[Account | Refused | None]) -> None:
        """Read an account (INFO, CERT LIST)."""
        store = self.store

        def read() -> Account | Refused | None:
            try:
                return store.get(name)
            except DatabaseError as exc:
                log.error("accounts: %s", exc, extra=_store_failed(exc))
                return _UNAVAILABLE

        self._run_blocking(read, then)

    def set_password(self, name: str, password: str, then: Then[Refused | None]) -> None:
        """Give ``name`` a new password (both hashes)."""
        refused = self.check_password_rules(name, password)
        if refused is not None:
            then(refused)
            return

        def store_it(result: tuple[str, str] | Refused) -> None:
            if isinstance(result, Refused):
                then(result)
                return

            def changed(done: bool | None) -> None:
                if done:
                    log.info("account %s changed its password", name,
                             extra={"event": "account.password_changed", "account": name})
                then(None if done else _UNAVAILABLE)

            self._write(lambda: self.store.set_password(name, *result), changed)

        self._run_hashing(lambda: (hash_password(password), derive(password).encode()), store_it)

    def check_password_rules(self, name: str, password: str) -> Refused | None:
        """The password part of :meth:`check_new`."""
        section = self.section
        if any(c.isspace() for c in password) or not password.isprintable():
            return Refused("UNACCEPTABLE_PASSWORD", "Passwords cannot contain spaces")
        if len(password) < section.password_min_length:
            shortest = section.password_min_length
            return Refused("WEAK_PASSWORD", f"Passwords need at least {shortest} characters")
        if casefold(password) == casefold(name):
            return Refused("WEAK_PASSWORD", "The password cannot be the account name")
        return None

    def add_certfp(self, name: str, fp: str, then: Then[bool | None]) -> None:
        """Let a certificate log in to ``name``; False if it belongs to an
        account already, None on a database error."""
        self._write(lambda: self.store.add_certfp(name, fp), then)

    def del_certfp(self, name: str, fp: str, then: Then[bool | None]) -> None:
        """Forget one of ``name``'s certificates (None on a database error)."""
        self._write(lambda: self.store.del_certfp(name, fp), then)

    def drop(self, name: str, then: Then[bool | None]) -> None:
        """Delete the account ``name`` (None on a database error)."""

        def dropped(done: bool | None) -> None:
            if done:
                self.learn(name, False)
                self.announce(name, False)
                log.info("account %s dropped", name,
                         extra={"event": "account.dropped", "account": name})
            then(done)

        self._write(lambda: self.store.drop(name), dropped)

    def _write(self, fn: Callable[[], R], then: Then[R | None]) -> None:
        """Run one store write, then ``then(result)`` on the loop; the result
        is None (logged) when the database fails. On the loop at once when
        the store's writes are page-cache writes (SQLite); on a worker thread
        when they wait on the network (PostgreSQL), so the loop never does."""

        def write() -> R | None:
            try:
                return fn()
            except DatabaseError as exc:
                log.error("accounts: %s", exc, extra=_store_failed(exc))
                return None

        if self.store.writes_block:
            self._run_blocking(write, then)
        else:
            then(write())


def _ignore(result: object) -> None:
    """A write whose outcome changes nothing for the asker (logged if it failed)."""
