"""docs/operating.md says what the code does: its configuration parses, its
hubbub command lines are accepted, its tables name every disconnect reason,
real events and real metrics."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

from hubbub.cli import _parser
from hubbub.config import from_mapping
from hubbub.server.meters import DISCONNECT_LABELS, DISCONNECT_REASONS

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "operating.md").read_text()


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", GUIDE, re.DOTALL)


def test_the_configuration_in_the_guide_is_valid() -> None:
    (toml,) = blocks("toml")
    config = from_mapping(tomllib.loads(toml), file="hubbub.toml")
    assert config.server.tls_listen and config.metrics.listen is not None
    assert str(config.metrics.listen).startswith("127.0.0.1:")  # metrics stay local


def test_every_hubbub_command_line_in_the_guide_is_accepted() -> None:
    commands = []
    for block in blocks("sh") + blocks("ini"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            words = shlex.split(line, comments=True) if "<<" not in line else []
            if "/opt/hubbub/bin/hubbub" in words:
                commands.append(words[words.index("/opt/hubbub/bin/hubbub") + 1 :])
            elif words[:1] == ["ExecStart=/opt/hubbub/bin/hubbub"]:
                commands.append(words[1:])
            elif words[:2] == ["podman", "exec"] and words[3:4] == ["hubbub"]:
                commands.append(words[4:])
    assert ["--version"] in commands
    commands.remove(["--version"])  # (argparse exits after printing it)
    assert len(commands) >= 4
    for args in commands:
        _parser().parse_args(args)  # exits the test with a usage error if not


def test_the_yaml_in_the_guide_parses() -> None:
    for block in blocks("yaml"):
        assert yaml.safe_load(block)["scrape_configs"][0]["job_name"] == "hubbub"


def test_every_disconnect_reason_is_explained() -> None:
    section = GUIDE.split("## 9. What each disconnect reason means")[1].split("\n## ")[0]
    for label in DISCONNECT_LABELS:
        assert f"`{label}`" in section, label
    for reason, _ in DISCONNECT_REASONS:
        assert f"`{reason}" in section, reason


def test_the_events_the_guide_names_are_logged_by_the_code() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "hubbub").rglob("*.py"))
    kinds = "server|config|client|oper|history|command|account|channels|database"
    named = set(re.findall(rf"`((?:{kinds})\.[a-z_]+)`", GUIDE))
    assert len(named) >= 25
    missing = {event for event in named if f'"{event}"' not in source}
    assert missing == set()


def test_the_metrics_the_guide_lists_are_exported() -> None:
    from hubbub.ops.metrics import ServerCollector

    source = (ROOT / "src" / "hubbub" / "ops" / "metrics.py").read_text()
    listed = set(re.findall(r"`(hubbub_[a-z_]+)", GUIDE))
    assert len(listed) >= 25
    exported = {f"hubbub_{name}" for name in re.findall(r'PREFIX \+ "([a-z_]+)"', source)}
    exported |= {f"hubbub_{name}" for name in re.findall(r'histogram\(\s*"([a-z_]+)"', source)}
    plain = {re.sub(r"_total$", "", name) for name in listed}
    assert plain - exported == set()
    assert ServerCollector.__doc__
