"""`hubbub chat --plain`: two real processes talking through a real server.

Lines go in on stdin and come out on the other process's stdout as
``[HH:MM] <nick> text``; EOF on stdin quits cleanly with exit code 0.
"""

from __future__ import annotations

import asyncio
import re
import sys

from .conftest import RunningServer, free_port

STAMP = r"\[\d\d:\d\d\] "


def chat_argv(port: int, *args: str) -> list[str]:
    """The command line of `hubbub chat 127.0.0.1:PORT ARGS` (the contract)."""
    return [sys.executable, "-m", "hubbub", "chat", f"127.0.0.1:{port}", *args]


class Proc:
    """A `chat --plain` subprocess with line-wise access to its output."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdout: list[str] = []
        self.stderr: list[str] = []

    @classmethod
    async def start(cls, port: int, *args: str) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            *chat_argv(port, "--plain", *args),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    def send(self, *lines: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())

    async def expect(self, stream: str, pattern: str, timeout: float = 10.0) -> str:
        """Read ``stream`` until a line matches ``pattern``; return it."""
        reader = self.proc.stdout if stream == "stdout" else self.proc.stderr
        seen = self.stdout if stream == "stdout" else self.stderr
        assert reader is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await reader.readline()
                if not raw:
                    raise AssertionError(f"{stream} closed before {pattern!r}; saw {seen!r}")
                line = raw.decode().rstrip("\n")
                seen.append(line)
                if re.search(pattern, line):
                    return line

    async def close_stdin_and_wait(self, timeout: float = 10.0) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        async with asyncio.timeout(timeout):
            return await self.proc.wait()

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def test_two_plain_clients_talk_through_pipes(server: RunningServer) -> None:
    bob = await Proc.start(server.port, "--nick", "bob")
    alice: Proc | None = None
    try:
        bob.send("/join #plain")
        await bob.expect("stderr", r"Now talking in #plain")

        # No --nick: the first line is the nickname; "bob" is taken, so the
        # prompt comes again and the next line is used.
        alice = await Proc.start(server.port)
        alice.send("bob", "alice", "/join #plain", "hello from alice")
        await alice.expect("stderr", r"The nickname bob is taken")
        line = await bob.expect("stdout", r"<alice>")
        assert re.fullmatch(STAMP + r"<alice> hello from alice", line)

        bob.send("hi alice", "/me waves")
        assert re.fullmatch(STAMP + "<bob> hi alice", await alice.expect("stdout", "<bob>"))
        assert re.fullmatch(STAMP + r"\* bob waves", await alice.expect("stdout", r"\* bob"))
        # Our own lines are not echoed to stdout.
        assert not any("alice>" in seen for seen in alice.stdout)

        assert await alice.close_stdin_and_wait() == 0
        await bob.expect("stdout", r"-- alice quit")
        assert await bob.close_stdin_and_wait() == 0
    finally:
        bob.kill()
        if alice is not None:
            alice.kill()


async def test_plain_reports_unknown_commands_and_keeps_going(server: RunningServer) -> None:
    proc = await Proc.start(server.port, "--nick", "carol")
    try:
        proc.send("/frobnicate", "/help join")
        await proc.expect("stderr", r"Unknown command /frobnicate\. Type /help")
        await proc.expect("stderr", r"/join #channel \[key\]")
        assert await proc.close_stdin_and_wait() == 0
    finally:
        proc.kill()


async def test_plain_without_server_says_so_and_exits_1() -> None:
    port = free_port()
    proc = await Proc.start(port, "--nick", "dan")
    try:
        line = await proc.expect("stderr", r"Could not connect")
        assert line == (
            f"Could not connect to 127.0.0.1:{port}: nothing is listening there "
            "(connection refused)."
        )
        assert await proc.close_stdin_and_wait() == 1
        assert proc.stdout == []
    finally:
        proc.kill()


async def test_join_of_a_joined_channel_makes_it_current_without_waiting(
    hubbub_server: RunningServer,
) -> None:
    from hubbub.client import Client
    from hubbub.client import events as ev

    async with Client(hubbub_server.host, hubbub_server.port, "lis") as listener:
        await listener.wait_for(ev.Ready)
        proc = await Proc.start(hubbub_server.port, "--nick", "kim")
        try:
            proc.send("/join #side")
            await proc.expect("stderr", r"Now talking in #side")
            proc.send("/join #lobby", "back in the lobby")
            # No JOIN goes out, so nothing is waited for (a JOIN waits up to 10 s).
            await proc.expect("stderr", r"Now talking to #lobby", timeout=3)
            got = await listener.wait_for(ev.ChatMessage, lambda e: e.nick == "kim", timeout=3)
            assert (got.buffer, got.text) == ("#lobby", "back in the lobby")
            assert await proc.close_stdin_and_wait() == 0
        finally:
            proc.kill()
