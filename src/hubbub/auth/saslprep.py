"""SASLprep (RFC 4013): the string preparation SCRAM applies to names and passwords.

Two people typing the "same" password on different systems may produce
different code points (a no-break space, a composed or decomposed accent);
SASLprep maps them to one form so the keys derived from it agree. It is
stringprep (RFC 3454) with the tables the standard library's
:mod:`stringprep` module carries.
"""

from __future__ import annotations

import stringprep
import unicodedata


class SASLprepError(ValueError):
    """The string holds a character SASLprep forbids."""


def _prohibited(ch: str) -> bool:
    return (
        stringprep.in_table_c12(ch)  # non-ASCII space (mapped away before this check)
        or stringprep.in_table_c21_c22(ch)  # control characters
        or stringprep.in_table_c3(ch)  # private use
        or stringprep.in_table_c4(ch)  # non-character code points
        or stringprep.in_table_c5(ch)  # surrogates
        or stringprep.in_table_c6(ch)  # inappropriate for plain text
        or stringprep.in_table_c7(ch)  # inappropriate for canonical representation
        or stringprep.in_table_c8(ch)  # change display properties / deprecated
        or stringprep.in_table_c9(ch)  # tagging characters
    )


def saslprep(text: str) -> str:
    """``text`` prepared for SCRAM; raises :class:`SASLprepError`.

    Plain ASCII without control characters, by far the common case, is
    returned as it is.
    """
    if text.isascii() and text.isprintable():
        return text
    # Map: non-ASCII spaces to a space, "commonly mapped to nothing" to nothing.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch
        for ch in text
        if not stringprep.in_table_b1(ch)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    if not prepared:
        return prepared
    for ch in prepared:
        if _prohibited(ch):
            raise SASLprepError(f"character U+{ord(ch):04X} is not allowed")
    # Bidirectional rule (RFC 3454 section 6).
    if any(stringprep.in_table_d1(ch) for ch in prepared):
        if any(stringprep.in_table_d2(ch) for ch in prepared):
            raise SASLprepError("mixes right-to-left and left-to-right characters")
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            raise SASLprepError("right-to-left text must start and end right-to-left")
    return prepared


def prepare_password(password: str) -> str:
    """The form of ``password`` SCRAM keys are derived from: SASLprep'd when
    it can be, else the password as it is (a client that cannot prepare it
    either will use it as it is too)."""
    try:
        return saslprep(password)
    except SASLprepError:
        return password
