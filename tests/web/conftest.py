"""The web client in a real browser: Playwright driving Debian's Chromium.

Never a downloaded browser (``playwright install`` is not used): the
executable is ``/usr/bin/chromium`` (``.ci/run`` installs it). Outside CI a
missing Chromium skips these tests; in CI it fails them. The server runs as
a subprocess: Playwright's sync API may not share a running event loop.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hubtest import need

CHROMIUM = Path("/usr/bin/chromium")
#: Screenshots and other artefacts of the browser tests (not committed; the
#: README's copies live in docs/).
ARTIFACTS = Path(os.environ.get("HUBBUB_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    need(CHROMIUM.exists(), "Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }  # fmt: skip


@pytest.fixture
def artifacts() -> Path:
    folder = ARTIFACTS / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
