"""Case-insensitive comparison of nicks and channel names.

IRC compares names under a casemapping the server announces in ISUPPORT
(``CASEMAPPING=``). ``rfc1459`` treats ``[]\\~`` as the upper case of ``{}|^``
(a Scandinavian heritage); ``ascii`` folds only A-Z. Folding is one
``str.translate`` call, so it is cheap enough to do on every lookup.
"""

from __future__ import annotations

import string
from typing import Final, Literal

Casemapping = Literal["ascii", "rfc1459", "strict-rfc1459"]

_TABLES: Final = {
    "ascii": str.maketrans(string.ascii_uppercase, string.ascii_lowercase),
    "rfc1459": str.maketrans(string.ascii_uppercase + "[]\\~", string.ascii_lowercase + "{}|^"),
    "strict-rfc1459": str.maketrans(
        string.ascii_uppercase + "[]\\", string.ascii_lowercase + "{}|"
    ),
}


#: The rfc1459 folding table: ``name.translate(FOLD)`` is ``casefold(name)``
#: without a Python-level call, for lookups on a server's hot path.
FOLD: Final = _TABLES["rfc1459"]


def casefold(name: str, mapping: Casemapping = "rfc1459") -> str:
    """The canonical (lower-case) form of ``name`` under ``mapping``."""
    return name.translate(_TABLES[mapping])


def irc_equal(a: str, b: str, mapping: Casemapping = "rfc1459") -> bool:
    """True when ``a`` and ``b`` name the same nick or channel."""
    return casefold(a, mapping) == casefold(b, mapping)
