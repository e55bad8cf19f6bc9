"""SCRAM-SHA-256 (RFC 5802, RFC 7677): credentials, the server side, the client side.

Theory of operation
-------------------
SCRAM lets a client prove it knows a password without sending it, and lets
the server prove it knows the password's keys: neither side can replay what
it saw. At registration the server derives, from the password and a random
salt, ``StoredKey = H(HMAC(SaltedPassword, "Client Key"))`` and
``ServerKey = HMAC(SaltedPassword, "Server Key")`` (``SaltedPassword`` is
PBKDF2-HMAC-SHA-256 with :data:`ITERATIONS` rounds) and keeps only those
(:class:`ScramCredentials`); the password itself is not recoverable from them.

An exchange is four messages::

    client-first   n,,n=user,r=<client nonce>
    server-first   r=<client nonce><server nonce>,s=<salt>,i=<iterations>
    client-final   c=biws,r=<both nonces>,p=<ClientProof>
    server-final   v=<ServerSignature>

The server checks the proof: ``ClientKey = ClientProof XOR HMAC(StoredKey,
AuthMessage)`` must hash to ``StoredKey`` (compared in constant time). It
answers with its own signature, which the client checks.

Channel binding (``p=`` in the GS2 header) is not offered: a client asking
for it is refused, one saying ``y`` (it could, we did not offer) is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .saslprep import SASLprepError, prepare_password, saslprep

#: PBKDF2 rounds for new credentials. RFC 7677 asks for at least 4096; more
#: makes a stolen database slower to attack, and only the client pays it at
#: login (the server derives the keys once, at registration).
ITERATIONS = 10_000
#: Fewer rounds than this in a server-first message are refused by our client.
MIN_ITERATIONS = 4096
#: More rounds than this are refused too: a hostile server must not make a
#: client burn minutes of CPU.
MAX_ITERATIONS = 1_000_000
_PREFIX = "SCRAM-SHA-256"


class ScramError(ValueError):
    """A malformed or refused SCRAM message."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ScramError("bad base64") from None


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """``Hi(Normalize(password), salt, i)``: PBKDF2-HMAC-SHA-256."""
    return hashlib.pbkdf2_hmac("sha256", prepare_password(password).encode(), salt, iterations)


