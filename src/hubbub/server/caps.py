"""The IRCv3 capability registry: what we offer in ``CAP LS`` and what each
capability switches on for a connection.

:data:`CAPS` are offered by every server; :func:`offered` adds those that
depend on the config (``sasl`` and ``draft/account-registration`` when
accounts are on, with values saying how), once per config.

Most capabilities change *which* messages a client gets or their shape, and
the code that sends them checks ``"cap" in conn.caps``. Tags are different:
every outgoing message goes through the same encoder, which keeps only the
tags a connection asked for. :func:`tag_profile` turns a set of caps into
that filter once, when CAP REQ changes it, so fan-out can group recipients by
profile and encode each message once per group.
"""

from __future__ import annotations

from typing import Final

#: name -> value for CAP LS 302 (None: no value). Order is the LS order.
CAPS: Final[dict[str, str | None]] = {
    "account-notify": None,
    "account-tag": None,
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "chghost": None,
    "echo-message": None,
    "extended-join": None,
    "extended-monitor": None,
    "invite-notify": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
    "no-implicit-names": None,
    "draft/channel-rename": None,
    "server-time": None,
    "setname": None,
    "userhost-in-names": None,
}

#: Offered when history is on ([history] enabled).
HISTORY_CAPS: Final[dict[str, str | None]] = {
    "draft/chathistory": None,
    "draft/event-playback": None,
    "draft/message-redaction": None,
}
#: Offered when search is on too ([history] search); soju's name for the same.
SEARCH_CAPS: Final[dict[str, str | None]] = {"draft/search": None, "soju.im/search": None}


def offered(
    *,
    history: bool,
    search: bool,
    sasl: list[str],
    registration: bool,
    before_connect: bool,
    email_required: bool,
) -> dict[str, str | None]:
    """The capabilities a server with this configuration offers, in LS order:
    :data:`CAPS`; the history ones when history is on; ``sasl`` with its
    mechanisms (none: no SASL); ``draft/account-registration`` (with its
    ``before-connect`` and ``email-required`` keys) when registering is open."""
    out = dict(CAPS)
    if history:
        out.update(HISTORY_CAPS)
        if search:
            out.update(SEARCH_CAPS)
    if registration:
        keys = [k for k, on in (("before-connect", before_connect),
                                ("email-required", email_required)) if on]  # fmt: skip
        out["draft/account-registration"] = ",".join(keys) or None
    if sasl:
        out["sasl"] = ",".join(sasl)
    return out


#: Tags a client gets without message-tags, by the cap that enables each.
_TAG_CAPS: Final = {
    "server-time": "time",
    "account-tag": "account",
    "batch": "batch",
    "labeled-response": "label",
}

#: The profile of a connection with message-tags: every tag goes through.
ALL_TAGS: Final = None

TagProfile = frozenset[str] | None

#: The profile of a connection that takes no tags at all.
NO_TAG_PROFILE: Final[frozenset[str]] = frozenset()

_profiles: dict[frozenset[str], frozenset[str]] = {NO_TAG_PROFILE: NO_TAG_PROFILE}


def tag_profile(caps: set[str] | frozenset[str]) -> TagProfile:
    """The set of tag names a connection with ``caps`` may receive.

    Equal profiles are the same object (interned), so fan-out can key its
    per-message encoding cache on them cheaply.
    """
    if "message-tags" in caps:
        return ALL_TAGS
    allowed = frozenset(tag for cap, tag in _TAG_CAPS.items() if cap in caps)
    return _profiles.setdefault(allowed, allowed)


def changed(
    old: dict[str, str | None], new: dict[str, str | None]
) -> tuple[dict[str, str | None], list[str]]:
    """What a reload changed in the offer: the capabilities new or with a new
    value (for ``CAP NEW``), and those gone (for ``CAP DEL``)."""
    added = {name: value for name, value in new.items()
             if name not in old or old[name] != value}  # fmt: skip
    return added, [name for name in old if name not in new]


def cap_lines(nick: str, sub: str, tokens: list[str], multiline: bool) -> list[tuple[str, ...]]:
    """The params of the ``CAP`` lines that carry ``tokens``: as many lines
    as needed, each short enough for any client; with ``multiline`` (CAP
    302) every line but the last says ``*`` (more follow)."""
    lines: list[list[str]] = [[]]
    size = 0
    for token in tokens:
        if lines[-1] and size + len(token) + 1 > LINE_BUDGET:
            lines.append([])
            size = 0
        lines[-1].append(token)
        size += len(token) + 1
    out: list[tuple[str, ...]] = []
    for i, chunk in enumerate(lines):
        more = multiline and i < len(lines) - 1
        out.append((nick, sub, "*", " ".join(chunk)) if more else (nick, sub, " ".join(chunk)))
    return out


#: Characters of tokens per CAP line (well under 512 with the prefix and nick).
LINE_BUDGET = 400


def ls_tokens(version: int, caps: dict[str, str | None] = CAPS) -> list[str]:
    """The tokens of CAP LS for ``caps``; values are only shown to CAP 302 clients."""
    if version >= 302:
        return [name if value is None else f"{name}={value}" for name, value in caps.items()]
    return list(caps)
