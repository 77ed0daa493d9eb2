"""`servebox workshop up|status|down --shared` against the fake Pulumi CLI and a local stand-in of
the Kubernetes API (the TokenRequest of each attendee's ServiceAccount, their models' lists): one
stack with the roster's attendees in its config, a kubeconfig file per attendee (mode 0600, their
namespace, a token that expires with the workshop, never printed), the roster page with their
namespace and file, seen in headless Chromium. What this cannot prove: a real API server issuing
and honouring those tokens, or RBAC as it evaluates them (tests/unit/test_shared_workshop.py
evaluates the Role)."""

from __future__ import annotations

import json
import stat
import urllib.parse

import pytest
import yaml

from tests import local_http
from tests.cli.test_roster_page import ARTIFACTS, _chromium, chrome_run

TTL_HOURS = 6


@pytest.fixture
def cluster():
    """The stand-in API: its kubeconfig, and what it was asked (method, path, body)."""
    asked: list[tuple[str, str, dict]] = []

    def respond(method: str, path: str, headers, body: bytes) -> tuple[int, bytes]:
        path = urllib.parse.unquote(path.split("?")[0])
        sent = json.loads(body) if body else {}
        asked.append((method, path, sent))
        parts = path.strip("/").split("/")
        if method == "POST" and path.endswith("/serviceaccounts/attendee/token"):
            namespace = parts[3]
            return 201, json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                    "spec": sent["spec"], "status": {"token": f"token-of-{namespace}",
                                                                     "expirationTimestamp": "2026-12-03T20:00:00Z"}}).encode()
        if path.endswith("/inferenceservices"):
            namespace = parts[-2]
            ready = namespace == "ws-ada"
            item = {"metadata": {"name": "mnist", "namespace": namespace}, "spec": {"predictor": {"model": {}}},
                    "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "RevisionMissing"}]}}
            return 200, json.dumps({"items": [item]}).encode()
        if path.endswith("/pods"):
            return 200, json.dumps({"items": []}).encode()
        return 404, b'{"kind": "Status", "code": 404}'

    with local_http.serving(respond) as url:
        kubeconfig = yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "admin",
            "clusters": [{"name": "kind", "cluster": {"server": url, "certificate-authority-data": "Q0EtREFUQQ=="}}],
            "contexts": [{"name": "admin", "context": {"cluster": "kind", "user": "admin"}}],
            "users": [{"name": "admin", "user": {"token": "ADMIN-SECRET"}}],
        })
        yield kubeconfig, url, asked


def _outputs(kubeconfig: str) -> dict:
    def corner(attendee: str) -> dict:
        host = f"mnist.ws-{attendee}.127.0.0.1.sslip.io"
        return {"namespace": f"ws-{attendee}", "service_account": "attendee", "endpoint": f"http://{host}:8080",
                "host_header": host, "curl": f"curl -sS -H 'Host: {host}' http://127.0.0.1:8080/v2/models/mnist/infer -d @d.json"}

    return {"target": "kind", "serving": "kserve", "kubeconfig": kubeconfig, "endpoint": "http://mnist.models",
            "attendees": {"ada": corner("ada"), "bob": corner("bob")}}


