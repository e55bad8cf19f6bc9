"""Lines for fuzzing an IRC server, from a seed, and what each one must do to
the connection that sends it (see ``tests/fuzzing.py``, which runs them).

:class:`LineFuzzer` mixes valid commands with odd parameters, broken tags,
over-long parts, invalid UTF-8, control characters, byte-level mutations of
valid lines and raw noise. :func:`fatal` says, from the protocol layer alone,
whether a line must end the connection (a malformed line, or QUIT).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from hubbub.protocol import (
    TOO_LONG,
    EmptyLine,
    LineBuffer,
    MissingCommand,
    ProtocolError,
    check_length,
    decode,
    parse_line,
)
from hubbub.server.commands import COMMANDS

VERBS = [*sorted(COMMANDS), "FOO", "PRIVMSGX", "001", "privmsg", "Join", "CAP"]
CAPS = [
    "message-tags", "echo-message", "server-time", "labeled-response", "batch",
    "multi-prefix", "extended-join", "away-notify", "account-tag", "setname",
    "userhost-in-names", "invite-notify", "chghost", "cap-notify", "no-implicit-names",
]  # fmt: skip
CHANNELS = ["#fuzz0", "#fuzz1", "#fuzz2", "#fuzz3", "#fuzz4"]
ODD_WORDS = [
    "", "*", "#", "&", "+", "-", ":", "::", ",", ",,", "a,,b", "0", "-1", "999999999999",
    "*!*@*", "%tnuhraf", "+o", "-o", "+b", "+k", "+l", "+ovbeIklmnst", "-ovbeIklmnst",
    "+" + "b" * 30, "x" * 300, "#" + "c" * 60, "é", "日本語", "👍🏽", "\u202ereversed",
    "a\u0301\u0301\u0301", "\u200b", "\ufeff", "\\", "~", "[]{}|^", "@#fuzz1", "+#fuzz2",
    "LS", "302", "REQ", "END", "LIST", "C", "L", "S",
]  # fmt: skip
TEXTS = [
    "hello", "", " ", "  two  spaces  ", ":colon", "\x01ACTION waves\x01", "\x01VERSION\x01",
    "\x0304,12colour\x0f \x02bold\x02", "mixed ✓ ünïcödé 日本語", "x" * 450, "👍" * 100,
    "\x1b[31mansi\x1b[0m", "tab\there", "a\u0301" * 50,
]  # fmt: skip
TAG_PREFIXES = [
    "@", "@;", "@=", "@a", "@a=", "@a=b;", "@;a", "@a=b;a=c", "@+typing=active",
    "@label=x", "@batch=y", "@a=\\", "@a=\\\\s\\:\\r\\n\\0", "@+é=ü", "@a\x01=b",
    "@vendor.example/tag=x", "@+draft/reply=1", "@msgid=forged;time=2020-01-01T00:00:00Z",
    "@" + "k" * 5000 + "=v", "@a=" + "v" * 4090, "@a=" + "v" * 4100, "@=x;=y",
]  # fmt: skip
BAD_UTF8 = [
    b"\x80", b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xe2\x82", b"\xc3", b"\xf0\x9f\x98", b"\xe9",
]  # fmt: skip


class LineFuzzer:
    """Lines for fuzzing, from a seed. Each line is bytes without the CR LF
    the senders add (but it may hold CR, LF or NUL of its own)."""

    def __init__(self, seed: int, nicks: list[str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.nicks = nicks or ["fz0", "fz1", "observer", "nobody"]
        self.kinds = [
            (self.odd_command, 30), (self.broken_tags, 15), (self.over_long, 6),
            (self.invalid_utf8, 12), (self.control_chars, 12), (self.mutated, 22),
            (self.noise, 3),
        ]  # fmt: skip
        self._choices = [k for k, _ in self.kinds]
        self._weights = [w for _, w in self.kinds]

    def lines(self, n: int) -> Iterator[bytes]:
        """``n`` lines."""
        for _ in range(n):
            yield self.line()

    def line(self) -> bytes:
        """One line of a kind chosen at random."""
        return self.rng.choices(self._choices, self._weights)[0]()

    # --- parts ------------------------------------------------------------

    def word(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(ODD_WORDS)
        if r < 0.6:
            return self.rng.choice(self.nicks)
        if r < 0.85:
            return self.rng.choice(CHANNELS)
        return ",".join(self.rng.choice(CHANNELS + self.nicks) for _ in range(3))

    def text(self) -> str:
        return self.rng.choice(TEXTS) if self.rng.random() < 0.8 else self.word()

    def valid_line(self) -> str:
        """A well-formed line, with parameters a command may not like."""
        rng = self.rng
        verb = rng.choice(VERBS)
        if verb in ("QUIT", "DIE", "RESTART") and rng.random() < 0.9:
            verb = "PRIVMSG"  # rare: each ends a connection
        params = [self.word() for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 16)))]
        params = [p for p in params if p and " " not in p and p[0] != ":"]
        if verb == "CAP":
            params = [rng.choice(["LS", "REQ", "END", "LIST", "LS 302", "X"])]
            if params[0] == "REQ":
                params.append(":" + " ".join(rng.sample(CAPS, 3)))
        line = " ".join([verb, *params])
        if rng.random() < 0.6:
            line += " :" + self.text()
        return line

    def splice(self, line: bytes, insert: bytes) -> bytes:
        at = self.rng.randrange(len(line) + 1)
        return line[:at] + insert + line[at:]

    # --- kinds ------------------------------------------------------------

    def odd_command(self) -> bytes:
        return self.valid_line().encode()

    def broken_tags(self) -> bytes:
        tags = self.rng.choice(TAG_PREFIXES)
        sep = self.rng.choice([" ", "  ", "", " :src "])
        return (tags + sep + self.valid_line()).encode()

    def over_long(self) -> bytes:
        rng = self.rng
        size = rng.choice([511, 512, 513, 600, 4095, 4097, 8190, 8192, 8704, 10000, 20000])
        part = rng.choice(["text", "command", "tags", "params"])
        if part == "text":
            return f"PRIVMSG {rng.choice(CHANNELS)} :{'y' * size}".encode()
        if part == "command":
            return ("Q" * size).encode()
        if part == "tags":
            return f"@+t={'t' * size} PRIVMSG {rng.choice(CHANNELS)} :tagged".encode()
        return ("MODE #fuzz1 " + " ".join(["+b"] * (size // 3))).encode()

    def invalid_utf8(self) -> bytes:
        line = self.valid_line().encode()
        for _ in range(self.rng.randint(1, 3)):
            line = self.splice(line, self.rng.choice(BAD_UTF8))
        return line

    def control_chars(self) -> bytes:
        line = self.valid_line().encode()
        for _ in range(self.rng.randint(1, 3)):
            byte = self.rng.choice([*range(0x00, 0x20), 0x7F])
            line = self.splice(line, bytes([byte]))
        return line

    def mutated(self) -> bytes:
        rng = self.rng
        data = bytearray(self.valid_line().encode() or b"PING x")
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(6)
            i = rng.randrange(len(data)) if data else 0
            if op == 0 and data:
                data[i] ^= 1 << rng.randrange(8)
            elif op == 1 and data:
                data[i] = rng.randrange(256)
            elif op == 2:
                data.insert(i, rng.randrange(256))
            elif op == 3 and data:
                del data[i : i + rng.randint(1, 8)]
            elif op == 4 and data:
                data[i:i] = data[i : i + rng.randint(1, 16)]
            elif op == 5:
                data += self.valid_line().encode()[rng.randrange(8) :]
        return bytes(data)

    def noise(self) -> bytes:
        return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 600)))


# --- what a line does to a connection -------------------------------------------


def server_lines(line: bytes) -> list[bytes]:
    """The lines a server cuts ``line`` + CR LF into (too-long ones as b"")."""
    return [b"" if part is TOO_LONG else part for part in LineBuffer().feed(line + b"\r\n")]  # type: ignore[misc]


def fatal(line: bytes) -> bool:
    """Whether ``line`` (sent with CR LF) must end the connection: a part of
    it is malformed (NUL, a stray CR, a bad command position) or a QUIT in
    valid UTF-8."""
    for part in server_lines(line):
        if not part or not check_length(part):
            continue  # 417
        text, valid = decode(part)
        try:
            msg = parse_line(text)
        except (EmptyLine, MissingCommand):
            continue
        except ProtocolError:
            return True
        if msg.command.upper() == "QUIT" and valid:  # invalid UTF-8 gets FAIL instead
            return True
    return False
