"""The `servebox` command line itself: the console script the package declares, the subcommands its
help lists, and that bad options stop before any Pulumi call."""

from __future__ import annotations

import importlib
import tomllib

from servebox import cli
from servebox.outcomes import Outcome
from tests.cli.conftest import Fake
from tests.harness import REPO


def test_the_package_declares_the_servebox_console_script() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    module, _, function = project["project"]["scripts"]["servebox"].partition(":")
    assert getattr(importlib.import_module(module), function) is cli.main
    assert set(project["tool"]["setuptools"]["packages"]["find"]["include"]) == {"servebox*", "components*"}


def test_help_lists_every_subcommand_and_the_exit_codes(fake: Fake) -> None:
    done = fake.servebox("--help")
    assert done.returncode == 0
    for command in ("up", "down", "status", "outputs", "predict", "smoke", "preflight", "ephemeral", "workshop", "reap"):
        assert f"\n    {command}" in done.stdout, command
    assert "exit codes: " + "; ".join(f"{o.code} {o.label}" for o in Outcome) in " ".join(done.stdout.split())
    assert fake.commands() == []


def test_a_bad_option_value_is_refused_by_name(fake: Fake) -> None:
    done = fake.servebox("ephemeral", "--timeout", "soon")
    assert done.returncode == 2
    assert "argument --timeout: got 'soon'; expected seconds" in done.stderr
    done = fake.servebox("ephemeral", "--timeout", "0")
    assert "argument --timeout: got '0'; expected seconds greater than 0" in done.stderr
    assert fake.commands() == []
