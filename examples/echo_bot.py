"""A small bot on hubbub's client library.

Start a server (``hubbub serve``), then ``python examples/echo_bot.py`` (or
``python examples/echo_bot.py HOST PORT``). The bot is auto-joined to #lobby
by the server; in any channel or private message it answers ``!echo text``
with ``text`` and ``!ping`` with ``pong``. It reconnects by itself if the
server restarts, and rejoins its channels.
"""

import asyncio
import sys

from hubbub.client import Client
from hubbub.client.events import ChatMessage, Ready


async def main(host: str = "127.0.0.1", port: int = 6667) -> None:
    async with Client(host, port, "echobot") as client:  # quits cleanly on exit
        async for event in client.events():
            if isinstance(event, Ready):
                channels = [chan.name for chan in client.state.channels.values()]
                print(f"ready as {event.nick} in {channels}", flush=True)
            elif isinstance(event, ChatMessage) and not event.own and event.kind == "privmsg":
                # event.buffer is the channel, or the sender for a private message.
                reply_to = event.buffer or event.nick
                if event.text.startswith("!echo "):
                    await client.privmsg(reply_to, event.text.removeprefix("!echo "))
                elif event.text.strip() == "!ping":
                    await client.privmsg(reply_to, f"{event.nick}: pong")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0], int(args[1])) if len(args) == 2 else main())
