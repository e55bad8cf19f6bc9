"""The documented example bot runs against `hubbub serve` and answers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hubbub.client import Client
from hubbub.client import events as ev

from .conftest import RunningServer

BOT = Path(__file__).resolve().parents[2] / "examples" / "echo_bot.py"


async def test_echo_bot_answers_in_the_lobby(hubbub_server: RunningServer) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), hubbub_server.host, str(hubbub_server.port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert b"ready as echobot in ['#lobby']" in ready
        async with Client(hubbub_server.host, hubbub_server.port, "human") as human:
            await human.wait_for(ev.Ready)
            await human.privmsg("#lobby", "!echo is anybody there?")
            reply = await human.wait_for(ev.ChatMessage, lambda e: e.nick == "echobot")
            assert (reply.buffer, reply.text) == ("#lobby", "is anybody there?")
            await human.privmsg("echobot", "!ping")
            pong = await human.wait_for(ev.ChatMessage, lambda e: e.nick == "echobot")
            assert (pong.buffer, pong.text) == ("echobot", "human: pong")
    finally:
        proc.terminate()
        await proc.wait()
