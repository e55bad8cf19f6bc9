"""Turning what a user typed into safe search patterns, for either database.

A user's search text never reaches a query language as it is (FTS5's
``AND``, ``NEAR``, quotes and ``*``; tsquery's ``&``, ``|``, ``!``, ``:``
and quotes all mean things, and a stray quote is a syntax error): it is cut
into words, and each word becomes a quoted prefix term. All of them must
match, in any order, so ``fast`` finds "Fasting is hard".

Both databases see words the same way, as SQLite's ``unicode61`` tokenizer
with ``remove_diacritics 2`` does: runs of letters and digits, case folded,
accents dropped. SQLite folds inside FTS5; for PostgreSQL the folding is
done here (:func:`lexemes`), on the text stored and on the query alike, and
the result is handed over as ready lexemes (``array_to_tsvector``, a
``::tsquery`` cast), so PostgreSQL's own parser and dictionaries (which
would split ``e-mail`` or keep ``a@b.c`` whole) never change the meaning.
"""

from __future__ import annotations

import re
import unicodedata

#: Words as the unicode61 tokenizer sees them (letters and digits).
_WORD = re.compile(r"\w+", re.UNICODE)
#: Lexemes: letters and digits only (underscore separates, as in unicode61).
_LEXEME = re.compile(r"[^\W_]+", re.UNICODE)
#: Terms beyond this many are ignored (a query is not a document).
MAX_TERMS = 16
#: Longer words are not indexed (PostgreSQL refuses lexemes past 2047 bytes;
#: nobody searches for a 200-letter word).
MAX_LEXEME = 200


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.strip("_")][:MAX_TERMS]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for ``text``, or None if it has no words."""
    words = _words(text)
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def fold(text: str) -> str:
    """``text`` case folded, without accents (what unicode61 compares)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def lexemes(text: str | None) -> list[str]:
    """The distinct words of a stored text, folded: its search document."""
    if not text:
        return []
    return list(dict.fromkeys(w for w in _LEXEME.findall(fold(text)) if len(w) <= MAX_LEXEME))


def tsquery(text: str) -> str | None:
    """A PostgreSQL ``tsquery`` (to be cast with ``::tsquery``, never parsed
    by a dictionary) asking for every word of ``text`` as a prefix; None if
    it has no words."""
    words = lexemes(" ".join(_words(text)))[:MAX_TERMS]
    if not words:
        return None
    # Lexemes are letters and digits only, so quoting needs no escapes.
    return " & ".join(f"'{w}':*" for w in words)


def like_nick(nick: str) -> str:
    """A LIKE pattern (escape ``\\``) matching a ``nick!user@host`` source."""
    escaped = nick.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}!%"
