#!/bin/bash
# Run the irctest conformance suite against hubbub (one fresh server per test).
#
#   tests/conformance/run_irctest.sh IRCTEST_DIR OUTDIR [extra pytest args...]
#
# IRCTEST_DIR  a checkout of https://github.com/progval/irctest (not vendored here),
#              ideally with a venv at IRCTEST_DIR/.venv holding its requirements.txt
#              (+ pytest-xdist for -n, pytest-timeout for --timeout).
# OUTDIR       gets junit.xml, pytest.log, summary.txt, server-logs/ (one per test).
#
# Environment:
#   HUBBUB       command that runs hubbub (default: <repo>/.venv/bin/hubbub, else `hubbub`)
#   PYTHON       python for irctest (default: IRCTEST_DIR/.venv/bin/python, else python3)
#   MARKERS      pytest -m expression (default below: irctest's selection for servers
#                without services, minus implementation-specific tests)
#   SERVICES=1   also run `services`-marked tests (SASL, account registration,
#                CHATHISTORY): hubbub has built-in accounts, like Ergo
#   KEYWORDS     pytest -k expression (default: none)
#   JOBS         parallel workers (pytest-xdist), default 4; 0 = serial
#   TIMEOUT      per-test timeout in seconds if pytest-timeout is installed (default 60)
#   CONTROLLER   irctest controller module (default: hubbub_controller, from this dir);
#                e.g. irctest.controllers.ngircd to check the harness on ngIRCd
#   HUBBUB_IRCTEST_STRICT=1  see hubbub_controller.py (declare the features we aim for)
# Exit status: pytest's (0 all passed, 1 some failed, ...).
set -uo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
irctest=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ ! -f "$irctest/irctest/cases.py" ]; then
  echo "$irctest does not look like an irctest checkout" >&2; exit 2
fi
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  if [ -x "$irctest/.venv/bin/python" ]; then PYTHON=$irctest/.venv/bin/python; else PYTHON=python3; fi
fi
if [ -z "${HUBBUB:-}" ]; then
  if [ -x "$repo/.venv/bin/hubbub" ]; then HUBBUB=$repo/.venv/bin/hubbub; else HUBBUB=hubbub; fi
fi
export HUBBUB
CONTROLLER=${CONTROLLER:-hubbub_controller}
DEFAULT_MARKERS="not implementation-specific and not deprecated and not strict"
if [ "${SERVICES:-0}" = 1 ]; then
  MARKERS=${MARKERS:-$DEFAULT_MARKERS}
else
  MARKERS=${MARKERS:-"not services and $DEFAULT_MARKERS"}
fi
JOBS=${JOBS:-4}
TIMEOUT=${TIMEOUT:-60}

if [ "$CONTROLLER" = hubbub_controller ]; then
  # fail early and clearly if hubbub cannot even start
  # shellcheck disable=SC2086  # HUBBUB may be "python -m hubbub"
  if ! $HUBBUB serve --help >/dev/null 2>&1; then
    echo "cannot run '$HUBBUB serve --help' (set HUBBUB=/path/to/hubbub)" >&2; exit 2
  fi
fi

args=(-p no:cacheprovider --controller "$CONTROLLER" -m "$MARKERS" -rfE
      --junitxml "$out/junit.xml" -o junit_family=xunit1)
[ -n "${KEYWORDS:-}" ] && args+=(-k "$KEYWORDS")
if [ "$JOBS" != 0 ] && "$PYTHON" -c 'import xdist' 2>/dev/null; then
  args+=(-n "$JOBS")
fi
if "$PYTHON" -c 'import pytest_timeout' 2>/dev/null; then
  args+=(--timeout "$TIMEOUT")
fi

export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export HUBBUB_IRCTEST_LOG_DIR=${HUBBUB_IRCTEST_LOG_DIR:-$out/server-logs}
rm -rf "$out/server-logs" "$out/junit.xml"
{
  echo "# irctest $(git -C "$irctest" rev-parse --short HEAD 2>/dev/null || echo '(no git)')" \
       "against $CONTROLLER, $(date -Is)"
  echo "# hubbub: $HUBBUB ($(git -C "$repo" log -1 --format='%h %s' 2>/dev/null))"
  echo "# pytest ${args[*]} $*"
} > "$out/pytest.log"
cd "$irctest" || exit 2
start=$(date +%s)
"$PYTHON" -m pytest "${args[@]}" "$@" >> "$out/pytest.log" 2>&1
rc=$?
echo "# pytest exit status $rc after $(( $(date +%s) - start ))s" >> "$out/pytest.log"
if [ -f "$out/junit.xml" ]; then
  "$PYTHON" "$here/summarize_junit.py" "$out/junit.xml" \
    --title "irctest vs $CONTROLLER, -m '$MARKERS', $(date -Is)" > "$out/summary.txt"
  sed -n '/^## failing/q;p' "$out/summary.txt"
  echo "full summary: $out/summary.txt  log: $out/pytest.log"
else
  tail -20 "$out/pytest.log"
fi
exit $rc
