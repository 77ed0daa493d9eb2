"""The policy pack (policy/) in its own venv (.venv-policy, policy/requirements.txt; scripts/test.sh
makes it): its tests run there, over the resources this program plans for each kind of stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import harness
from tests.harness import run_program
from tests.unit.test_existing import KUBECONFIG_TEXT, LAB

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv-policy" / "bin" / "python"


def test_the_policy_pack_passes_the_stacks_plans_and_catches_loose_ones(tmp_path: Path) -> None:
    if not PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{PYTHON} is missing: scripts/test.sh makes it")
        pytest.skip("the policy pack's venv is missing (scripts/test.sh makes .venv-policy)")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    plans = {
        "kind": ({"target": "kind"}, "kind"),
        "kind-seldon": ({"target": "kind", "serving": "seldon"}, "kind"),
        "gcp": (harness.GCP_STACK, "gcp"),
        "aws": (harness.AWS_STACK, "aws"),
        "existing": ({"target": "existing", "kubeconfigPath": str(kubeconfig), "kubeContext": LAB}, "team"),
        # What the pack must catch: no NetworkPolicies, and the admin ports open to the world by opt-in.
        "kind-loose": ({"target": "kind", "networkPolicies": "false"}, "kind"),
        "gcp-loose": ({**harness.GCP_STACK, "adminCidrs": "0.0.0.0/1,128.0.0.0/1", "allowWorldAdminAccess": "true"}, "gcp"),
    }
    out = tmp_path / "plans"
    out.mkdir()
    for variant, (config, stack) in plans.items():
        run = run_program(config, stack=stack)
        resources = [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in run.resources.values() if r.custom]
        (out / f"{variant}.json").write_text(json.dumps(resources, default=str))
    done = subprocess.run(
        [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPO / "policy" / "tests")],
        cwd=REPO, env={**os.environ, "SERVEBOX_PLANNED_RESOURCES": str(out)}, capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout
