"""The shared irc-parser-tests vectors (ircdocs/parser-tests, CC0).

They live outside the repository, in ``../shared/data/irc-parser-tests``
relative to its root. Outside CI the folder may be absent and these tests
skip, saying where they looked; in CI (``CI=true``) it is always there, so a
missing folder fails instead of skipping quietly.
"""

from __future__ import annotations

import os
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

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "irc-parser-tests"
FILES = (
    "msg-split.yaml",
    "msg-join.yaml",
    "mask-match.yaml",
    "userhost-split.yaml",
    "validate-hostname.yaml",
)


def _missing(path: Path) -> None:
    """Skip (locally) or fail (in CI) because ``path`` is not there."""
    reason = f"irc-parser-tests vectors not found: {path} does not exist"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, where the vectors are required)")
    pytest.skip(reason)


def _cases(name: str) -> list[Any]:
    """One pytest param per vector in ``name``, or a single placeholder that
    skips/fails at run time when the file is absent (never an empty list,
    which pytest would skip without saying why)."""
    path = VECTORS / name
    if not path.is_file():
        return [pytest.param(None, id=f"{name}-missing")]
    tests = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(case, id=f"{name.removesuffix('.yaml')}-{i}") for i, case in enumerate(tests)
    ]


def _case(case: dict[str, Any] | None, name: str) -> dict[str, Any]:
    if case is None:
        _missing(VECTORS / name)
    assert case is not None
    return case


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
    path = VECTORS / name
    if not path.is_file():
        _missing(path)
    tests = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    # A file with no vectors would make every other test here pass vacuously.
    assert len(tests) >= 5


@pytest.mark.parametrize("case", _cases("msg-split.yaml"))
def test_msg_split(case: dict[str, Any] | None) -> None:
    case = _case(case, "msg-split.yaml")
    atoms = case["atoms"]
    msg = parse_line(case["input"])
    assert msg.tags == (atoms.get("tags") or {})
    assert msg.source == atoms.get("source")
    assert msg.command == atoms["verb"]
    assert msg.params == tuple(atoms.get("params") or ())


def test_msg_split_through_framing_bytewise() -> None:
    """All split vectors as one CR LF stream, fed byte by byte, parse the same."""
    path = VECTORS / "msg-split.yaml"
    if not path.is_file():
        _missing(path)
    inputs = [c["input"] for c in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]]
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
def test_msg_join(case: dict[str, Any] | None) -> None:
    case = _case(case, "msg-join.yaml")
    msg = _message(case["atoms"])
    assert msg.to_line() in case["matches"]
    # And every accepted spelling parses back to the same message.
    for line in case["matches"]:
        assert parse_line(line) == msg


@pytest.mark.parametrize("case", _cases("mask-match.yaml"))
def test_mask_match(case: dict[str, Any] | None) -> None:
    case = _case(case, "mask-match.yaml")
    mask = case["mask"]
    for name in case.get("matches") or ():
        assert mask_match(mask, name), (mask, name)
    for name in case.get("fails") or ():
        assert not mask_match(mask, name), (mask, name)


@pytest.mark.parametrize("case", _cases("userhost-split.yaml"))
def test_userhost_split(case: dict[str, Any] | None) -> None:
    case = _case(case, "userhost-split.yaml")
    atoms = case["atoms"]
    got = split_userhost(case["source"])
    assert got == (atoms.get("nick", ""), atoms.get("user", ""), atoms.get("host", ""))


@pytest.mark.parametrize("case", _cases("validate-hostname.yaml"))
def test_validate_hostname(case: dict[str, Any] | None) -> None:
    case = _case(case, "validate-hostname.yaml")
    assert is_valid_hostname(case["host"]) is case["valid"]
