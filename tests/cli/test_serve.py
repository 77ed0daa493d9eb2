"""`servebox serve` / `unserve` and `serve()` against the fake Pulumi CLI (tests/cli/fake_pulumi.py):
the stack's `models` config written and restored, `up` called, the handle built from the outputs,
and `handle.predict()` answered for real by KServe's library on 127.0.0.1 serving what `serve()`'s
own code saved. What the fake cannot prove: that the real CLI stores the list as the program reads
it (the program's side of that is tests/unit/test_own_models_program.py) or that a cluster serves it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))  # tests.model.local_servers starts servers through bench_model

from components.model import formats  # noqa: E402
from servebox import serving  # noqa: E402
from tests.cli.conftest import Fake  # noqa: E402
from tests.model import local_servers  # noqa: E402

SERVER = SCRIPTS / "local_modelserver.py"


def _servebox(fake: Fake, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "servebox", *args], cwd=repo, env=fake.env,
                          capture_output=True, text=True, timeout=60, check=False)


def _model_outputs(name: str, base_url: str, fmt: str = "sklearn", protocol: str = "v2") -> dict[str, Any]:
    """Stack outputs (components/outputs.py) with one own model behind the gateway at base_url."""
    host = f"{name}.models.127.0.0.1.sslip.io"
    address = base_url.removeprefix("http://")
    return {
        "target": "kind",
        "ingress_address": address,
        "model_name": name,
        "models": {
            name: {
                "endpoint": f"http://{host}:{address.rsplit(':', 1)[1]}",
                "infer_url": f"http://{host}/v2/models/{name}/infer",
                "predict_url": f"http://{host}/v1/models/{name}:predict",
                "protocol": protocol,
                "host_header": host,
                "curl": f"curl -sS -H 'Host: {host}' {base_url}/v2/models/{name}/infer -d @request.json",
                "model_uri": f"s3://servebox-dev-models/{name}/0123456789abcdef",
                "format": fmt,
            }
        },
    }


@pytest.fixture(scope="module")
def trained() -> tuple[Any, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 5))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X


def _config(fake: Fake, stack: str) -> dict[str, Any]:
    """The stack's servebox keys (the CLI keeps them as `servebox:<key>`), without the namespace."""
    config = (fake.stack(stack) or {}).get("config", {})
    return {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("servebox:")}


