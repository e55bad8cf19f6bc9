"""SASLprep (the RFC 4013 examples), AUTHENTICATE chunking, argon2id hashes."""

from __future__ import annotations

import base64

import pytest

from hubbub.auth.chunks import CHUNK, MAX_PAYLOAD, ChunkReader, Read, encode_chunks
from hubbub.auth.passwords import HASHER, hash_password, needs_rehash, verify_password
from hubbub.auth.saslprep import SASLprepError, prepare_password, saslprep


@pytest.mark.parametrize(
    ("given", "prepared"),
    [
        ("I\u00adX", "IX"),  # soft hyphen mapped to nothing
        ("user", "user"),
        ("USER", "USER"),  # case is kept
        ("\u00aa", "a"),  # NFKC
        ("\u2168", "IX"),  # NFKC
        ("a\u00a0b", "a b"),  # no-break space becomes a space
    ],
)
def test_rfc_4013_examples(given: str, prepared: str) -> None:
    assert saslprep(given) == prepared


@pytest.mark.parametrize("bad", ["\u0007", "\u0627\u0031", "a\ue000"])
def test_prohibited_strings(bad: str) -> None:
    with pytest.raises(SASLprepError):
        saslprep(bad)
    assert prepare_password(bad) == bad  # used as it is, rather than refused


def test_chunks_of_a_payload_follow_the_400_byte_rule() -> None:
    assert encode_chunks(b"") == ["+"]
    assert encode_chunks(b"abc") == ["YWJj"]
    exact = encode_chunks(b"x" * 300)  # 400 bytes of base64: a "+" must follow
    assert [len(c) for c in exact] == [CHUNK, 1] and exact[1] == "+"
    longer = encode_chunks(b"x" * 301)
    assert [len(c) for c in longer] == [CHUNK, 4]


@pytest.mark.parametrize("size", [0, 1, 299, 300, 301, 600, 1000])
def test_the_reader_joins_what_encode_chunks_cut(size: int) -> None:
    payload = bytes(range(256)) * 4
    payload = payload[:size]
    reader = ChunkReader()
    results = [reader.feed(chunk) for chunk in encode_chunks(payload)]
    assert results[-1] is Read.DONE and set(results[:-1]) <= {Read.MORE}
    assert reader.payload == payload


def test_the_reader_refuses_long_chunks_huge_payloads_and_bad_base64() -> None:
    assert ChunkReader().feed("A" * (CHUNK + 1)) is Read.TOO_LONG
    reader = ChunkReader()
    full = base64.b64encode(b"x" * 300).decode()
    results = [reader.feed(full) for _ in range(MAX_PAYLOAD // CHUNK + 1)]
    assert results[-1] is Read.TOO_BIG
    assert ChunkReader().feed("!!!") is Read.BAD


def test_argon2id_hashes_check_and_never_contain_the_password() -> None:
    stored = hash_password("s3cret pass")
    assert stored.startswith("$argon2id$") and "s3cret" not in stored
    assert verify_password(stored, "s3cret pass")
    assert not verify_password(stored, "s3cret pasS")
    assert not verify_password("not a hash", "s3cret pass")
    assert hash_password("s3cret pass") != stored  # salted
    assert not needs_rehash(stored)
    assert needs_rehash("$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
    assert HASHER.time_cost == 2 and HASHER.memory_cost == 19456