def test_shared_up_makes_one_stack_and_a_kubeconfig_per_attendee(fake, cluster, tmp_path) -> None:
    kubeconfig, url, asked = cluster
    fake.script(outputs=_outputs(kubeconfig), secret_outputs=["kubeconfig"], resources=60)
    roster = tmp_path / "attendees.csv"
    roster.write_text("attendee,name\nada,Ada Lovelace\nbob,Bob\n")
    out = tmp_path / "out"
    done = fake.servebox("workshop", "up", "--shared", "--roster", str(roster), "--out", str(out), "--event", "ws",
                         "--ttl-hours", str(TTL_HOURS), timeout=120)
    assert done.returncode == 0, done.stderr
    assert fake.stacks() == ["ws"]
    config = fake.stack("ws")["config"]
    assert config["servebox:attendees"] == "ada,bob" and config["servebox:modelAuth"] == "none"
    assert fake.stack("ws")["tags"]["servebox:workshop"] == "ws"
    tokens = [(path, sent) for method, path, sent in asked if method == "POST"]
    assert [path for path, _ in tokens] == [f"/api/v1/namespaces/ws-{a}/serviceaccounts/attendee/token" for a in ("ada", "bob")]
    assert all(sent["spec"]["expirationSeconds"] == TTL_HOURS * 3600 for _, sent in tokens)
    for attendee in ("ada", "bob"):
        path = out / "kubeconfigs" / f"{attendee}.yaml"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        given = yaml.safe_load(path.read_text())
        assert given["users"] == [{"name": f"ws-{attendee}", "user": {"token": f"token-of-ws-{attendee}"}}]
        assert given["contexts"][0]["context"]["namespace"] == f"ws-{attendee}"
        assert given["clusters"][0]["cluster"] == {"server": url, "certificate-authority-data": "Q0EtREFUQQ=="}
        assert "ADMIN-SECRET" not in path.read_text()
    printed = done.stdout + done.stderr
    assert "token-of" not in printed and "ADMIN-SECRET" not in printed
    rows = (out / "roster.csv").read_text().splitlines()
    assert rows[0].endswith(",namespace,kubeconfig") and rows[1].endswith(",ws-ada,kubeconfigs/ada.yaml")
    page = (out / "roster.html").read_text()
    assert "token-of" not in page

    dom = chrome_run(_chromium(), tmp_path, out / "roster.html", ARTIFACTS / "roster-shared.png", window="1600,600")
    assert "kubeconfigs/ada.yaml" in dom and "ws-bob" in dom and "servebox workshop down --shared --event ws" in dom
    assert "The organiser removes the shared stack" in dom and "reaches your namespace only" in dom


def test_shared_status_reads_each_attendees_models_and_down_removes_the_one_stack(fake, cluster, tmp_path) -> None:
    kubeconfig, _url, asked = cluster
    fake.script(outputs=_outputs(kubeconfig), secret_outputs=["kubeconfig"], resources=60)
    roster = tmp_path / "attendees.csv"
    roster.write_text("attendee\nada\nbob\n")
    assert fake.servebox("workshop", "up", "--shared", "--roster", str(roster), "--out", str(tmp_path / "o"), timeout=120).returncode == 0
    done = fake.servebox("workshop", "status", "--shared", "--json")
    assert done.returncode == 11, done.stderr  # bob's model is not ready
    assert json.loads(done.stdout) == [
        {"attendee": "ada", "namespace": "ws-ada", "models": 1, "ready": True, "not_ready": ""},
        {"attendee": "bob", "namespace": "ws-bob", "models": 1, "ready": False, "not_ready": "mnist"},
    ]
    lists = [path for method, path, _ in asked if method == "GET"]
    assert lists == [f"/{p}/namespaces/ws-{a}/{kind}" for a in ("ada", "bob")
                     for p, kind in (("apis/serving.kserve.io/v1beta1", "inferenceservices"), ("api/v1", "pods"))]
    done = fake.servebox("workshop", "down", "--shared", timeout=120)
    assert done.returncode == 0, done.stderr
    assert fake.stacks() == []


def test_a_failed_shared_up_hands_out_no_kubeconfig_and_says_why(fake, cluster, tmp_path) -> None:
    kubeconfig, _url, asked = cluster
    fake.script(outputs=_outputs(kubeconfig), rules=[{"command": "up", "action": "fail", "stderr": "error: quota exceeded"}])
    roster = tmp_path / "attendees.csv"
    roster.write_text("attendee\nada\n")
    out = tmp_path / "out"
    done = fake.servebox("workshop", "up", "--shared", "--roster", str(roster), "--out", str(out), timeout=120)
    assert done.returncode == 10
    assert "stack ws failed" in done.stderr and "error: quota exceeded" in done.stderr
    assert not (out / "kubeconfigs").exists() and not [a for a in asked if a[0] == "POST"]
    assert (out / "roster.csv").read_text().splitlines()[1].split(",")[3] == "failed"