@dataclass(frozen=True, slots=True)
class ScramCredentials:
    """What the server keeps of a password for SCRAM (never the password)."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def encode(self) -> str:
        """One line for storage: ``SCRAM-SHA-256$i$salt$storedkey$serverkey`` (base64)."""
        parts = (_PREFIX, str(self.iterations), _b64(self.salt), _b64(self.stored_key),
                 _b64(self.server_key))  # fmt: skip
        return "$".join(parts)

    @classmethod
    def decode(cls, text: str) -> ScramCredentials:
        """The credentials :meth:`encode` wrote; ScramError if it is not that."""
        parts = text.split("$")
        if len(parts) != 5 or parts[0] != _PREFIX or not parts[1].isdigit():
            raise ScramError("not stored SCRAM-SHA-256 credentials")
        return cls(_unb64(parts[2]), int(parts[1]), _unb64(parts[3]), _unb64(parts[4]))


def derive(
    password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> ScramCredentials:
    """The SCRAM credentials of ``password`` (a fresh 16-byte salt unless given)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = salted_password(password, salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    return ScramCredentials(
        salt, iterations, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")
    )


def decoy(username: str, secret: bytes) -> ScramCredentials:
    """Credentials for a name that has no account: a salt that is the same
    every time for that name (so probing cannot tell it from a real account)
    and keys that match no password."""
    salt = _hmac(secret, b"salt:" + username.encode())[:16]
    return ScramCredentials(salt, ITERATIONS, secrets.token_bytes(32), secrets.token_bytes(32))


def _escape(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _unescape(name: str) -> str:
    out, i = [], 0
    while i < len(name):
        if name[i] == ",":
            raise ScramError("unescaped comma in a name")
        if name[i] == "=":
            code = name[i : i + 3]
            if code == "=2C":
                out.append(",")
            elif code == "=3D":
                out.append("=")
            else:
                raise ScramError("bad escape in a name")
            i += 3
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def _attributes(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ScramError(f"malformed attribute {part[:10]!r}")
        out.append((part[0], part[2:]))
    return out


def _printable_nonce(nonce: str) -> bool:
    return bool(nonce) and all(0x21 <= ord(c) <= 0x7E and c != "," for c in nonce)


# --- the server side ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientFirst:
    """A parsed client-first message."""

    gs2_header: str
    authzid: str
    username: str
    nonce: str
    bare: str


def parse_client_first(data: bytes) -> ClientFirst:
    """Parse ``n,[a=authzid],n=user,r=nonce[,ext...]``; ScramError if malformed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScramError("not UTF-8") from None
    flag, sep1, rest = text.partition(",")
    authz, sep2, bare = rest.partition(",")
    if not (sep1 and sep2):
        raise ScramError("no GS2 header")
    if flag.startswith("p="):
        raise ScramError("channel binding is not supported")
    if flag not in ("n", "y"):
        raise ScramError("bad GS2 header")
    authzid = ""
    if authz:
        if not authz.startswith("a="):
            raise ScramError("bad authzid")
        authzid = _unescape(authz[2:])
    attrs = _attributes(bare)
    if len(attrs) < 2 or attrs[0][0] != "n" or attrs[1][0] != "r":
        raise ScramError("client-first must start with n= and r=")
    if attrs[0][1] == "" or not _printable_nonce(attrs[1][1]):
        raise ScramError("empty name or bad nonce")
    try:
        username = saslprep(_unescape(attrs[0][1]))
    except SASLprepError as exc:
        raise ScramError(f"name: {exc}") from None
    return ClientFirst(f"{flag},{authz},", authzid, username, attrs[1][1], bare)


class ScramServer:
    """The server's half of one exchange, after the client-first message."""

    def __init__(
        self, first: ClientFirst, creds: ScramCredentials, nonce: str | None = None
    ) -> None:
        self.first = first
        self.creds = creds
        server_nonce = nonce if nonce is not None else secrets.token_urlsafe(18)
        self.nonce = first.nonce + server_nonce
        self.server_first = f"r={self.nonce},s={_b64(creds.salt)},i={creds.iterations}"

    def final(self, data: bytes) -> str | None:
        """Check the client-final message: the server-final message to send
        when the proof is right, None when it is wrong; ScramError when the
        message is malformed or does not belong to this exchange."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ScramError("not UTF-8") from None
        without_proof, sep, proof_attr = text.rpartition(",")
        if not sep or not proof_attr.startswith("p="):
            raise ScramError("client-final must end with p=")
        attrs = _attributes(without_proof)
        if len(attrs) < 2 or attrs[0][0] != "c" or attrs[1][0] != "r":
            raise ScramError("client-final must start with c= and r=")
        if _unb64(attrs[0][1]) != self.first.gs2_header.encode():
            raise ScramError("channel binding data does not match")
        if not hmac.compare_digest(attrs[1][1].encode(), self.nonce.encode()):
            raise ScramError("nonce does not match")
        proof = _unb64(proof_attr[2:])
        if len(proof) != len(self.creds.stored_key):
            raise ScramError("proof has the wrong length")
        auth = f"{self.first.bare},{self.server_first},{without_proof}".encode()
        client_key = _xor(proof, _hmac(self.creds.stored_key, auth))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), self.creds.stored_key):
            return None
        return "v=" + _b64(_hmac(self.creds.server_key, auth))


# --- the client side ---------------------------------------------------------


class ScramClient:
    """The client's half of one exchange."""

    def __init__(self, username: str, password: str, nonce: str | None = None) -> None:
        self.username = username
        self.password = password
        self.nonce = nonce if nonce is not None else secrets.token_urlsafe(18)
        self.bare = f"n={_escape(saslprep(username))},r={self.nonce}"
        self._server_signature: bytes | None = None

    def first(self) -> bytes:
        """The client-first message."""
        return f"n,,{self.bare}".encode()

    def final(self, server_first: bytes) -> bytes:
        """The client-final message for the server's challenge; ScramError if
        the challenge is malformed or unsafe."""
        text = server_first.decode("utf-8", "replace")
        attrs = dict(_attributes(text))
        nonce, salt, rounds = attrs.get("r", ""), attrs.get("s", ""), attrs.get("i", "")
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ScramError("the server's nonce does not extend ours")
        if not rounds.isdigit() or not MIN_ITERATIONS <= int(rounds) <= MAX_ITERATIONS:
            raise ScramError(f"refusing {rounds!r} iterations")
        salted = salted_password(self.password, _unb64(salt), int(rounds))
        client_key = _hmac(salted, b"Client Key")
        without_proof = f"c=biws,r={nonce}"
        auth = f"{self.bare},{text},{without_proof}".encode()
        signature = _hmac(hashlib.sha256(client_key).digest(), auth)
        self._server_signature = _hmac(_hmac(salted, b"Server Key"), auth)
        return f"{without_proof},p={_b64(_xor(client_key, signature))}".encode()

    def verify(self, server_final: bytes) -> bool:
        """True when the server proved it knows our keys."""
        text = server_final.decode("utf-8", "replace")
        if self._server_signature is None or not text.startswith("v="):
            return False
        try:
            given = _unb64(text[2:].split(",")[0])
        except ScramError:
            return False
        return hmac.compare_digest(given, self._server_signature)
