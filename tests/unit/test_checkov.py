"""checkov on every Kubernetes object servebox authors, for each kind of stack: no failed check.

The few checks an object cannot meet are waived on the object itself (`checkov.io/skip<n>`
annotations, each with its reason), so a waiver is seen wherever the object is read. checkov runs
from its own venv (.venv-audit, requirements-audit.txt; scripts/test.sh makes it) with
`--framework kubernetes --skip-download`: its own checks, none fetched.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import harness
from tests.authored import authored_manifests
from tests.harness import run_program
from tests.unit.test_existing import KUBECONFIG_TEXT, LAB

CHECKOV = Path(__file__).resolve().parents[2] / ".venv-audit" / "bin" / "checkov"
VARIANTS = {
    "kind": ({"target": "kind"}, "kind"),
    "kind-standard": ({"target": "kind", "deploymentMode": "standard"}, "kind"),
    "kind-seldon": ({"target": "kind", "serving": "seldon"}, "kind"),
    "gcp": (harness.GCP_STACK, "gcp"),
    "aws": (harness.AWS_STACK, "aws"),
    # A shared workshop on a VM: every attendee's corner (namespace, quota, Role, keys) and MinIO.
    "gcp-shared": ({**harness.GCP_STACK, "attendees": "ada,bob"}, "ws"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHECKOV} is missing: scripts/test.sh installs it")
        pytest.skip("checkov is not installed (scripts/test.sh installs it into .venv-audit)")
    root = tmp_path_factory.mktemp("authored")
    kubeconfig = root / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG_TEXT)
    variants = {**VARIANTS, "existing": ({"target": "existing", "kubeconfigPath": str(kubeconfig), "kubeContext": LAB}, "team")}
    for variant, (config, stack) in variants.items():
        (root / variant).mkdir()
        for name, manifest in authored_manifests(run_program(config, stack=stack)).items():
            (root / variant / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
    done = subprocess.run(
        [str(CHECKOV), "-d", str(root), "--framework", "kubernetes", "--skip-download", "-o", "json"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result[0] if isinstance(result, list) else result


def test_no_authored_object_fails_a_check(report: dict) -> None:
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['file_path']}" for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["passed"] > 100


def test_every_waiver_says_why(report: dict) -> None:
    skipped = report["results"]["skipped_checks"]
    # The three waivers on MinIO's Deployment, on each of the five stacks that run MinIO.
    assert sorted({check["check_id"] for check in skipped}) == ["CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43"]
    assert len(skipped) == 3 * 5
    for check in skipped:
        assert len(check["check_result"]["suppress_comment"]) > 40, check["check_id"]
