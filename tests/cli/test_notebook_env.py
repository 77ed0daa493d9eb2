"""serve() from an environment that is not .venv: a notebook kernel's venv, made fresh, with servebox
installed the one documented way (pyproject.toml; docs/own-models.md), calls serve() against the
fake Pulumi CLI and gets its handle.

This builds a real venv and installs into it (about 40 s from pip's cache; CI reaches PyPI for what
the cache lacks). What it cannot prove: the real CLI's run of the program, which happens in .venv
(made by scripts/up.sh, or by the Pulumi CLI from requirements.txt where it is missing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from tests.cli.conftest import Fake
from tests.cli.test_serve import _model_outputs
from tests.harness import REPO

# The command docs/own-models.md gives, run from the repository.
DOCUMENTED = ("-m", "pip", "install", "-c", "requirements.txt", "-e", ".")


def test_serve_from_a_fresh_kernel_venv(fake: Fake, repo: Path, tmp_path: Path) -> None:
    shutil.copy(REPO / "README.md", repo / "README.md")  # pyproject.toml's readme
    kernel = tmp_path / "kernel-venv"
    venv.create(kernel, with_pip=True)
    python = kernel / "bin" / "python"
    install = subprocess.run([str(python), *DOCUMENTED, "--quiet", "--disable-pip-version-check"], cwd=repo,
                             capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True)
    names = {package["name"].lower().replace("_", "-") for package in json.loads(listed.stdout)}
    assert {"servebox", "pulumi", "scikit-learn", "rich"} <= names
    assert not names & {"pulumi-gcp", "pulumi-aws", "pytest"}  # a kind kernel: neither cloud, no test tools

    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    model_file = tmp_path / "churn.joblib"
    joblib.dump(LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)), model_file)
    fake.script(outputs=_model_outputs("churn", "http://127.0.0.1:9"))
    env = {key: value for key, value in fake.env.items() if key != "PYTHONPATH"}  # servebox from the install only
    notebook = textwrap.dedent(f"""
        import json, servebox
        from servebox import serve
        handle = serve({str(model_file)!r}, name="churn", stack="dev")
        print(json.dumps({{"url": handle.url, "module": servebox.__file__}}))
    """)
    done = subprocess.run([str(python), "-c", notebook], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["url"] == "http://churn.models.127.0.0.1.sslip.io:9"
    assert result["module"] == str(repo / "servebox" / "__init__.py")  # the editable install of this project
    assert fake.verbs("dev").count("up") == 1
    assert sys.executable != str(python)
