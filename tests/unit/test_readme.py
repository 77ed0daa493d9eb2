"""The README and docs/configuration.md stay true: the configuration and outputs tables name exactly
what the program has, with Pulumi.yaml's defaults, the exit-code table is the commands' own, and the
README's test command is the one CI runs. (tests/unit/test_docs.py checks every name the docs use.)"""

from __future__ import annotations

import re

from components import outputs
from components.config import config_schema
from tests.harness import REPO

README = (REPO / "README.md").read_text()
CONFIGURATION = (REPO / "docs" / "configuration.md").read_text()


def _table(heading: str) -> dict[str, str]:
    section = CONFIGURATION.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
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


def test_exit_code_table_is_the_commands_own():
    from servebox.outcomes import MEANINGS, Outcome

    section = README.split("## The `servebox` command\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| `([a-z_]+)` \| (.*?) \|$", section, flags=re.MULTILINE)
    assert [(int(code), label) for code, label, _ in rows] == [(o.code, o.label) for o in Outcome]
    for (_code, _label, meaning), outcome in zip(rows, Outcome, strict=True):
        assert meaning.replace("`", "") == MEANINGS[outcome], outcome


def test_the_github_actions_example_runs_servebox_ephemeral_with_the_pinned_tools():
    import yaml

    from components import versions
    from servebox import stacks

    workflow = yaml.safe_load((REPO / "examples" / "github-actions-ephemeral.yml").read_text())
    steps = workflow["jobs"]["serve-and-test"]["steps"]
    tools = next(step["run"] for step in steps if step.get("name", "").startswith("Tools"))
    assert f"/dl/v{versions.KIND_MIN_CLI_VERSION}/kind-linux-amd64" in tools
    assert f"/release/v{versions.KUBERNETES_VERSION}/bin/linux/amd64/kubectl" in tools
    pulumi_version = re.search(r"--version (\d+)\.(\d+)\.(\d+)", tools).groups()
    assert tuple(map(int, pulumi_version)) >= (stacks.MINIMUM_CLI.major, stacks.MINIMUM_CLI.minor, stacks.MINIMUM_CLI.patch)
    run = next(step for step in steps if step.get("id") == "servebox")["run"]
    assert ".venv/bin/servebox ephemeral " in run and "--summary servebox-summary.json" in run
    venv = next(step["run"] for step in steps if step.get("name", "").startswith("The venv"))
    assert "ensure_venv 13 requirements.txt" in venv
