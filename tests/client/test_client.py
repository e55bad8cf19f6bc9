"""The client library against real servers: `hubbub serve` and ngIRCd.

Every test here runs twice, once per server: the same client code must
register, chat and recover with our server and with someone else's (ngIRCd,
a long-lived standard IRC server), which proves we speak standard IRC and not
a private dialect. The ngIRCd variant skips where ngircd is not installed,
except under CI=true, where it fails (see conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from hubbub.client import Client
from hubbub.client import events as ev

from .conftest import RunningServer, free_port


@asynccontextmanager
async def connected(
    server: RunningServer, nick: str, **kwargs: object
) -> AsyncIterator[Client]:
    """A started client, registered and ready; closed afterwards."""
    client = Client(server.host, server.port, nick, **kwargs)  # type: ignore[arg-type]
    client.start()
    try:
        await client.wait_for(ev.Ready)
        yield client
    finally:
        await client.close()


def is_(kind: type[ev.Event], **fields: object) -> Callable[[ev.Event], bool]:
    return lambda e: isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items())


async def test_connect_register_join_and_chat(server: RunningServer) -> None:
    async with connected(server, "alice") as alice, connected(server, "bob") as bob:
        assert alice.nick == "alice" and alice.connected
        await alice.join("#room")
        await alice.wait_for(ev.Join, lambda e: e.own and e.channel == "#room")
        await alice.wait_for(ev.Members, lambda e: e.channel == "#room")
        await bob.join("#room")
        await bob.wait_for(ev.Members, lambda e: e.channel == "#room")
        await alice.wait_for(ev.Join, lambda e: e.nick == "bob")

        await alice.privmsg("#room", "hello bob")
        got = await bob.wait_for(ev.ChatMessage, lambda e: not e.own)
        assert (got.buffer, got.nick, got.text) == ("#room", "alice", "hello bob")
        assert got.kind == "privmsg"

        await bob.action("#room", "waves")
        waved = await alice.wait_for(ev.ChatMessage, lambda e: e.nick == "bob")
        assert (waved.kind, waved.text) == ("action", "waves")

        # The channel's creator is an operator on both servers.
        members = {m.nick: m.prefixes for m in bob.state.members("#room")}
        assert members == {"alice": "@", "bob": ""}

        await bob.privmsg("alice", "a secret")
        private = await alice.wait_for(ev.ChatMessage, lambda e: e.nick == "bob")
        assert (private.buffer, private.text) == ("bob", "a secret")

        await bob.quit("off to lunch")
        left = await alice.wait_for(ev.Quit)
        assert left.nick == "bob" and "off to lunch" in left.reason and "#room" in left.channels
        assert [m.nick for m in alice.state.members("#room")] == ["alice"]


async def test_topic_and_nick_change_are_tracked(server: RunningServer) -> None:
    async with connected(server, "carol") as carol, connected(server, "dave") as dave:
        await carol.join("#t")
        await carol.wait_for(ev.Members, lambda e: e.channel == "#t")
        await carol.topic("#t", "all about t")
        await carol.wait_for(ev.Topic, lambda e: e.changed)
        await dave.join("#t")
        topic = await dave.wait_for(ev.Topic)
        assert (topic.channel, topic.topic) == ("#t", "all about t")
        await dave.wait_for(ev.Members)
        await dave.set_nick("david")
        change = await carol.wait_for(ev.NickChange)
        assert (change.old, change.new) == ("dave", "david")
        assert "#t" in change.channels  # (hubbub also auto-joins both to #lobby)
        assert {m.nick for m in carol.state.members("#t")} == {"carol", "david"}


async def test_nick_collision_asks_or_picks_an_alternative(server: RunningServer) -> None:
    async with connected(server, "taken"):
        asking = Client(server.host, server.port, "taken", alt_nicks=False)
        asking.start()
        try:
            refused = await asking.wait_for(ev.NickInUse)
            assert refused.nick == "taken" and not refused.registered
            await asking.set_nick("taken2")
            registered = await asking.wait_for(ev.Registered)
            assert registered.nick == "taken2" == asking.nick
        finally:
            await asking.close()

        async with connected(server, "taken", alt_nicks=True) as bot:
            assert bot.nick == "taken_"


async def test_reconnects_after_server_restart_and_rejoins(server: RunningServer) -> None:
    client = Client(server.host, server.port, "phoenix", backoff_initial=0.2, backoff_max=1.0)
    client.start()
    try:
        await client.wait_for(ev.Ready)
        await client.join("#nest")
        await client.wait_for(ev.Members, lambda e: e.channel == "#nest")

        await asyncio.to_thread(server.restart)
        dropped = await client.wait_for(ev.Disconnected)
        # (Not "assert not client.connected": by the time the event is read,
        # the client may well be back already.)
        assert dropped.reconnect_in is not None and dropped.reason

        rejoined = await client.wait_for(ev.Join, lambda e: e.own and e.channel == "#nest", 20)
        assert rejoined.nick == "phoenix"
        assert client.state.channel("#nest") is not None

        async with connected(server, "witness") as witness:
            await witness.join("#nest")
            await witness.wait_for(ev.Members, lambda e: e.channel == "#nest")
            await witness.privmsg("#nest", "welcome back")
            got = await client.wait_for(ev.ChatMessage, lambda e: e.nick == "witness")
            assert got.text == "welcome back"
    finally:
        await client.close()


async def test_connection_refused_is_a_sentence() -> None:
    port = free_port()  # nothing listens here
    client = Client("127.0.0.1", port, "nobody", retry_first_connect=False)
    client.start()
    gone = await client.wait_for(ev.Disconnected)
    assert gone.reconnect_in is None
    assert gone.reason == (
        f"Could not connect to 127.0.0.1:{port}: nothing is listening there (connection refused)."
    )
    await client.close()


async def test_retries_until_a_server_appears(hubbub_server: RunningServer) -> None:
    hubbub_server.stop()
    client = Client(hubbub_server.host, hubbub_server.port, "patient", backoff_initial=0.1)
    client.start()
    try:
        first = await client.wait_for(ev.Disconnected)
        assert first.reconnect_in is not None and "refused" in first.reason
        await asyncio.to_thread(hubbub_server.start)
        await client.wait_for(ev.Registered, timeout=15)
    finally:
        await client.close()
