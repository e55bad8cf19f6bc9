"""A Client that plays a fixed server script instead of opening a socket.

The real :class:`~hubbub.client.ClientSession` parses every line, so the app
sees exactly the events and state a real server would produce, but with
fixed nicks and ``time`` tags: the snapshot tests draw the same screen on
every run.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from textual.pilot import Pilot

from hubbub.client import Client
from hubbub.client import events as ev
from hubbub.client.tui.app import ChatApp
from hubbub.client.tui.messages import IrcEvent
from hubbub.protocol import parse_line

FIXED_NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def t(minute: int) -> str:
    return f"@time=2024-05-01T09:{minute:02d}:00.000Z"


SCRIPT = [
    ":irc.hubbub.test CAP * LS :server-time echo-message multi-prefix away-notify",
    ":irc.hubbub.test CAP alice ACK :away-notify echo-message multi-prefix server-time",
    f"{t(0)} :irc.hubbub.test 001 alice :Welcome to the hubbub network, alice",
    f"{t(0)} :irc.hubbub.test 005 alice CASEMAPPING=rfc1459 PREFIX=(ov)@+ CHANTYPES=# "
    ":are supported by this server",
    f"{t(0)} :irc.hubbub.test 372 alice :- Be excellent to each other.",
    f"{t(0)} :irc.hubbub.test 376 alice :End of /MOTD command",
    ":irc.hubbub.test PONG irc.hubbub.test :hubbub-ready",
    f"{t(1)} :alice!alice@127.0.0.1 JOIN #dev",
    f"{t(1)} :irc.hubbub.test 353 alice = #dev :@alice bob",
    f"{t(1)} :irc.hubbub.test 366 alice #dev :End of /NAMES list",
    f"{t(1)} :alice!alice@127.0.0.1 JOIN #lobby",
    f"{t(1)} :irc.hubbub.test 332 alice #lobby :Welcome to #lobby: be nice, have fun",
    f"{t(1)} :irc.hubbub.test 353 alice = #lobby :@bob +carol alice dave",
    f"{t(1)} :irc.hubbub.test 366 alice #lobby :End of /NAMES list",
    f"{t(2)} :bob!bob@127.0.0.1 PRIVMSG #lobby :morning all!",
    f"{t(3)} :carol!carol@127.0.0.1 PRIVMSG #lobby :hi bob. alice, did the release go out?",
    f"{t(4)} :alice!alice@127.0.0.1 PRIVMSG #lobby :yes, an hour ago; notes are on the wiki",
    f"{t(5)} :dave!dave@127.0.0.1 PRIVMSG #lobby :\x01ACTION brings coffee for everyone\x01",
    f"{t(6)} :erin!erin@127.0.0.1 JOIN #lobby",
    f"{t(7)} :dave!dave@127.0.0.1 NICK davey",
    f"{t(8)} :erin!erin@127.0.0.1 PART #lobby :lunch",
    f"{t(9)} :bob!bob@127.0.0.1 PRIVMSG #lobby :a long line to show wrapping in the message "
    "view: the quick brown fox jumps over the lazy dog, twice, for good measure",
    f"{t(11)} :bob!bob@127.0.0.1 PRIVMSG #dev :CI is green again",
    f"{t(12)} :bob!bob@127.0.0.1 PRIVMSG #dev :thanks for fixing it",
    f"{t(13)} :carol!carol@127.0.0.1 PRIVMSG alice :got a minute?",
    f"{t(14)} :carol!carol@127.0.0.1 QUIT :Quit: see you",
]


#: A server with history: alice joins #lobby and gets its last messages
#: (the answer to the CHATHISTORY the app sends), then live lines follow.
HISTORY_SCRIPT = [
    ":irc.hubbub.test CAP * LS :server-time echo-message batch message-tags draft/chathistory",
    ":irc.hubbub.test CAP alice ACK :batch draft/chathistory echo-message message-tags "
    "server-time",
    f"{t(20)} :irc.hubbub.test 001 alice :Welcome to the hubbub network, alice",
    f"{t(20)} :irc.hubbub.test 005 alice CASEMAPPING=rfc1459 PREFIX=(ov)@+ CHANTYPES=# "
    "CHATHISTORY=100 :are supported by this server",
    f"{t(20)} :irc.hubbub.test 376 alice :End of /MOTD command",
    ":irc.hubbub.test PONG irc.hubbub.test :hubbub-ready",
    f"{t(20)} :alice!alice@127.0.0.1 JOIN #lobby",
    f"{t(20)} :irc.hubbub.test 353 alice = #lobby :@bob carol alice",
    f"{t(20)} :irc.hubbub.test 366 alice #lobby :End of /NAMES list",
    ":irc.hubbub.test BATCH +h1 chathistory #lobby",
    f"@batch=h1;msgid=a1;{t(2)[1:]} :bob!bob@127.0.0.1 PRIVMSG #lobby :anyone seen the keys?",
    f"@batch=h1;msgid=a2;{t(5)[1:]} :carol!carol@127.0.0.1 PRIVMSG #lobby :on the hook by the door",
    f"@batch=h1;msgid=a3;{t(9)[1:]} :bob!bob@127.0.0.1 PRIVMSG #lobby :\x01ACTION goes to look\x01",
    ":irc.hubbub.test BATCH -h1",
    f"{t(21)} :bob!bob@127.0.0.1 PRIVMSG #lobby :found them, thanks carol",
    f"{t(22)} :carol!carol@127.0.0.1 PRIVMSG #lobby :welcome back alice",
]


class ScriptedClient(Client):
    """Plays :data:`SCRIPT` through the real session, then idles."""

    script = SCRIPT

    async def run(self) -> None:
        await self._emit(ev.Connecting(self.host, self.port, 1))
        await self._emit(ev.Connected(self.host, self.port))
        self.session.connection_made()
        for line in self.script:
            for event in self.session.receive(parse_line(line)):
                await self._emit(event)
        self.session.data_to_send()  # nobody to send to
        await asyncio.Event().wait()


#: The issue's long line: 45 numbered words, so a lost word is easy to name.
NUMBERED = " ".join(f"w{i}" for i in range(1, 46))


async def long_line_after_a_private_chat(pilot: Pilot[int]) -> None:
    """The issue's steps: in the private chat with carol (no member list, so
    a wider log), a 45-word line arrives in #lobby; Ctrl+P goes back there."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    await settle(pilot)
    await pilot.press("alt+4")  # server, #dev, #lobby, carol
    line = f"{t(15)} :bob!bob@127.0.0.1 PRIVMSG #lobby :{NUMBERED}"
    assert app.client is not None
    for event in app.client.session.receive(parse_line(line)):
        app.post_message(IrcEvent(event))
    await pilot.pause()
    await pilot.press("ctrl+p")
    await pilot.pause()


class HistoryScriptedClient(ScriptedClient):
    """Plays :data:`HISTORY_SCRIPT`."""

    script = HISTORY_SCRIPT


async def settle(pilot: Pilot[int]) -> None:
    """Until the whole script has reached the screen (its last buffer, carol's)."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    while not ((carol := app.model.get("carol")) and carol.lines):
        await pilot.pause(0.02)
    await pilot.pause()
