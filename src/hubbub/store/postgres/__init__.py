"""History, accounts and registered channels in PostgreSQL.

Chosen by a ``postgresql://`` URL in ``[history] database``. :mod:`.url`
reads and masks URLs (no driver needed: the config uses it);
:mod:`.database` connects, migrates and hands out connections;
:mod:`.writer` is the thread that writes; :mod:`.history` and
:mod:`.accounts` are the stores. Importing this package does not import
psycopg: only opening a database does.
"""
