"""SCRAM-SHA-256 against the RFC 7677 test vector, and both sides against each other."""

from __future__ import annotations

import base64

import pytest

from hubbub.auth.scram import (
    ScramClient,
    ScramCredentials,
    ScramError,
    ScramServer,
    decoy,
    derive,
    parse_client_first,
)

# RFC 7677 section 3: user "user", password "pencil".
CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
CLIENT_FIRST = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
SERVER_FIRST = (
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def rfc_credentials() -> ScramCredentials:
    return derive("pencil", salt=SALT, iterations=4096)


def test_the_server_side_reproduces_rfc_7677() -> None:
    first = parse_client_first(CLIENT_FIRST)
    assert (first.username, first.nonce, first.authzid) == ("user", CLIENT_NONCE, "")
    server = ScramServer(first, rfc_credentials(), nonce=SERVER_NONCE)
    assert server.server_first == SERVER_FIRST
    assert server.final(CLIENT_FINAL) == SERVER_FINAL


def test_the_client_side_reproduces_rfc_7677() -> None:
    client = ScramClient("user", "pencil", nonce=CLIENT_NONCE)
    assert client.first() == CLIENT_FIRST
    assert client.final(SERVER_FIRST.encode()) == CLIENT_FINAL
    assert client.verify(SERVER_FINAL.encode())
    assert not client.verify(b"v=" + base64.b64encode(b"x" * 32))


def test_a_wrong_password_gives_no_server_final() -> None:
    first_bytes = ScramClient("user", "pencils", nonce=CLIENT_NONCE).first()
    client = ScramClient("user", "pencils", nonce=CLIENT_NONCE)
    server = ScramServer(parse_client_first(first_bytes), rfc_credentials(), nonce=SERVER_NONCE)
    assert server.final(client.final(server.server_first.encode())) is None


def test_both_sides_agree_with_fresh_salts_and_nonces() -> None:
    creds = derive("correct horse", iterations=4096)
    client = ScramClient("alice", "correct horse")
    server = ScramServer(parse_client_first(client.first()), creds)
    final = server.final(client.final(server.server_first.encode()))
    assert final is not None and client.verify(final.encode())


def test_credentials_survive_storage_and_keep_no_password() -> None:
    creds = derive("hunter2")
    text = creds.encode()
    assert "hunter2" not in text
    assert text.startswith("SCRAM-SHA-256$10000$")
    assert ScramCredentials.decode(text) == creds
    with pytest.raises(ScramError):
        ScramCredentials.decode("$argon2id$v=19$...")


def test_a_decoy_has_a_stable_salt_and_matches_nothing() -> None:
    secret = b"k" * 32
    a, b = decoy("ghost", secret), decoy("ghost", secret)
    assert a.salt == b.salt and decoy("other", secret).salt != a.salt
    client = ScramClient("ghost", "anything")
    server = ScramServer(parse_client_first(client.first()), a)
    assert server.final(client.final(server.server_first.encode())) is None


@pytest.mark.parametrize(
    "message",
    [
        b"p=tls-unique,,n=user,r=abc",  # channel binding we do not offer
        b"x,,n=user,r=abc",
        b"n,,r=abc,n=user",
        b"n,,n=,r=abc",
        b"n,,n=us,er,r=abc",
        b"n,,n=user",
        b"n,,n=us=ZZer,r=abc",
        b"\xff\xfe",
        b"",
    ],
)
def test_malformed_client_first_messages_are_refused(message: bytes) -> None:
    with pytest.raises(ScramError):
        parse_client_first(message)


def test_names_are_unescaped_and_an_authzid_is_read() -> None:
    first = parse_client_first(b"n,a=b=2Cc,n=a=3Db=2Cc,r=xyz")
    assert (first.authzid, first.username) == ("b,c", "a=b,c")


def test_a_client_final_that_does_not_belong_to_the_exchange_is_refused() -> None:
    first = parse_client_first(CLIENT_FIRST)
    server = ScramServer(first, rfc_credentials(), nonce=SERVER_NONCE)
    with pytest.raises(ScramError):
        server.final(CLIENT_FINAL.replace(b"r=rOpr", b"r=XOpr"))
    with pytest.raises(ScramError):
        server.final(b"c=eSws,r=" + server.nonce.encode() + b",p=AAAA")
    with pytest.raises(ScramError):
        server.final(b"c=biws,r=" + server.nonce.encode())


def test_our_client_refuses_a_server_that_asks_for_too_few_or_too_many_rounds() -> None:
    for rounds in ("1", "99999999", "x"):
        client = ScramClient("user", "pencil", nonce="abc")
        with pytest.raises(ScramError):
            client.final(f"r=abcdef,s={base64.b64encode(b's').decode()},i={rounds}".encode())
    with pytest.raises(ScramError):
        ScramClient("user", "pencil", nonce="abc").final(b"r=zzz,s=AAAA,i=4096")
