"""Reloading the config while running (SIGUSR1, REHASH).

A reload swaps the whole Config object. Keys that need a restart (the
listeners, the server name) may not change: the reload is refused with a
sentence naming the key. TLS certificates are reloaded in place, so new
connections get the renewed certificate while old ones keep theirs.
"""

from __future__ import annotations

import ssl

from hubbub.config import Config

#: Config keys that need a restart; a reload that changes them is refused.
FIXED_KEYS = (
    ("server", "listen"), ("server", "tls_listen"), ("server", "websocket_listen"),
    ("server", "name"), ("history", "enabled"), ("history", "database"), ("history", "search"),
    ("cluster", "redis"), ("cluster", "node"), ("cluster", "network"),
    ("metrics", "listen"),
)  # fmt: skip


def refusal(old: Config, new: Config) -> str | None:
    """Why ``new`` cannot replace ``old`` while running, or None."""
    for section, key in FIXED_KEYS:
        if getattr(getattr(old, section), key) != getattr(getattr(new, section), key):
            return f"{section}.{key} cannot change while running; restart instead"
    if old.accounts.enabled != new.accounts.enabled:
        return "accounts.enabled cannot change while running; restart instead"
    return None


def reload_certificate(context: ssl.SSLContext | None, new: Config) -> str | None:
    """Load ``new``'s certificate into ``context``; the error, or None."""
    if context is None:
        return None
    cert, key = new.tls_files()
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        return f"server.tls_cert: cannot load {cert}: {exc}"
    return None
