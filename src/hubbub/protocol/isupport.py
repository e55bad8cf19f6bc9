"""RPL_ISUPPORT (005): announcing server features as ``KEY=value`` tokens.

A client reads these to learn the casemapping, prefixes, channel modes and
limits. Servers send several 005 lines; each carries at most
:data:`TOKENS_PER_LINE` tokens so that the line stays under 512 bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

TOKENS_PER_LINE: Final = 13


def isupport_tokens(features: Mapping[str, str | None]) -> list[str]:
    """``{"CHANTYPES": "#", "EXCEPTS": None}`` -> ``["CHANTYPES=#", "EXCEPTS"]``."""
    return [key if value is None else f"{key}={value}" for key, value in features.items()]


def isupport_chunks(features: Mapping[str, str | None]) -> Iterator[list[str]]:
    """The tokens, grouped into one list per 005 line."""
    tokens = isupport_tokens(features)
    for start in range(0, len(tokens), TOKENS_PER_LINE):
        yield tokens[start : start + TOKENS_PER_LINE]


def parse_isupport(tokens: list[str]) -> dict[str, str | None]:
    """The client side: the tokens of one 005 line back into a dict;
    ``-KEY`` withdraws a feature and maps to ``None``."""
    out: dict[str, str | None] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if key.startswith("-"):
            out[key[1:]] = None
        else:
            out[key] = value if sep else ""
    return out
