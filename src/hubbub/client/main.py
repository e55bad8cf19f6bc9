"""The entry point ``hubbub chat`` calls (from :mod:`hubbub.cli`)."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys

from .accounts import Credentials
from .trust import Trust

#: A password from the environment, for scripts and bots (never the command line).
PASSWORD_VARIABLE = "HUBBUB_PASSWORD"


def ask_credentials(account: str) -> Credentials | None:
    """The password of ``account``: from HUBBUB_PASSWORD, else asked on the
    terminal without echo. None when the person gave up (Ctrl+C, Ctrl+D)."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        try:
            password = getpass.getpass(f"Password for {account}: ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return None
    return Credentials(account, password)


def run_chat(
    host: str,
    port: int,
    nick: str | None,
    trust: Trust | None,
    plain: bool,
    credentials: Credentials | None = None,
) -> int:
    """Run the terminal client; returns the process exit code.

    ``trust`` None means plain TCP, else TLS checked that way. ``plain``
    selects the line mode (:mod:`.plain`), otherwise the Textual TUI runs.
    A missing ``nick`` is asked for in either mode (the account's name when
    logging in). ``credentials`` log in with SASL.
    """
    if nick is None and credentials is not None:
        nick = credentials.account
    try:
        if plain:
            from .plain import run_plain

            return asyncio.run(run_plain(host, port, nick, trust, credentials))
        from .tui.app import make_app

        app = make_app(host=host, port=port, nick=nick, tls=trust is not None, trust=trust,
                       credentials=credentials)  # fmt: skip
        app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        # Ctrl-C is how people leave a terminal program: no traceback.
        print("Interrupted.", file=sys.stderr)
        return 130
