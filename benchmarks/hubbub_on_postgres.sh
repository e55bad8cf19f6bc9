#!/bin/bash
# `hubbub serve --config FILE ...` with its history in a fresh PostgreSQL
# database: the "history on PostgreSQL" server for benchmarks/history_fanout.sh
# (ircbench's run_server.sh starts hubbub as "$HUBBUB serve --config
# RUNDIR/hubbub.toml --data-dir RUNDIR"). PG_ADMIN_URL is a database to run
# CREATE DATABASE from (the new database's URL is written to RUNDIR/pg_url);
# REAL_HUBBUB is the hubbub command to run.
set -eu
args=("$@")
py=$(dirname "${REAL_HUBBUB:?set REAL_HUBBUB to the hubbub command}")/python
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = --config ]; then
    src=${args[$((i + 1))]}
    dst=${src%.toml}-postgres.toml
    url=$("$py" - "${PG_ADMIN_URL:?set PG_ADMIN_URL}" <<'PY'
import sys, time, psycopg
admin = sys.argv[1]
name = f"fanout_{int(time.time() * 1000)}"
with psycopg.connect(admin, autocommit=True) as conn:
    conn.execute(f"CREATE DATABASE {name}")
head, _, tail = admin.partition("?")
print(head.rsplit("/", 1)[0] + "/" + name + (("?" + tail) if tail else ""))
PY
)
    printf '%s\n' "$url" > "$(dirname "$src")/pg_url"
    { cat "$src"; printf '\n[history]\ndatabase = "%s"\n' "$url"; } > "$dst"
    args[$((i + 1))]=$dst
  fi
done
exec "$REAL_HUBBUB" "${args[@]}"
