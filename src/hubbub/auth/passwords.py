"""Password hashes: argon2id, the password-hashing competition's winner.

A stored hash (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) carries its
own parameters, so they can be raised later: :func:`needs_rehash` tells a
successful login to store a fresh hash. The parameters are OWASP's
recommendation for argon2id (19 MiB, two passes, one lane): about 20 ms on
one core here. That is a lot of CPU per try for someone guessing and little
for a person logging in, and it is why hashing never runs on the event loop.

Checking a password against an account that does not exist still does the
work of one check (:data:`dummy_hash`), so timing does not tell which names
have accounts.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: time_cost 2, memory 19 MiB, 1 lane (OWASP's argon2id recommendation).
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    """The argon2id hash of ``password`` (slow: call it on a worker thread)."""
    return hasher.hash(password)


def verify_password(stored: str, given: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether ``given`` is the password of ``stored`` (slow; constant time
    in what it compares)."""
    try:
        return hasher.verify(stored, given)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, hasher: PasswordHasher = HASHER) -> bool:
    """Whether ``stored`` was made with other parameters than ``hasher``'s."""
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password, checked against when there is no account."""
    return hash_password(secrets.token_urlsafe(16))
