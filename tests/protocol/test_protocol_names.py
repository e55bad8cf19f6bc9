"""Casemapping, masks and name validity, ISUPPORT tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.protocol import (
    Casemapping,
    UserHost,
    casefold,
    irc_equal,
    is_channel_name,
    is_valid_nick,
    isupport_chunks,
    isupport_tokens,
    mask_match,
    normalise_mask,
    parse_isupport,
    split_userhost,
)

# --- casemap --------------------------------------------------------------


def test_rfc1459_folds_brackets() -> None:
    assert casefold("NICK[]\\~") == "nick{}|^"
    assert casefold("NICK[]\\~", "rfc1459") == "nick{}|^"
    assert irc_equal("Foo[Bar]", "foo{bar}")
    assert irc_equal("a\\b~", "A|B^")


def test_ascii_folds_only_letters() -> None:
    assert casefold("NICK[]\\~", "ascii") == "nick[]\\~"
    assert not irc_equal("foo[bar]", "foo{bar}", "ascii")
    assert irc_equal("FooBar", "foobar", "ascii")


def test_strict_rfc1459_leaves_tilde() -> None:
    assert casefold("[]\\~", "strict-rfc1459") == "{}|~"
    assert not irc_equal("a~", "a^", "strict-rfc1459")


def test_casefold_leaves_non_ascii_alone() -> None:
    # Folding "É" would let two different nicks collide under some mappings
    # but not others; the announced mappings only cover ASCII.
    assert casefold("ÉCOLE") == "École"
    assert not irc_equal("é", "É")


MAPPINGS: list[Casemapping] = ["ascii", "rfc1459", "strict-rfc1459"]


@given(st.text(max_size=20), st.sampled_from(MAPPINGS))
def test_casefold_is_idempotent(name: str, mapping: Casemapping) -> None:
    once = casefold(name, mapping)
    assert casefold(once, mapping) == once
    assert irc_equal(name, once, mapping)


# --- masks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ("nick", "nick!*@*"),
        ("user@host", "*!user@host"),
        ("nick!user", "nick!user@*"),
        ("nick!user@host", "nick!user@host"),
        ("irc.example.com", "*!*@irc.example.com"),
        ("2001:db8::1", "*!*@2001:db8::1"),
        ("*", "*!*@*"),
        ("@host", "*!*@host"),
        ("nick!", "nick!*@*"),
        ("!@", "*!*@*"),
        ("*!*@*.example.com", "*!*@*.example.com"),
    ],
)
def test_normalise_mask(mask: str, expected: str) -> None:
    assert normalise_mask(mask) == expected


def test_mask_wildcards() -> None:
    assert mask_match("n?ck!*@*", "nick!u@h")
    assert not mask_match("n?ck!*@*", "nck!u@h")
    assert mask_match("*", "")
    assert not mask_match("?", "")
    # Regex metacharacters are literal.
    assert mask_match("a.b+c(d)$!*@*", "a.b+c(d)$!u@h")
    assert not mask_match("a.b!*@*", "axb!u@h")


def test_mask_match_is_case_insensitive_under_the_mapping() -> None:
    assert mask_match("NICK[X]!*@*", "nick{x}!u@h")
    assert not mask_match("NICK[X]!*@*", "nick{x}!u@h", "ascii")
    assert mask_match("NICK[X]!*@*", "nick[x]!u@h", "ascii")


def test_split_userhost_returns_named_parts() -> None:
    parts = split_userhost("nick!user@host")
    assert parts == UserHost("nick", "user", "host")
    assert parts.nick == "nick" and parts.user == "user" and parts.host == "host"
    assert split_userhost("") == UserHost("", "", "")


@pytest.mark.parametrize("nick", ["a", "Nick", "[x]", "nick-1", "`_^{|}\\", "a" * 30, "z9"])
def test_valid_nicks(nick: str) -> None:
    assert is_valid_nick(nick)


@pytest.mark.parametrize(
    "nick",
    ["", "1nick", "-nick", "ni ck", "ni,ck", "nick!", "ni@ck", "#chan", ":nick", "é", "a" * 31],
)
def test_invalid_nicks(nick: str) -> None:
    assert not is_valid_nick(nick)


def test_nick_maxlen() -> None:
    assert is_valid_nick("abcdef", maxlen=6)
    assert not is_valid_nick("abcdefg", maxlen=6)


@pytest.mark.parametrize("name", ["#c", "&local", "#chan-nel.x", "#ünï", "#" + "x" * 49])
def test_channel_names(name: str) -> None:
    assert is_channel_name(name)


@pytest.mark.parametrize(
    "name",
    ["", "#", "chan", "+chan", "#a b", "#a,b", "#a\x07", "#a\rb", "#a\nb", "#a\0", "#" + "x" * 50],
)
def test_not_channel_names(name: str) -> None:
    assert not is_channel_name(name)


# --- isupport -------------------------------------------------------------


def test_isupport_tokens() -> None:
    assert isupport_tokens({"CHANTYPES": "#", "EXCEPTS": None, "NETWORK": "x"}) == [
        "CHANTYPES=#",
        "EXCEPTS",
        "NETWORK=x",
    ]


@pytest.mark.parametrize("count", [0, 1, 12, 13, 14, 26, 27, 40])
def test_isupport_chunks_at_most_13(count: int) -> None:
    features: dict[str, str | None] = {
        f"K{i}": (None if i % 3 == 0 else str(i)) for i in range(count)
    }
    chunks = list(isupport_chunks(features))
    assert all(1 <= len(c) <= 13 for c in chunks)
    assert len(chunks) == -(-count // 13)
    # Nothing lost, nothing reordered.
    assert [t for c in chunks for t in c] == isupport_tokens(features)


def test_parse_isupport() -> None:
    assert parse_isupport(["EXCEPTS", "CHANTYPES=#&", "-KNOCK", "NETWORK=", "X=a=b"]) == {
        "EXCEPTS": "",
        "CHANTYPES": "#&",
        "KNOCK": None,
        "NETWORK": "",
        "X": "a=b",
    }


def test_parse_isupport_reads_what_the_server_writes() -> None:
    features: dict[str, str | None] = {"CASEMAPPING": "rfc1459", "PREFIX": "(ov)@+", "WHOX": None}
    parsed: dict[str, str | None] = {}
    for chunk in isupport_chunks(features):
        parsed.update(parse_isupport(chunk))
    assert parsed == {"CASEMAPPING": "rfc1459", "PREFIX": "(ov)@+", "WHOX": ""}
