"""The irc-parser-tests vectors (ircdocs/parser-tests, CC0).

They are part of the repository, in ``tests/data/irc-parser-tests`` (with
their licence), so a fresh clone runs every one of them with nothing beside
it: a missing or empty file is a failure, never a skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hubbub.protocol import (
    LineBuffer,
    Message,
    decode,
    is_valid_hostname,
    mask_match,
    parse_line,
    split_userhost,
)

VECTORS = Path(__file__).resolve().parents[1] / "data" / "irc-parser-tests"
FILES = (
    "msg-split.yaml",
    "msg-join.yaml",
    "mask-match.yaml",
    "userhost-split.yaml",
    "validate-hostname.yaml",
)


def _load(name: str) -> list[Any]:
    """The vectors of ``name``; a missing file fails at collection, loudly."""
    tests: list[Any] = yaml.safe_load((VECTORS / name).read_text(encoding="utf-8"))["tests"]
    return tests


def _cases(name: str) -> list[Any]:
    """One pytest param per vector in ``name``."""
    return [
        pytest.param(case, id=f"{name.removesuffix('.yaml')}-{i}")
        for i, case in enumerate(_load(name))
    ]


def _message(atoms: dict[str, Any]) -> Message:
    """The Message the vectors' ``atoms`` describe (missing keys: empty/None)."""
    return Message(
        atoms["verb"],
        tuple(atoms.get("params") or ()),
        atoms.get("source"),
        atoms.get("tags") or {},
    )


@pytest.mark.parametrize("name", FILES)
def test_vector_file_present_and_not_empty(name: str) -> None:
    # A file with no vectors would make every other test here pass vacuously.
    assert len(_load(name)) >= 5


def test_the_licence_travels_with_the_vectors() -> None:
    assert "CC0 1.0 Universal" in (VECTORS / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", _cases("msg-split.yaml"))
def test_msg_split(case: dict[str, Any]) -> None:
    atoms = case["atoms"]
    msg = parse_line(case["input"])
    assert msg.tags == (atoms.get("tags") or {})
    assert msg.source == atoms.get("source")
    assert msg.command == atoms["verb"]
    assert msg.params == tuple(atoms.get("params") or ())


def test_msg_split_through_framing_bytewise() -> None:
    """All split vectors as one CR LF stream, fed byte by byte, parse the same."""
    inputs = [c["input"] for c in _load("msg-split.yaml")]
    stream = b"".join(line.encode("utf-8") + b"\r\n" for line in inputs)
    buf = LineBuffer()
    raw: list[bytes] = []
    for i in range(len(stream)):
        for item in buf.feed(stream[i : i + 1]):
            assert isinstance(item, bytes)
            raw.append(item)
    assert buf.pending == 0
    got = []
    for line in raw:
        text, valid = decode(line)
        assert valid
        got.append(parse_line(text))
    assert got == [parse_line(line) for line in inputs]


@pytest.mark.parametrize("case", _cases("msg-join.yaml"))
def test_msg_join(case: dict[str, Any]) -> None:
    msg = _message(case["atoms"])
    assert msg.to_line() in case["matches"]
    # And every accepted spelling parses back to the same message.
    for line in case["matches"]:
        assert parse_line(line) == msg


@pytest.mark.parametrize("case", _cases("mask-match.yaml"))
def test_mask_match(case: dict[str, Any]) -> None:
    mask = case["mask"]
    for name in case.get("matches") or ():
        assert mask_match(mask, name), (mask, name)
    for name in case.get("fails") or ():
        assert not mask_match(mask, name), (mask, name)


@pytest.mark.parametrize("case", _cases("userhost-split.yaml"))
def test_userhost_split(case: dict[str, Any]) -> None:
    atoms = case["atoms"]
    got = split_userhost(case["source"])
    assert got == (atoms.get("nick", ""), atoms.get("user", ""), atoms.get("host", ""))


@pytest.mark.parametrize("case", _cases("validate-hostname.yaml"))
def test_validate_hostname(case: dict[str, Any]) -> None:
    assert is_valid_hostname(case["host"]) is case["valid"]
