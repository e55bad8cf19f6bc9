"""The service files in contrib/: systemd accepts them, their sandbox scores
well, and the hubbub command lines they run are ones hubbub accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.cli import _parser

from hubtest import need

CONTRIB = Path(__file__).resolve().parents[1] / "contrib" / "systemd"
UNITS = ("hubbub.service", "hubbub-backup.service", "hubbub-backup.timer")
#: Where docs/operating.md installs hubbub; the checks use this checkout's.
INSTALLED = "/opt/hubbub/bin/hubbub"


def exec_lines(unit: str, key: str = "ExecStart") -> list[list[str]]:
    text = (CONTRIB / unit).read_text()
    return [shlex.split(m) for m in re.findall(rf"^{key}=(.+)$", text, re.MULTILINE)]


@pytest.fixture
def units(tmp_path: Path) -> Path:
    """The unit files, running this checkout's hubbub instead of /opt's."""
    need(shutil.which("systemd-analyze") is not None,
         "systemd-analyze is not installed (apt-get install systemd)")  # fmt: skip
    here = str(Path(sys.executable).parent / "hubbub")
    for unit in UNITS:
        text = (CONTRIB / unit).read_text()
        (tmp_path / unit).write_text(text.replace(INSTALLED, here))
    return tmp_path


def test_systemd_accepts_the_units_without_a_warning(units: Path) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", *UNITS], cwd=units, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_check_finds_a_misspelt_setting(units: Path) -> None:
    unit = units / "hubbub.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=", "ProtectSytem="))
    done = subprocess.run(
        ["systemd-analyze", "verify", "hubbub.service"], cwd=units, capture_output=True, text=True
    )
    assert "Unknown key 'ProtectSytem'" in done.stderr


def test_the_server_runs_in_a_tight_sandbox(units: Path) -> None:
    """systemd's own score of what the service may do: 0 is a locked box,
    10 is root with everything; "OK" is below 4."""
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "hubbub.service"],
        cwd=units, capture_output=True, text=True,
    )  # fmt: skip
    score = re.search(r"Overall exposure level for hubbub.service: ([\d.]+)", done.stdout)
    assert score is not None, done.stdout + done.stderr
    assert float(score.group(1)) <= 2.0


def test_the_units_run_hubbub_command_lines_hubbub_accepts() -> None:
    serve = exec_lines("hubbub.service")[0]
    backup = exec_lines("hubbub-backup.service")[0]
    assert serve[0] == backup[0] == INSTALLED
    args = _parser().parse_args(serve[1:])
    assert (args.command, args.config, args.data_dir) == (
        "serve", "/etc/hubbub/hubbub.toml", "/var/lib/hubbub",
    )  # fmt: skip
    args = _parser().parse_args(backup[1:])
    assert (args.command, args.data_dir) == ("backup", "/var/lib/hubbub")
    # Reload is the server's reload signal, not SIGHUP (which stops it).
    assert exec_lines("hubbub.service", "ExecReload") == [["/bin/kill", "-USR1", "$MAINPID"]]


PROMETHEUS = CONTRIB.parent / "prometheus"


def test_the_alerting_rules_load_and_fire_when_they_should() -> None:
    need(shutil.which("promtool") is not None,
         "promtool is not installed (apt-get install prometheus)")  # fmt: skip
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_alerting_rules_use_only_metrics_the_server_exports(tmp_path: Path) -> None:
    import yaml

    from hubbub.bus.base import Link
    from hubbub.config import from_mapping
    from hubbub.ops.health import Readiness
    from hubbub.ops.lag import LoopLag
    from hubbub.ops.metrics import MetricsRegistry
    from hubbub.server.server import Server
    from hubbub.store.sqlite.history import SQLiteHistoryStore

    class Loop:
        def time(self) -> float:
            return 0.0

        def call_soon(self, *args: object) -> None: ...
        def call_later(self, *args: object) -> None: ...
        def call_soon_threadsafe(self, *args: object) -> None: ...

    database = tmp_path / "hubbub.sqlite3"
    store = SQLiteHistoryStore.open(database)
    server = Server(from_mapping({"history": {"database": str(database)}}), Loop(), history=store)

    class TwoNodes:
        """A cluster's membership, so the cluster-only series are there too."""

        def position(self) -> str:
            return "12"

        def links(self) -> list[Link]:
            return [Link("n1", 1, "12", 1_000, 0), Link("n2", 1, "11", 1_000, 40)]

        def health(self) -> str | None:
            return None

    server.membership = TwoNodes()
    registry = MetricsRegistry(server, LoopLag(), Readiness(server), store.db.path)
    registry.process.families = registry.process.read()
    page, _ = registry.render()
    server.close()
    exported = set(re.findall(r"^(\w+)", page.decode(), re.MULTILINE))
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    names = r"\b(?:hubbub|process)_\w+"
    used = {name for rule in rules for name in re.findall(names, rule["expr"])}
    assert len(used) >= 8
    assert used - exported == set()
