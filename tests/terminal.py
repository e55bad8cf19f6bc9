"""A terminal for real user clients in tests: tmux on a private socket."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


class Tmux:
    """One detached tmux session on a private socket."""

    def __init__(self, socket: str, name: str) -> None:
        self.socket, self.name = socket, name

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.name, "-l", text)
        self.run("send-keys", "-t", self.name, "Enter")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_screen(self, needle: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared on the screen:\n{text}")
            time.sleep(0.1)


#: irssi's settings for tests: no first-run noise, no CTCP version chatter,
#: timestamps off for stable matching, no send queue.
IRSSI_CONFIG = (
    'settings = { core = { real_name = "Irssi Tester"; user_name = "irssi"; }; '
    '"fe-common/core" = { timestamps = "no"; }; '
    '"irc/core" = { cmd_queue_speed = "0"; cmds_max_at_once = "100"; }; };\n'
)


def irssi_home(folder: Path) -> Path:
    """A fresh irssi home under ``folder`` with :data:`IRSSI_CONFIG`."""
    home = folder / "irssi-home"
    home.mkdir()
    (home / "config").write_text(IRSSI_CONFIG)
    return home
