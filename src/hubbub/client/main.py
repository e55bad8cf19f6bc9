"""The entry point ``hubbub chat`` calls (from :mod:`hubbub.cli`)."""

from __future__ import annotations

import asyncio
import sys


def run_chat(host: str, port: int, nick: str | None, tls: bool, plain: bool) -> int:
    """Run the terminal client; returns the process exit code.

    ``plain`` selects the line mode (:mod:`.plain`), otherwise the Textual
    TUI runs. A missing ``nick`` is asked for in either mode.
    """
    try:
        if plain:
            from .plain import run_plain

            return asyncio.run(run_plain(host, port, nick, tls))
        from .tui.app import make_app

        app = make_app(host=host, port=port, nick=nick, tls=tls)
        app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        # Ctrl-C is how people leave a terminal program: no traceback.
        print("Interrupted.", file=sys.stderr)
        return 130
