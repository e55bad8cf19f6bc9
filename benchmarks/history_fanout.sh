#!/bin/bash
# Fan-out with history on (the default) and off, against ngIRCd, interleaved;
# and with history in PostgreSQL (VARIANTS includes hubbub-postgres).
#
#   benchmarks/history_fanout.sh OUTDIR
#
# For each repetition, each of three servers runs ircbench's fanout scenario
# on a fresh process (server pinned to CPU 0, generator to CPU 1, the order
# rotating so noise hits all three): ngIRCd, hubbub as configured by
# ircbench's run_server.sh (history on: every message goes to SQLite before
# it is delivered), and the same hubbub with [history] enabled = false.
# Prints median [min-max] deliveries/s and the ratios; checks that the
# history-on server stored every message. Results: OUTDIR/results.jsonl.
# hubbub-postgres: the same hubbub with [history] database = a fresh PostgreSQL
# database per run (benchmarks/hubbub_on_postgres.sh; PG_ADMIN_URL names the
# server, e.g. postgresql://hubbub@/postgres?host=/run/postgresql).
#
# Environment: IRCBENCH (the ircbench folder, default <repo>/../shared/tools/ircbench),
#   HUBBUB (default <repo>/.venv/bin/hubbub), REPS (3),
#   FANOUT (ircbench arguments, default: ircbench's matrix "fanout" profile),
#   VARIANTS (default "ngircd hubbub-history hubbub-nohistory"), PG_ADMIN_URL.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
IRCBENCH=${IRCBENCH:-$repo/../shared/tools/ircbench}
HUBBUB=${HUBBUB:-$repo/.venv/bin/hubbub}
REPS=${REPS:-3}
FANOUT=${FANOUT:-"-scenario fanout -clients 200 -senders 20 -msgs 2000 -window 32"}
out=${1:?usage: benchmarks/history_fanout.sh OUTDIR}
mkdir -p "$out/logs"
: > "$out/results.jsonl"
ulimit -n "$(ulimit -Hn)"
read -r -a variants <<< "${VARIANTS:-ngircd hubbub-history hubbub-nohistory}"
declare -A PORT=([ngircd]=16681 [hubbub-history]=16682 [hubbub-nohistory]=16683
                 [hubbub-postgres]=16684)
for rep in $(seq 1 "$REPS"); do
  for k in "${!variants[@]}"; do
    v=${variants[$(( (k + rep - 1) % ${#variants[@]} ))]}
    rd=/tmp/history-fanout-run/$v
    rm -rf "$rd"
    case $v in
      ngircd) start=(env "$IRCBENCH/run_server.sh" ngircd "${PORT[$v]}" "$rd") ;;
      hubbub-history) start=(env HUBBUB="$HUBBUB" "$IRCBENCH/run_server.sh" hubbub "${PORT[$v]}" "$rd") ;;
      hubbub-nohistory) start=(env HUBBUB="$here/hubbub_without_history.sh" REAL_HUBBUB="$HUBBUB"
                               "$IRCBENCH/run_server.sh" hubbub "${PORT[$v]}" "$rd") ;;
      hubbub-postgres) start=(env HUBBUB="$here/hubbub_on_postgres.sh" REAL_HUBBUB="$HUBBUB"
                              "$IRCBENCH/run_server.sh" hubbub "${PORT[$v]}" "$rd") ;;
    esac
    log=$out/logs/$v.$rep.log
    if ! pid=$("${start[@]}" 2>>"$log"); then
      echo "{\"variant\":\"$v\",\"rep\":$rep,\"ok\":false}" >> "$out/results.jsonl"; continue
    fi
    # shellcheck disable=SC2086
    timeout 150 taskset -c 1 "$IRCBENCH/bin/ircbench" -addr "127.0.0.1:${PORT[$v]}" -pid "$pid" \
      -label "$v" $FANOUT > "$log" 2>&1
    "$IRCBENCH/stop_server.sh" "$rd"
    stored=None
    if [ -f "$rd/hubbub.sqlite3" ]; then
      stored=$("$repo/.venv/bin/python" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from history where kind=\"PRIVMSG\"").fetchone()[0])' "$rd/hubbub.sqlite3")
    fi
    if [ "$v" = hubbub-postgres ] && [ -f "$rd/pg_url" ]; then
      stored=$("$repo/.venv/bin/python" -c 'import psycopg,sys; print(psycopg.connect(sys.argv[1]).execute("select count(*) from history where kind = %s", ("PRIVMSG",)).fetchone()[0])' "$(cat "$rd/pg_url")")
    fi
    grep '^{' "$log" | tail -1 | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); d.update(variant='$v', rep=$rep, stored_messages=$stored); print(json.dumps(d))" >> "$out/results.jsonl"
    printf '%s rep%d %-17s %s deliveries/s, stored %s\n' "$(date +%T)" "$rep" "$v" \
      "$(tail -1 "$out/results.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("deliveries_per_s"))')" "$stored"
    sleep 1
  done
done
python3 - "$out/results.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in runs:
    if r.get("deliveries_per_s"):
        by.setdefault(r["variant"], []).append(r["deliveries_per_s"])
def m(v): return statistics.median(by[v]) if by.get(v) else float("nan")
print("| server | fanout deliveries/s, median [min-max] | runs |")
print("| --- | --- | --- |")
for v in ("ngircd", "hubbub-history", "hubbub-postgres", "hubbub-nohistory"):
    xs = by.get(v, [])
    if xs:
        print(f"| {v} | {m(v)/1e6:.2f} M [{min(xs)/1e6:.2f}-{max(xs)/1e6:.2f}] | {len(xs)} |")
print(f"history on / history off: {m('hubbub-history') / m('hubbub-nohistory'):.3f}")
print(f"history on / ngIRCd:      {m('hubbub-history') / m('ngircd'):.3f}")
if by.get("hubbub-postgres"):
    print(f"PostgreSQL / SQLite:      {m('hubbub-postgres') / m('hubbub-history'):.3f}")
    print(f"PostgreSQL / history off: {m('hubbub-postgres') / m('hubbub-nohistory'):.3f}")
for v in ("hubbub-history", "hubbub-postgres"):
    stored = [r.get("stored_messages") for r in runs if r["variant"] == v]
    if stored:
        print(f"messages stored by {v} per run: {stored}")
PY
