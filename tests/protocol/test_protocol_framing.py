"""LineBuffer, check_length and decode: bytes to lines, under hard limits.

Every stream is fed whole, byte by byte and in random chunks (like the
``tr()`` helper in h11's test_io.py); the lines out must not depend on how
the bytes were cut.
"""

from __future__ import annotations

import itertools

from hypothesis import example, given
from hypothesis import strategies as st

from hubbub.protocol import (
    MAX_BODY,
    MAX_CLIENT_TAGS,
    MAX_LINE,
    TOO_LONG,
    LineBuffer,
    check_length,
    decode,
)

Out = list[object]


def feed_chunks(chunks: list[bytes], max_line: int = MAX_LINE) -> tuple[Out, LineBuffer]:
    buf = LineBuffer(max_line)
    out: Out = []
    for chunk in chunks:
        out.extend(buf.feed(chunk))
    return out, buf


def whole(stream: bytes, max_line: int = MAX_LINE) -> Out:
    return feed_chunks([stream], max_line)[0]


def bytewise(stream: bytes, max_line: int = MAX_LINE) -> Out:
    return feed_chunks([stream[i : i + 1] for i in range(len(stream))], max_line)[0]


def split_at(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def reference(stream: bytes, max_line: int) -> Out:
    """What the complete lines of ``stream`` should give, written the slow,
    obvious way: split at LF, drop one CR, skip empties, flag long lines."""
    out: Out = []
    for line in stream.split(b"\n")[:-1]:
        line = line.removesuffix(b"\r")
        if len(line) > max_line:
            out.append(TOO_LONG)
        elif line:
            out.append(line)
    return out


# --- fixed streams --------------------------------------------------------

STREAM = b"NICK a\r\nUSER a 0 * :A B\r\n\r\nPING x\nJOIN #c\r\n\n:s PRIVMSG #c :hi\r\n"
LINES = [b"NICK a", b"USER a 0 * :A B", b"PING x", b"JOIN #c", b":s PRIVMSG #c :hi"]


def test_whole_bytewise_and_every_two_way_split_agree() -> None:
    assert whole(STREAM) == LINES
    assert bytewise(STREAM) == LINES
    for i in range(len(STREAM) + 1):
        assert feed_chunks([STREAM[:i], STREAM[i:]])[0] == LINES, i


def test_trailing_partial_line_is_held() -> None:
    tail = b"PRIVMSG #c :unfin"
    whole_chunks = [STREAM + tail]
    byte_chunks = [STREAM[i : i + 1] for i in range(len(STREAM))] + [tail]
    for chunks in (whole_chunks, byte_chunks):
        out, buf = feed_chunks(chunks)
        assert out == LINES
        assert buf.pending == len(tail)
        assert buf.feed(b"ished\r\n") == [b"PRIVMSG #c :unfinished"]
        assert buf.pending == 0


def test_crlf_and_bare_lf() -> None:
    assert whole(b"A\r\nB\nC\r\n") == [b"A", b"B", b"C"]
    # Only one CR before the LF belongs to the terminator; other CRs are data.
    assert whole(b"A\r\r\n") == [b"A\r"]
    assert whole(b"A\rB\n") == [b"A\rB"]


def test_empty_lines_are_skipped() -> None:
    assert whole(b"\r\n\n\r\n\nPING\r\n\r\n") == [b"PING"]
    assert bytewise(b"\r\n\n\r\n\nPING\r\n\r\n") == [b"PING"]
    # A lone CR line is empty too.
    assert whole(b"\r\n\r\r\n") == [b"\r"]


def test_too_long_reported_once_then_next_line_comes_out() -> None:
    stream = b"X" * 100 + b"\r\nGOOD\r\n"
    for out in (whole(stream, 16), bytewise(stream, 16)):
        assert out == [TOO_LONG, b"GOOD"]
    # Cut into chunks that each fit but together do not.
    assert feed_chunks([b"X" * 10] * 10 + [b"\r\nGOOD\r\n"], 16)[0] == [TOO_LONG, b"GOOD"]


def test_two_long_lines_are_two_reports() -> None:
    stream = b"X" * 40 + b"\n" + b"Y" * 40 + b"\nok\n"
    assert whole(stream, 16) == [TOO_LONG, TOO_LONG, b"ok"]
    assert bytewise(stream, 16) == [TOO_LONG, TOO_LONG, b"ok"]


def test_line_at_the_limit_passes_in_every_split() -> None:
    """Exactly max_line bytes of content is fine, wherever the read boundary
    falls, including between the CR and the LF; one byte more is too long."""
    max_line = 16
    fits = b"F" * max_line + b"\r\n"
    over = b"O" * (max_line + 1) + b"\r\n"
    for stream, want in ((fits, [b"F" * max_line]), (over, [TOO_LONG])):
        for i in range(len(stream) + 1):
            assert feed_chunks([stream[:i], stream[i:], b"ok\r\n"], max_line)[0] == [
                *want,
                b"ok",
            ], (stream, i)
        assert bytewise(stream + b"ok\n", max_line) == [*want, b"ok"]


def test_100kb_without_newline_is_never_buffered() -> None:
    flood = b"A" * 100_000
    for size in (1, 7, 1000, 100_000):
        buf = LineBuffer()
        out: Out = []
        for i in range(0, len(flood), size):
            out.extend(buf.feed(flood[i : i + size]))
            assert buf.pending <= buf.max_line
        assert out == [TOO_LONG], size
        # The rest of the long line is thrown away; the next line is intact.
        assert buf.feed(b"AAAA\r\nPING x\r\n") == [b"PING x"]
        assert buf.pending == 0


def test_default_limit_fits_tags_and_body() -> None:
    assert LineBuffer().max_line == MAX_LINE
    line = b"@" + b"t" * (MAX_LINE - 1)
    assert whole(line + b"\r\n") == [line]
    assert whole(line + b"x\r\n") == [TOO_LONG]


# --- random streams and cuts ----------------------------------------------

# Few distinct bytes, so CR, LF and short/long lines all turn up often.
line_bytes = st.binary(max_size=24).map(lambda b: bytes(b"ab\r"[x % 3] for x in b))
streams = st.lists(st.tuples(line_bytes, st.sampled_from([b"\n", b"\r\n"])), max_size=12).map(
    lambda parts: b"".join(a + b for a, b in parts)
)


@given(streams, st.lists(st.integers(min_value=0), max_size=20), st.integers(1, 20))
@example(b"a" * 8 + b"\r\nb\n", [9], 8)
@example(b"a" * 9 + b"\nb\n", [9], 8)
def test_random_chunks_give_the_same_lines(stream: bytes, cuts: list[int], max_line: int) -> None:
    expected = reference(stream, max_line)
    assert whole(stream, max_line) == expected
    assert bytewise(stream, max_line) == expected
    out, buf = feed_chunks(split_at(stream, cuts), max_line)
    assert out == expected
    assert buf.pending == 0


@given(streams, line_bytes.filter(lambda b: b"\n" not in b), st.lists(st.integers(0), max_size=8))
def test_random_chunks_with_trailing_partial(stream: bytes, tail: bytes, cuts: list[int]) -> None:
    max_line = 16
    out, buf = feed_chunks(split_at(stream + tail, cuts), max_line)
    expected = reference(stream, max_line)
    # A partial line already past the limit (a CR may still turn into CR LF)
    # is reported at once; otherwise it waits in the buffer.
    if len(tail.removesuffix(b"\r")) > max_line:
        assert out == [*expected, TOO_LONG]
        assert buf.pending <= max_line
    else:
        assert out == expected
        assert buf.pending == len(tail)
    # Finishing the line gives the same result as a whole feed of everything.
    out.extend(buf.feed(b"\n"))
    assert out == reference(stream + tail + b"\n", max_line)


# --- check_length ---------------------------------------------------------


def test_check_length_body_limit_counts_crlf() -> None:
    assert MAX_BODY == 512
    assert check_length(b"P" * 510)
    assert not check_length(b"P" * 511)
    tags = b"@a=b "
    assert check_length(tags + b"P" * 510)
    assert not check_length(tags + b"P" * 511)


def test_check_length_client_tag_limit() -> None:
    assert MAX_CLIENT_TAGS == 4096
    # The tag section counts the "@" and the space after it.
    fits = b"@" + b"t" * (MAX_CLIENT_TAGS - 2) + b" "
    over = b"@" + b"t" * (MAX_CLIENT_TAGS - 1) + b" "
    assert check_length(fits + b"PING x")
    assert not check_length(over + b"PING x")
    # A server may send more tags.
    assert check_length(over + b"PING x", max_tags=8191)
    # The body is measured apart from the tags.
    assert check_length(fits + b"P" * 510)
    assert not check_length(fits + b"P" * 511)


def test_check_length_tags_only() -> None:
    assert check_length(b"@" + b"t" * (MAX_CLIENT_TAGS - 2))
    assert not check_length(b"@" + b"t" * (MAX_CLIENT_TAGS - 1))


# --- decode ---------------------------------------------------------------


def test_decode_valid_utf8() -> None:
    assert decode("PRIVMSG #c :héllo ☃".encode()) == ("PRIVMSG #c :héllo ☃", True)


def test_decode_invalid_utf8_replaces() -> None:
    assert decode(b"PRIVMSG #c :caf\xe9") == ("PRIVMSG #c :caf\ufffd", False)
    assert decode(b"\xff\xfe") == ("\ufffd\ufffd", False)
    # An encoded surrogate is not valid UTF-8 either.
    text, valid = decode(b"a\xed\xa0\x80b")
    assert not valid
    assert text.startswith("a") and text.endswith("b") and "\ufffd" in text


@given(st.binary(max_size=64))
def test_decode_never_raises(data: bytes) -> None:
    text, valid = decode(data)
    try:
        expected = data.decode("utf-8")
    except UnicodeDecodeError:
        assert not valid
        assert "\ufffd" in text
    else:
        assert valid
        assert text == expected
