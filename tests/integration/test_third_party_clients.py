"""Someone else's client works with us: the `irc` and `pydle` libraries from PyPI
register, join, and exchange messages with a real hubbub serve."""

from __future__ import annotations

import asyncio
import threading
import time

import irc.client
import pydle

from hubtest import RunningServer


def test_irc_library_registers_joins_and_chats(server: RunningServer) -> None:
    reactor = irc.client.Reactor()
    conn = reactor.server().connect("127.0.0.1", server.port, "jaraco")
    events: list[tuple[str, str, list[str]]] = []
    joined = threading.Event()
    got_reply = threading.Event()

    def on_join(c: irc.client.ServerConnection, e: irc.client.Event) -> None:
        events.append(("join", e.target, []))
        if e.target == "#dev" and e.source.nick == "jaraco":
            joined.set()

    def on_pubmsg(c: irc.client.ServerConnection, e: irc.client.Event) -> None:
        events.append(("pubmsg", e.source.nick, e.arguments))
        if e.arguments == ["welcome, jaraco"]:
            got_reply.set()

    def on_welcome(c: irc.client.ServerConnection, e: irc.client.Event) -> None:
        c.join("#dev")

    conn.add_global_handler("welcome", on_welcome)
    conn.add_global_handler("join", on_join)
    conn.add_global_handler("pubmsg", on_pubmsg)

    deadline = time.monotonic() + 10
    while not joined.is_set() and time.monotonic() < deadline:
        reactor.process_once(0.05)
    assert joined.is_set(), events
    assert ("join", "#lobby", []) in events  # the auto_join room, too

    ours = server.client("host")
    ours.send("JOIN #dev")
    ours.expect("366", "host", "#dev")
    conn.privmsg("#dev", "hello from the irc library")
    assert ours.expect("PRIVMSG", "#dev").params[1] == "hello from the irc library"
    ours.send("PRIVMSG #dev :welcome, jaraco")
    while not got_reply.is_set() and time.monotonic() < deadline:
        reactor.process_once(0.05)
    assert got_reply.is_set(), events
    conn.quit("done")
    quit_msg = ours.expect("QUIT")
    assert quit_msg.source is not None and quit_msg.source.startswith("jaraco!")


def test_pydle_registers_joins_and_chats(server: RunningServer) -> None:
    received: list[tuple[str, str, str]] = []

    class Bot(pydle.Client):  # type: ignore[misc]
        async def on_connect(self) -> None:
            await super().on_connect()
            await self.join("#bots")

        async def on_join(self, channel: str, user: str) -> None:
            await super().on_join(channel, user)
            if channel == "#bots" and user == self.nickname:
                await self.message("#bots", "pydle reporting in")

        async def on_message(self, target: str, source: str, message: str) -> None:
            await super().on_message(target, source, message)
            received.append((target, source, message))
            if message == "ping, pydle":
                await self.message(target, "pong from pydle")

    ours = server.client("overseer")
    ours.send("JOIN #bots")
    ours.expect("366", "overseer", "#bots")

    async def run() -> None:
        bot = Bot("pydlebot", realname="pydle test bot")
        await bot.connect("127.0.0.1", server.port, tls=False)
        for _ in range(200):  # until our question came and was answered
            if any(m == "ping, pydle" for _, _, m in received):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        await bot.quit("bye")

    def talk() -> None:
        hello = ours.expect("PRIVMSG", "#bots")
        assert hello.params[1] == "pydle reporting in"
        assert hello.source is not None and hello.source.startswith("pydlebot!")
        ours.send("PRIVMSG #bots :ping, pydle")

    t = threading.Thread(target=talk)
    t.start()
    asyncio.run(run())
    t.join(10)
    assert ("#bots", "overseer", "ping, pydle") in received
    assert ours.expect("PRIVMSG", "#bots").params[1] == "pong from pydle"
