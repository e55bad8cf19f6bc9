"""The embedded SQLite store: one database file in the data dir.

:mod:`.database` opens the file (WAL, numbered migrations, one writer, clear
errors); :mod:`.history` is the history store built on it. Accounts will add
their own tables with migrations of their own and a store beside history.
"""
