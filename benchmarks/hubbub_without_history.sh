#!/bin/bash
# `hubbub serve --config FILE ...` with [history] enabled = false added to FILE:
# the "history off" server for benchmarks/history_fanout.sh (ircbench's
# run_server.sh starts hubbub as "$HUBBUB serve --config RUNDIR/hubbub.toml ...").
# REAL_HUBBUB is the hubbub command to run.
set -eu
args=("$@")
for i in "${!args[@]}"; do
  if [ "${args[$i]}" = --config ]; then
    src=${args[$((i + 1))]}
    dst=${src%.toml}-nohistory.toml
    { cat "$src"; printf '\n[history]\nenabled = false\n'; } > "$dst"
    args[$((i + 1))]=$dst
  fi
done
exec ${REAL_HUBBUB:?set REAL_HUBBUB to the hubbub command} "${args[@]}"
