"""The repository stands alone: a fresh clone with nothing beside it runs
every test, and none skips for want of a file outside it.

The first test reads the sources for paths that leave the repository (as
the parser vectors once did, from ``../shared``). The second copies the
files a clone would have into a folder with no ``../shared`` next to it and
runs the protocol tests there (the ones that read test data), requiring
every one to pass and none to skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What the tests, the code and the build read; docs may point at tools beside it.
CHECKED = ("src", "tests", "Makefile", "pyproject.toml", ".ci")
OUTSIDE = re.compile(r"\.\./shared|/ \"shared\"|parents\[\d\]\.parent")


def _checked_files() -> list[Path]:
    out: list[Path] = []
    for name in CHECKED:
        path = ROOT / name
        out += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return [p for p in out if "__pycache__" not in p.parts and p.suffix != ".svg"]


def test_nothing_reads_files_from_beside_the_repository() -> None:
    this = Path(__file__).resolve()
    offenders = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in _checked_files()
        if p.resolve() != this
        for m in OUTSIDE.finditer(p.read_text(errors="replace"))
    ]
    assert offenders == []


def _clone_files() -> list[str]:
    """The files a clone has: tracked ones and new ones not ignored."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell which files a clone would have")
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return [name for name in out.stdout.decode().split("\0") if name]


def test_a_fresh_clone_runs_the_data_driven_tests_without_skips(tmp_path: Path) -> None:
    clone = tmp_path / "alone" / "hubbub"
    for name in _clone_files():
        src = ROOT / name
        if src.is_file():  # a file deleted but not yet committed is not in a clone
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / name)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "CI")}
    env["PYTHONPATH"] = str(clone / "src")  # the clone's code, not this checkout's
    where = subprocess.run(
        [sys.executable, "-c", "import hubbub; print(hubbub.__file__)"],
        cwd=clone, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(clone))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "pt"), "tests/protocol"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "skipped" not in summary, run.stdout[-3000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    assert passed >= 90, summary  # the vectors alone are ~90 cases
