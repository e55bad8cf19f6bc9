"""The one error every store raises when its database cannot be used.

Callers (the accounts service, the channel keeper, the app at start) catch
:class:`DatabaseError` without knowing which database it is: its message
names the database (a file, or a URL without its password) and says why.
"""

from __future__ import annotations

from pathlib import Path


class DatabaseError(Exception):
    """The database cannot be used; the message names it and says why."""

    def __init__(self, where: Path | str, why: str) -> None:
        #: The file, or the URL with its password masked: safe to log.
        self.where = str(where)
        self.why = why
        super().__init__(f"{where}: {why}")
