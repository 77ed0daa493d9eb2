"""A stack's venv holds only the provider packages its target uses, so the engine installs only those
plugins (tests/ENGINE.md, GetRequiredPlugins): the program must run without the others installed.

Each run is a child Python in which pulumi_gcp and pulumi_aws cannot be imported, as in a kind venv.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.engine import REPO

CHILD = textwrap.dedent(
    """
    import sys, importlib.abc

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (not in this stack's venv)")
            return None

    BLOCKED = set(sys.argv[1].split(","))
    sys.meta_path.insert(0, Absent())
    sys.path.insert(0, sys.argv[2])
    from tests.harness import run_program
    config = eval(sys.argv[3])
    run = run_program(config, stack=sys.argv[4], public_ipv4=lambda: "198.51.100.7")
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi_gcp", "pulumi_aws"))
    print(len(run.resources), loaded)
    """
)


def _run(blocked: str, config: dict, stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, blocked, str(REPO), repr(config), stack],
                          capture_output=True, text=True, timeout=300, check=False, cwd=REPO)


@pytest.mark.parametrize(
    ("blocked", "config", "stack"),
    [
        ("pulumi_gcp,pulumi_aws", {}, "kind"),
        ("pulumi_gcp,pulumi_aws", {"serving": "seldon"}, "kind"),
        ("pulumi_aws", {"target": "gcp", "gcp:project": "servebox-test-1"}, "gcp"),
        ("pulumi_gcp", {"target": "aws", "aws:region": "us-east-1"}, "aws"),
    ],
)
def test_the_program_imports_only_its_targets_cloud_sdk(blocked: str, config: dict, stack: str) -> None:
    done = _run(blocked, config, stack)
    assert done.returncode == 0, done.stderr[-3000:]
    count, loaded = done.stdout.strip().split(" ", 1)
    assert int(count) > 20
    assert all(name.split(".")[0] not in blocked.split(",") for name in eval(loaded))


def test_the_kind_tools_import_no_cloud_sdk() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import servebox.cli, servebox.workstation, servebox.refresh_targets, servebox.preflight;"
        "print(servebox.refresh_targets.refresh_targets('kind'));"
        "print(sorted(m for m in sys.modules if m.startswith(('pulumi_gcp', 'pulumi_aws'))))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "[]"]


def test_a_stack_whose_cloud_sdk_is_missing_says_how_to_get_it() -> None:
    done = _run("pulumi_gcp", {"target": "gcp", "gcp:project": "servebox-test-1"}, "gcp")
    assert done.returncode != 0
    assert (
        "stack gcp runs on gcp, but its provider package pulumi-gcp is not in this venv. Fix: scripts/up.sh gcp "
        "(it installs what the stack needs), or .venv/bin/pip install -r requirements-gcp.txt"
    ) in done.stderr