def test_serve_writes_the_model_runs_up_and_prints_the_endpoint(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    model, _ = trained
    artifact = tmp_path / "Churn_Model.joblib"
    joblib.dump(model, artifact)
    fake.script(outputs=_model_outputs("churn-model", "http://127.0.0.1:8080"))
    done = _servebox(fake, repo, "serve", str(artifact), "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert _config(fake, "dev")["models"] == [{"name": "churn-model", "path": str(artifact.resolve())}]
    assert fake.verbs("dev").count("up") == 1
    assert "servebox serve: churn-model (sklearn, v2) answers at http://churn-model.models.127.0.0.1.sslip.io:8080" in done.stderr
    assert "curl -sS -H 'Host: churn-model.models.127.0.0.1.sslip.io'" in done.stderr

    # Again with a name and a format: the entry is updated in place, never doubled.
    done = _servebox(fake, repo, "serve", str(artifact), "--name", "churn-model", "--format", "sklearn", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert _config(fake, "dev")["models"] == [{"name": "churn-model", "path": str(artifact.resolve()), "format": "sklearn"}]


def test_a_failed_up_puts_the_models_back(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    artifact = tmp_path / "fraud.joblib"
    joblib.dump(trained[0], artifact)
    fake.script(outputs=_model_outputs("fraud", "http://127.0.0.1:8080"))
    assert _servebox(fake, repo, "serve", str(artifact), "--stack", "dev").returncode == 0
    before = _config(fake, "dev")["models"]
    second = tmp_path / "churn.joblib"
    joblib.dump(trained[0], second)
    fake.script(rules=[{"command": "up", "action": "fail", "stderr": "error: models[1].path: the server says no"}])
    done = _servebox(fake, repo, "serve", str(second), "--stack", "dev")
    assert done.returncode == 10
    assert "servebox serve: churn was not served; stack dev's models are as before" in done.stderr
    assert _config(fake, "dev")["models"] == before


def test_unserve_removes_the_model_and_runs_up_and_refuses_an_unknown_name(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    artifact = tmp_path / "churn.joblib"
    joblib.dump(trained[0], artifact)
    fake.script(outputs=_model_outputs("churn", "http://127.0.0.1:8080"))
    assert _servebox(fake, repo, "serve", str(artifact), "--stack", "dev").returncode == 0
    done = _servebox(fake, repo, "unserve", "ranker", "--stack", "dev")
    assert done.returncode == 2
    assert done.stderr.strip() == "servebox unserve: error: the stack serves no model named 'ranker' (it serves: churn)"
    ups = fake.verbs("dev").count("up")
    done = _servebox(fake, repo, "unserve", "churn", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert "models" not in _config(fake, "dev")
    assert fake.verbs("dev").count("up") == ups + 1


def test_serve_refuses_a_path_that_does_not_exist(fake: Fake, repo: Path, tmp_path: Path) -> None:
    done = _servebox(fake, repo, "serve", str(tmp_path / "nope.joblib"), "--stack", "dev")
    assert done.returncode == 2
    assert done.stderr.strip() == f"servebox serve: error: {tmp_path / 'nope.joblib'}: no such file or directory (the model file or directory to serve)"
    assert "up" not in fake.verbs()


def test_serve_in_a_notebook_saves_serves_predicts_and_deletes(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    model, X = trained
    # What the cluster would serve: the file serve()'s own code writes, served by KServe's library.
    served_dir = tmp_path / "served"
    serving.save_object(model, "churn", served_dir)
    argv = [sys.executable, str(SERVER), "--format=sklearn", *formats.server_arguments("sklearn", "churn", str(served_dir / "churn"), "{port}")]
    rows = X[:4].tolist()
    (tmp_path / "server").mkdir()
    with local_servers.serving(argv, tmp_path / "server", timeout=90) as port:
        fake.script(outputs=_model_outputs("churn", f"http://127.0.0.1:{port}"))
        (tmp_path / "rows.json").write_text(json.dumps(rows))
        notebook = textwrap.dedent(f"""
            import json, joblib, sys
            from servebox import serve
            model = joblib.load({str(served_dir / "churn" / "model.joblib")!r})
            handle = serve(model, name="churn", stack="dev")
            answers = handle.predict(json.load(open({str(tmp_path / "rows.json")!r})))
            print(json.dumps({{"url": handle.url, "answers": answers, "html": handle._repr_html_()}}))
            handle.delete()
        """)
        done = subprocess.run([sys.executable, "-c", notebook], cwd=repo, env=fake.env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["answers"] == model.predict(X[:4]).tolist()
    assert result["url"] == f"http://churn.models.127.0.0.1.sslip.io:{port}"
    assert "<strong>servebox model churn</strong>" in result["html"]
    saved = repo / "build" / "models" / "churn" / "model.joblib"
    assert saved.is_file()  # serve() saved the object where the stack's config points
    assert fake.verbs("dev").count("up") == 2  # serve, then delete
    assert "models" not in _config(fake, "dev")


def test_serve_needs_a_name_for_a_model_object(trained) -> None:
    with pytest.raises(serving.ServeboxError, match="serve\\(model\\): name= is required for a model object"):
        serving.serve(trained[0])


@pytest.mark.parametrize(
    "path, expected",
    [("Churn_Model.joblib", "churn-model"), ("2024-ranker.bst", "m-2024-ranker"), ("fraud", "fraud")],
)
def test_the_default_name_is_a_dns_label_of_the_file_name(tmp_path: Path, path: str, expected: str) -> None:
    target = tmp_path / path
    target.write_bytes(b"x") if "." in path else target.mkdir()
    assert serving.default_name(target) == expected


def test_with_and_without_model_keep_the_other_entries() -> None:
    models = [{"name": "a", "path": "/a", "maxReplicas": "3"}, {"name": "b", "uri": "s3://x/b", "format": "xgboost"}]
    assert serving.with_model(models, {"name": "a", "path": "/a2"}) == [{"name": "a", "maxReplicas": "3", "path": "/a2"}, models[1]]
    assert serving.with_model(models, {"name": "c", "path": "/c"})[-1] == {"name": "c", "path": "/c"}
    assert serving.without_model(models, "a") == [models[1]]


def test_a_canary_goes_beside_the_model_then_promote_and_rollback_edit_its_entry(
    fake: Fake, repo: Path, tmp_path: Path, trained
) -> None:
    model, X = trained
    current, new, newer = tmp_path / "v1.joblib", tmp_path / "v2.joblib", tmp_path / "v3.joblib"
    joblib.dump(model, current)
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, X[:, 1] > 0), new)
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, X[:, 3] > 0), newer)
    fake.script(outputs=_model_outputs("churn", "http://127.0.0.1:8080"))
    assert _servebox(fake, repo, "serve", str(current), "--name", "churn", "--stack", "dev").returncode == 0

    done = _servebox(fake, repo, "serve", str(new), "--name", "churn", "--canary", "10", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert "servebox serve: churn's canary answers 10% of its requests on stack dev" in done.stderr
    assert _config(fake, "dev")["models"] == [
        {"name": "churn", "path": str(current.resolve()), "canaryPath": str(new.resolve()), "canaryPercent": 10}
    ]
    done = _servebox(fake, repo, "promote", "churn", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert "servebox promote: churn is its canary now, answering every request on stack dev" in done.stderr
    assert _config(fake, "dev")["models"] == [{"name": "churn", "path": str(new.resolve())}]

    assert _servebox(fake, repo, "serve", str(newer), "--name", "churn", "--canary", "25", "--stack", "dev").returncode == 0
    done = _servebox(fake, repo, "rollback", "churn", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    # The canary gone, every request held on the version rolled out last until the next serve.
    assert _config(fake, "dev")["models"] == [{"name": "churn", "path": str(new.resolve()), "canaryPercent": 0}]
    ups = fake.verbs("dev").count("up")
    for verb in ("promote", "rollback"):
        done = _servebox(fake, repo, verb, "churn", "--stack", "dev")
        assert done.returncode == 2
        assert "it has no canary" in done.stderr.strip().splitlines()[-1]
    done = _servebox(fake, repo, "serve", str(newer), "--name", "ranker", "--canary", "10", "--stack", "dev")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "servebox serve: error: cannot add a canary to 'ranker': the stack serves no model of that name (it serves: "
        "churn); serve it first: servebox serve <path> --name ranker"
    )
    assert fake.verbs("dev").count("up") == ups  # refused before anything ran
    # A plain serve of a new version clears the hold: the new version takes every request.
    assert _servebox(fake, repo, "serve", str(newer), "--name", "churn", "--stack", "dev").returncode == 0
    assert _config(fake, "dev")["models"] == [{"name": "churn", "path": str(newer.resolve())}]


def test_a_canary_needs_a_name_and_a_share_below_100(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    artifact = tmp_path / "v2.joblib"
    joblib.dump(trained[0], artifact)
    done = _servebox(fake, repo, "serve", str(artifact), "--canary", "10", "--stack", "dev")
    assert done.returncode == 2
    assert done.stderr.strip() == "servebox serve: error: serve --canary: --name is required (the model the new version goes beside)"
    with pytest.raises(serving.ServeboxError, match=r"--canary: got 100; allowed: a share from 1 to 99"):
        serving.with_canary([{"name": "churn", "path": "/m"}], "churn", artifact, 100)


def test_serve_for_an_attendee_writes_their_entry_and_prints_their_endpoint(fake: Fake, repo: Path, tmp_path: Path, trained) -> None:
    artifact = tmp_path / "churn.joblib"
    joblib.dump(trained[0], artifact)
    theirs = _model_outputs("churn", "http://127.0.0.1:8080")["models"]
    theirs["churn"]["endpoint"] = "http://churn.ws-ada.127.0.0.1.sslip.io:8080"
    outputs = {**_model_outputs("mnist", "http://127.0.0.1:8080"), "attendees": {"ada": {"namespace": "ws-ada", "models": theirs}}}
    fake.script(outputs=outputs)
    done = _servebox(fake, repo, "serve", str(artifact), "--name", "churn", "--attendee", "ada", "--stack", "ws")
    assert done.returncode == 0, done.stderr
    assert _config(fake, "ws")["models"] == [{"name": "churn", "path": str(artifact.resolve()), "attendee": "ada"}]
    assert "servebox serve: churn (sklearn, v2) answers at http://churn.ws-ada.127.0.0.1.sslip.io:8080" in done.stderr
