"""The per-module table of docs/conformance.md, from two run_irctest.sh summaries.

    python tests/conformance/module_table.py DEFAULT/summary.txt SERVICES/summary.txt

DEFAULT is a run with the Makefile's selection, SERVICES one with SERVICES=1.
Prints a Markdown table: passed / failed (+errors) / skipped (+xfailed) per module.
"""

from __future__ import annotations

import re
import sys

_ROW = re.compile(r"irctest\.server_tests\.(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)")


def parse(path: str) -> dict[str, tuple[int, ...]]:
    """module -> (passed, failed, error, skipped, xfailed)."""
    with open(path, encoding="utf-8") as fh:
        return {
            m.group(1): tuple(int(x) for x in m.groups()[1:])
            for line in fh
            if (m := _ROW.match(line))
        }


def cell(counts: tuple[int, ...] | None, absent: str) -> str:
    if counts is None:
        return absent
    passed, failed, error, skipped, xfailed = counts
    return f"{passed} / {failed + error} / {skipped + xfailed}"


def main(default_path: str, services_path: str) -> None:
    default, services = parse(default_path), parse(services_path)
    print("| module | default selection: pass / fail / skip | with services: pass / fail / skip |")
    print("| --- | --- | --- |")
    for module in sorted(set(default) | set(services)):
        row = (cell(default.get(module), "(services only)"), cell(services.get(module), "—"))
        print(f"| `{module}` | {row[0]} | {row[1]} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
