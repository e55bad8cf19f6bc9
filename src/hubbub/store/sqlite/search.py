"""Turning what a user typed into safe FTS5 and LIKE patterns.

A user's search text never reaches FTS5's query syntax as it is (``AND``,
``NEAR``, quotes and ``*`` mean things there, and a stray quote is a syntax
error): it is cut into words, and each word becomes a quoted prefix term.
All of them must match, in any order, so ``fast`` finds "Fasting is hard".
"""

from __future__ import annotations

import re

#: Words as the unicode61 tokenizer sees them (letters and digits).
_WORD = re.compile(r"\w+", re.UNICODE)
#: Terms beyond this many are ignored (a query is not a document).
MAX_TERMS = 16


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for ``text``, or None if it has no words."""
    words = [w for w in _WORD.findall(text) if w.strip("_")][:MAX_TERMS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def like_nick(nick: str) -> str:
    """A LIKE pattern (escape ``\\``) matching a ``nick!user@host`` source."""
    escaped = nick.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}!%"
