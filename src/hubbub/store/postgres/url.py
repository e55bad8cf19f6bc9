"""``postgresql://`` URLs: recognising them, and showing them without a password.

A URL in ``[history] database`` may carry a password
(``postgresql://hubbub:secret@db/hubbub``). Every message that names the
database (errors, the log line at start) shows :func:`masked` instead, so
a password never reaches a log, a terminal or a bug report.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

SCHEMES = ("postgresql", "postgres")

#: ``password=...`` in a URL's query string (libpq accepts it there too).
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&]*")


def is_postgres(database: str) -> bool:
    """Whether ``[history] database`` names a PostgreSQL database."""
    return database.split("://", 1)[0].lower() in SCHEMES and "://" in database


def masked(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    return _without(url, ":***", "***")


def without_password(url: str) -> str:
    """``url`` with no password at all (for a program's command line, which
    ``ps`` shows: the password goes in its environment instead)."""
    return _without(url, "", "")


_QUERY_PASSWORD_PARAM = re.compile(r"(?i)[?&]password=[^&]*")


def _without(url: str, in_userinfo: str, in_query: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + in_userinfo
        netloc = f"{userinfo}@{hosts}"
    shown = f"{scheme}://{netloc}{slash}{tail}"
    if in_query:
        return _QUERY_PASSWORD.sub(rf"\g<1>{in_query}", shown)
    # Drop the parameter; a query that then starts with "&" starts with "?".
    kept = _QUERY_PASSWORD_PARAM.sub("", shown)
    if "?" not in kept and "&" in kept:
        kept = kept.replace("&", "?", 1)
    return kept


def password(url: str) -> str | None:
    """The password ``url`` carries, if any (to scrub it from driver messages)."""
    try:
        parts = urlsplit(url)
        found = parts.password
    except ValueError:
        return None
    if found:
        return found
    for key, value in parse_qsl(parts.query):
        if key == "password" and value:
            return value
    return None


def problem(url: str) -> str | None:
    """Why ``url`` is not a usable PostgreSQL URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"{masked(url)} is not a valid URL ({exc})"
    if parts.scheme.lower() not in SCHEMES:
        return f"{masked(url)}: the scheme must be postgresql://"
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        return f"{masked(url)} names no database (postgresql://user@host/DATABASE)"
    return None
