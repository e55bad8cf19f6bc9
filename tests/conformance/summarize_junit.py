"""Summarise an irctest JUnit XML report.

    python summarize_junit.py junit.xml [--title TITLE]

Prints the per-module pass/fail/error/skip/xfail counts, the failing test ids
with the first line of their assertion message, and the skip reasons grouped.
Standard library only, so any Python 3.11 runs it.
"""

from __future__ import annotations

import argparse
import collections
import sys
import xml.etree.ElementTree as ET

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def _test_id(classname: str, name: str) -> tuple[str, str]:
    """("irctest.server_tests.oper", "irctest/server_tests/oper.py::OperTestCase::testX")."""
    parts = classname.split(".")
    # the class is the last component that starts with an upper-case letter
    idx = len(parts)
    for i, p in enumerate(parts):
        if p[:1].isupper():
            idx = i
            break
    module = ".".join(parts[:idx])
    cls = parts[idx:]
    path = module.replace(".", "/") + ".py"
    return module, "::".join([path, *cls, name])


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


def summarize(path: str, title: str | None = None) -> str:
    root = ET.parse(path).getroot()
    per_module: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    failures: list[tuple[str, str, str]] = []
    skip_reasons: collections.Counter[str] = collections.Counter()
    total_time = 0.0
    for tc in root.iter("testcase"):
        module, tid = _test_id(tc.get("classname", ""), tc.get("name", ""))
        total_time += float(tc.get("time") or 0)
        outcome = "passed"
        msg = ""
        for child in tc:
            if child.tag == "failure":
                outcome, msg = "failed", _first_line(child.get("message") or child.text)
            elif child.tag == "error":
                outcome, msg = "error", _first_line(child.get("message") or child.text)
            elif child.tag == "skipped":
                if child.get("type") == "pytest.xfail":
                    outcome = "xfailed"
                else:
                    outcome = "skipped"
                    skip_reasons[_first_line(child.get("message"))] += 1
            if outcome != "passed":
                break
        per_module[module][outcome] += 1
        if outcome in ("failed", "error"):
            failures.append((outcome, tid, msg))

    out: list[str] = []
    if title:
        out.append(f"# {title}")
    totals: collections.Counter[str] = collections.Counter()
    width = max([len(m) for m in per_module] + [len("module")])
    out.append(
        f"{'module':<{width}}  "
        + "  ".join(f"{o:>7}" for o in ("passed", "failed", "error", "skipped", "xfailed"))
    )
    for module in sorted(per_module):
        c = per_module[module]
        totals.update(c)
        out.append(
            f"{module:<{width}}  "
            + "  ".join(f"{c[o]:>7}" for o in ("passed", "failed", "error", "skipped", "xfailed"))
        )
    out.append(
        f"{'TOTAL':<{width}}  "
        + "  ".join(f"{totals[o]:>7}" for o in ("passed", "failed", "error", "skipped", "xfailed"))
        + f"   ({sum(totals.values())} tests, {total_time:.0f}s summed test time)"
    )
    # irctest.self_tests checks irctest itself (its matchers), not the server
    server: collections.Counter[str] = collections.Counter()
    for module, c in per_module.items():
        if not module.startswith("irctest.self_tests"):
            server.update(c)
    out.append(
        f"{'server tests only':<{width}}  "
        + "  ".join(f"{server[o]:>7}" for o in ("passed", "failed", "error", "skipped", "xfailed"))
    )
    out.append("")
    out.append(f"## failing tests ({len(failures)})")
    for outcome, tid, msg in sorted(failures, key=lambda f: f[1]):
        tag = "" if outcome == "failed" else "[error] "
        out.append(f"{tag}{tid}\n    {msg}")
    out.append("")
    out.append(f"## skip reasons ({sum(skip_reasons.values())})")
    for reason, n in skip_reasons.most_common():
        out.append(f"{n:5d}  {reason}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("junit_xml")
    ap.add_argument("--title")
    args = ap.parse_args(argv)
    sys.stdout.write(summarize(args.junit_xml, args.title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
