"""Numbered schema changes, the same way for every database.

Each database package keeps its changes as ``migrations/NNNN_name.sql``,
numbered 1, 2, 3... without gaps, never edited once released. The number
of the last one applied is the database's schema version; a database whose
version is newer than the newest file this code has was written by a newer
hubbub, and is refused, never "downgraded".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


def load_migrations(package: str) -> tuple[Migration, ...]:
    """The migrations in ``package``'s ``migrations/`` folder, in order;
    numbered 1, 2, 3... with no gap."""
    folder = resources.files(package).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migration {migration.name}: expected number {expected:04d}")
    return tuple(found)


def newer_than_code(current: int, newest: int) -> str:
    """The sentence refusing a database at schema ``current`` when this code
    knows up to ``newest``."""
    return (
        f"its schema version is {current}, newer than this hubbub knows ({newest}): "
        "it was written by a newer hubbub. Run that version, or restore a backup "
        "made for this one; it is never downgraded."
    )
