"""Message: validation on construction, serialising, parsing, round trips."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hubbub.protocol import (
    EmptyLine,
    LineBuffer,
    Message,
    MissingCommand,
    ProtocolError,
    body_size,
    decode,
    escape_value,
    fit,
    parse_line,
    parse_tags,
    serialise_tags,
    unescape_value,
)

# --- strategies -----------------------------------------------------------

# Characters that matter to the wire format, mixed generously into everything.
_SPECIAL = " :;=@\\\r\n\t!\x01\x03"


def _text(exclude: str = "", min_size: int = 0) -> st.SearchStrategy[str]:
    """Arbitrary unicode that UTF-8 can encode (no lone surrogates), without
    NUL, heavy on wire-relevant characters."""
    special = [c for c in _SPECIAL if c not in exclude]
    alphabet = st.one_of(
        st.sampled_from(special),
        st.characters(codec="utf-8", exclude_characters="\0" + exclude),
    )
    return st.text(alphabet, min_size=min_size, max_size=30)


# IRCv3 message-tags: [+][vendor/]key-name
tag_keys = st.from_regex(r"\A\+?([a-z0-9-]{1,8}(\.[a-z0-9-]{1,8}){0,2}/)?[A-Za-z0-9-]{1,12}\Z")
tag_values = _text()
tags = st.dictionaries(tag_keys, tag_values, max_size=5)
sources = st.one_of(st.none(), _text(exclude=" \r\n", min_size=1))
commands = st.one_of(
    st.from_regex(r"\A[A-Za-z]{1,12}\Z"),
    st.from_regex(r"\A[0-9]{3}\Z"),
)
middle_params = _text(exclude=" \r\n", min_size=1).filter(lambda p: not p.startswith(":"))
last_params = _text(exclude="\r\n")


@st.composite
def messages(draw: st.DrawFn) -> Message:
    params = draw(st.lists(middle_params, max_size=5))
    if draw(st.booleans()):
        params.append(draw(last_params))
    return Message(draw(commands), tuple(params), draw(sources), draw(tags))


# --- round trips ----------------------------------------------------------


@given(messages())
@example(Message("PRIVMSG", ("#c", ""), None, {"a": ";\\ \r\n"}))
@example(Message("PRIVMSG", ("#c", ":-) x"), "n!u@h", {"+draft/reply": "\\"}))
@example(Message("JOIN", ("#c",), "n!u@h", {"k": ""}))
def test_round_trip_line(msg: Message) -> None:
    assert parse_line(msg.to_line()) == msg
    assert parse_line(msg.to_line(trailing=True)) == msg


@given(messages())
def test_round_trip_bytes_through_framing(msg: Message) -> None:
    """to_bytes -> LineBuffer -> decode -> parse_line is the identity too."""
    buf = LineBuffer()
    lines = buf.feed(msg.to_bytes())
    assert buf.pending == 0
    assert len(lines) == 1
    raw = lines[0]
    assert isinstance(raw, bytes)
    text, valid = decode(raw)
    assert valid
    assert parse_line(text) == msg


@given(_text())
@example("\\")
@example("\\n")
@example("a;b c\r\nd\\")
def test_tag_value_escape_round_trip(value: str) -> None:
    escaped = escape_value(value)
    assert unescape_value(escaped) == value
    for ch in "; \r\n":
        assert ch not in escaped


@given(tags)
def test_tag_section_round_trip(t: dict[str, str]) -> None:
    assert parse_tags(serialise_tags(t)) == t


@given(_text(min_size=0).map(lambda s: s[:60]))
@example(":src :x")
@example(":src @x")
@example("@a=b @x")
@example("PRIVMSG #c :a\rQUIT")
@example("PRIVMSG #c :a\nQUIT")
@example("\r")
def test_parse_results_are_valid_messages(line: str) -> None:
    """Whatever parse_line accepts is a Message that could have been built,
    and that serialises to a line which parses back to itself."""
    try:
        msg = parse_line(line)
    except ProtocolError:
        return
    rebuilt = Message(msg.command, msg.params, msg.source, dict(msg.tags))
    assert rebuilt == msg
    assert parse_line(msg.to_line()) == msg


# --- serialising ----------------------------------------------------------


def test_to_line_omits_colon_when_not_needed() -> None:
    assert Message("JOIN", ("#chan",)).to_line() == "JOIN #chan"
    assert Message("AWAY", ("",), "src").to_line() == ":src AWAY :"
    assert Message("X", ("a", ":b")).to_line() == "X a ::b"
    assert Message("X", ("a", "b c")).to_line() == "X a :b c"


def test_to_line_trailing_forces_colon() -> None:
    msg = Message("PRIVMSG", ("#chan", "hello"), "n!u@h")
    assert msg.to_line() == ":n!u@h PRIVMSG #chan hello"
    assert msg.to_line(trailing=True) == ":n!u@h PRIVMSG #chan :hello"
    # No params: nothing to force.
    assert Message("QUIT").to_line(trailing=True) == "QUIT"


def test_to_line_tags_false_drops_tags() -> None:
    msg = Message("PRIVMSG", ("#c", "hi"), "n", {"time": "2024-01-01T00:00:00.000Z", "k": ""})
    assert msg.to_line() == "@time=2024-01-01T00:00:00.000Z;k :n PRIVMSG #c hi"
    assert msg.to_line(tags=False) == ":n PRIVMSG #c hi"
    assert msg.to_bytes(tags=False) == b":n PRIVMSG #c hi\r\n"


def test_to_bytes_is_utf8_with_crlf() -> None:
    assert Message("PRIVMSG", ("#c", "héllo wörld")).to_bytes() == (
        "PRIVMSG #c :héllo wörld\r\n".encode()
    )


def test_with_tags_replaces_tags_and_keeps_the_rest() -> None:
    msg = Message("PRIVMSG", ("#c", "hi"), "n", {"a": "1"})
    other = msg.with_tags({"b": "2"})
    assert other == Message("PRIVMSG", ("#c", "hi"), "n", {"b": "2"})
    assert msg.tags == {"a": "1"}


# --- validation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "params", "source", "tag_map"),
    [
        pytest.param("PRIVMSG", ("#a b", "x"), None, {}, id="space-in-middle"),
        pytest.param("PRIVMSG", ("", "x"), None, {}, id="empty-middle"),
        pytest.param("PRIVMSG", (":x", "y"), None, {}, id="colon-led-middle"),
        pytest.param("PRIVMSG", ("#c", "a\rb"), None, {}, id="cr-in-last"),
        pytest.param("PRIVMSG", ("#c", "a\nb"), None, {}, id="lf-in-last"),
        pytest.param("PRIVMSG", ("#c", "a\0b"), None, {}, id="nul-in-last"),
        pytest.param("PRIVMSG", ("#\rc", "x"), None, {}, id="cr-in-middle"),
        pytest.param("", (), None, {}, id="empty-command"),
        pytest.param("PRIV MSG", (), None, {}, id="space-in-command"),
        pytest.param(":PRIVMSG", (), None, {}, id="colon-led-command"),
        pytest.param("@PRIVMSG", (), None, {}, id="at-led-command"),
        pytest.param("PING\r\nQUIT", (), None, {}, id="crlf-in-command"),
        pytest.param("PING", (), "", {}, id="empty-source"),
        pytest.param("PING", (), "a b", {}, id="space-in-source"),
        pytest.param("PING", (), "a\r\nQUIT", {}, id="crlf-in-source"),
        pytest.param("PING", (), "a\0", {}, id="nul-in-source"),
        pytest.param("PING", (), None, {"": "x"}, id="empty-tag-key"),
        pytest.param("PING", (), None, {"a b": "x"}, id="space-in-tag-key"),
        pytest.param("PING", (), None, {"a;b": "x"}, id="semicolon-in-tag-key"),
        pytest.param("PING", (), None, {"a=b": "x"}, id="equals-in-tag-key"),
        pytest.param("PING", (), None, {"a\n": "x"}, id="lf-in-tag-key"),
        pytest.param("PING", (), None, {"a": "x\0"}, id="nul-in-tag-value"),
    ],
)
def test_invalid_messages_are_refused(
    command: str, params: tuple[str, ...], source: str | None, tag_map: dict[str, str]
) -> None:
    with pytest.raises(ProtocolError):
        Message(command, params, source, tag_map)


def test_last_param_may_be_empty_spaced_or_colon_led() -> None:
    for last in ("", " ", "a b", ":x", "::", "\t"):
        assert Message("PRIVMSG", ("#c", last)).params[-1] == last


def test_tag_values_may_hold_anything_but_nul() -> None:
    msg = Message("X", (), None, {"a": "; \\\r\n"})
    assert msg.to_line() == "@a=\\:\\s\\\\\\r\\n X"


# --- parsing --------------------------------------------------------------


@pytest.mark.parametrize("line", ["", " ", "   "])
def test_parse_empty_line(line: str) -> None:
    with pytest.raises(EmptyLine):
        parse_line(line)


@pytest.mark.parametrize(
    "line", ["@a=b", ":src", "@a=b :src", "@a=b   ", ":src   ", "@", ":", "@ :", "  @a=b  "]
)
def test_parse_prefix_without_command(line: str) -> None:
    # Not empty, so a server must not ignore it: a distinct error to answer.
    with pytest.raises(MissingCommand) as info:
        parse_line(line)
    assert not isinstance(info.value, EmptyLine)


def test_empty_line_is_a_protocol_error() -> None:
    # Callers that only catch ProtocolError still see empty lines.
    assert issubclass(EmptyLine, ProtocolError)


@pytest.mark.parametrize("line", ["PING\0", "PRIVMSG #c :a\0b", "\0", ":s\0rc PING"])
def test_parse_nul_is_protocol_error(line: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_line(line)
    assert not isinstance(info.value, EmptyLine)


@pytest.mark.parametrize(
    "line",
    [
        # A bare CR or LF inside one line would be relayed verbatim and split
        # by the receiving client into a second, injected line.
        "PRIVMSG #c :hi\rQUIT :bye",
        "PRIVMSG #c :hi\r\nQUIT :bye",
        "PRIVMSG #c\n:hi",
        "@a=b\r PING",
        ":src\r PING",
    ],
)
def test_parse_cr_lf_is_protocol_error(line: str) -> None:
    with pytest.raises(ProtocolError):
        parse_line(line)


@pytest.mark.parametrize("line", [":src :x", ":src @x", "@a=b @x", "@a=b :src ::x"])
def test_parse_invalid_command_is_protocol_error(line: str) -> None:
    with pytest.raises(ProtocolError):
        parse_line(line)


def test_parse_basic() -> None:
    msg = parse_line("@id=1;+x :n!u@h PRIVMSG #c :hello  there ")
    assert msg == Message("PRIVMSG", ("#c", "hello  there "), "n!u@h", {"id": "1", "+x": ""})


def test_parse_leading_and_repeated_spaces() -> None:
    assert parse_line("  PING   a  b ") == Message("PING", ("a", "b"))


def test_parse_empty_source_is_none() -> None:
    assert parse_line(": PING x").source is None


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("nick", "nick"), ("", "*"), ("a b", "a_b"), (":x", "x"), ("::", "*"), ("#c", "#c")],
)
def test_middle_param_makes_echoed_input_valid(raw: str, safe: str) -> None:
    from hubbub.protocol import middle_param, reply_params

    assert middle_param(raw) == safe
    params = reply_params(("nick", raw, "the last one may be anything: a b"))
    Message("401", params)  # does not raise
    assert params[-1] == "the last one may be anything: a b"


# --- fitting the line limit ----------------------------------------------------


def test_fit_leaves_a_short_message_alone() -> None:
    msg = Message("PRIVMSG", ("#c", "hi"), "n!u@h")
    assert fit(msg) is msg


@pytest.mark.parametrize(
    "msg",
    [
        Message("PART", ("#c", "é" * 300), "nick!~user@host.example"),
        Message("401", ("me", "x" * 600, "No such nick/channel"), "irc.example.org"),
        Message("FAIL", ("\ufffd" * 200, "INVALID_UTF8", "Message rejected"), "irc.example.org"),
        Message("X", ("a" * 300, "b" * 300, "c" * 300)),
        Message("T", ("#c", "👍" * 200), "s", {"time": "2020-01-01T00:00:00.000Z"}),
    ],
)
def test_fit_cuts_the_longest_parameters_to_the_line_limit(msg: Message) -> None:
    fitted = fit(msg)
    assert body_size(fitted) <= 512
    assert body_size(fitted) >= 512 - 4  # cut at a character boundary, no more
    assert fitted.command == msg.command and fitted.source == msg.source
    assert fitted.tags == msg.tags
    assert parse_line(fitted.to_line()) == fitted  # still a valid message
    for before, after in zip(msg.params, fitted.params, strict=True):
        assert before.startswith(after) and (after or before == msg.params[-1])
