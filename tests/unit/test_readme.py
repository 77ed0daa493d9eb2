"""The README stays true: its configuration and outputs tables name exactly what the program has,
with Pulumi.yaml's defaults, and its test command is the one CI runs."""

from __future__ import annotations

import re

from components import outputs
from components.config import config_schema
from tests.harness import REPO

README = (REPO / "README.md").read_text()


def _table(heading: str) -> dict[str, str]:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.*?) \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_configuration_table_lists_every_key_with_its_default():
    table = _table("Configuration")
    schema = config_schema()
    assert list(table) == list(schema)
    for key, spec in schema.items():
        default = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
        assert table[key] == f"`{default}`", key


def test_outputs_table_lists_every_output_in_order():
    assert list(_table("Outputs")) == list(outputs.ALL_OUTPUTS)


def test_quickstart_commands_are_the_scripts_ci_and_users_run():
    quickstart = README.split("## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    assert "scripts/up.sh          # stack \"kind\"" in quickstart
    assert "\nscripts/test.sh " in quickstart
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "bash scripts/test.sh"
