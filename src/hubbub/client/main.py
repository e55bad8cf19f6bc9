"""The entry point ``hubbub chat`` calls (from :mod:`hubbub.cli`)."""

from __future__ import annotations

import asyncio
import sys

from .trust import Trust


def run_chat(host: str, port: int, nick: str | None, trust: Trust | None, plain: bool) -> int:
    """Run the terminal client; returns the process exit code.

    ``trust`` None means plain TCP, else TLS checked that way. ``plain``
    selects the line mode (:mod:`.plain`), otherwise the Textual TUI runs.
    A missing ``nick`` is asked for in either mode.
    """
    try:
        if plain:
            from .plain import run_plain

            return asyncio.run(run_plain(host, port, nick, trust))
        from .tui.app import make_app

        app = make_app(host=host, port=port, nick=nick, tls=trust is not None, trust=trust)
        app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        # Ctrl-C is how people leave a terminal program: no traceback.
        print("Interrupted.", file=sys.stderr)
        return 130
