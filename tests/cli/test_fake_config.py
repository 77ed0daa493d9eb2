"""The fake CLI writes a stack's config as the real `pulumi config set-all` does, and the program reads
what the real CLI would hand it from that file (tests/engine.py `cli_config`).

Followed: pkg/cmd/pulumi/config/config.go (`set-all`: a plain value is stored as text; keys without
a namespace are the project's), sdk/go/common/resource/config/map.go `Map.Set` and object.go
`coerce` (a `--path` deeper than the key coerces "2" to 2 and "true" to true, but keeps "0123").
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.cli.conftest import Fake
from tests.engine import cli_config
from tests.harness import REPO


def pulumi(fake: Fake, cwd: Path, *args: str) -> None:
    subprocess.run(["pulumi", *args, "--non-interactive"], cwd=cwd, env=fake.env, check=True, capture_output=True, text=True)


def test_set_all_with_path_writes_what_the_program_then_reads(fake: Fake, tmp_path: Path):
    work = tmp_path / "work-dir"
    work.mkdir()
    shutil.copy(REPO / "Pulumi.yaml", work / "Pulumi.yaml")
    pulumi(fake, work, "stack", "init", "dev")
    pulumi(
        fake, work, "config", "set-all", "--stack", "dev", "--plaintext", "kindHostPort=9090",
        "--path", "--plaintext", "models[0].name=churn", "--plaintext", "models[0].minReplicas=2",
        "--plaintext", "models[0].cpuLimit=0123", "--plaintext", "models[0].path=/m/churn.joblib",
    )
    written = json.loads((work / "stacks" / "Pulumi.dev.yaml").read_text())["config"]
    assert written == {
        "servebox:kindHostPort": "9090",
        "servebox:models": [{"name": "churn", "minReplicas": 2, "cpuLimit": "0123", "path": "/m/churn.joblib"}],
    }
    values = cli_config("dev", root=work).values
    assert values["servebox:kindHostPort"] == "9090"
    assert json.loads(values["servebox:models"]) == written["servebox:models"]
    assert values["servebox:models"] == '[{"cpuLimit":"0123","minReplicas":2,"name":"churn","path":"/m/churn.joblib"}]'
