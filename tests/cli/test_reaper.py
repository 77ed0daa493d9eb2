"""`servebox reap` against the fake Pulumi CLI: expiry from the `servebox:expires-at` tag, and never a
stack whose lock an update holds (a live pid here, or any lock from another host); never `cancel`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.cli.conftest import Fake

NOW = "2026-12-01T12:00:00Z"
EXPIRED = "2026-12-01T11:59:59Z"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _seed(fake: Fake) -> None:
    fake.seed_stack("ci-old", {"servebox:expires-at": EXPIRED, "servebox:purpose": "ci"})
    fake.seed_stack("ci-fresh", {"servebox:expires-at": "2026-12-01T12:00:01Z"})
    fake.seed_stack("ci-live", {"servebox:expires-at": EXPIRED})
    fake.lock("ci-live", os.getpid(), socket.gethostname())
    fake.seed_stack("ci-elsewhere", {"servebox:expires-at": EXPIRED})
    fake.lock("ci-elsewhere", 4242, "runner-7")
    fake.seed_stack("ci-stale", {"servebox:expires-at": EXPIRED})
    fake.lock("ci-stale", _dead_pid(), socket.gethostname())
    fake.seed_stack("ci-garbled", {"servebox:expires-at": "tomorrow"})
    fake.seed_stack("kind", {"servebox:purpose": "dev"})  # no expiry: never the reaper's


def test_reap_destroys_only_expired_unlocked_stacks_and_reports_each(fake: Fake) -> None:
    _seed(fake)
    stale_pid = json.loads(next((fake.state / ".pulumi" / "locks").glob("**/ci-stale/*.json")).read_text())["pid"]
    done = fake.servebox("reap", "--now", NOW)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["now"] == NOW and report["dry_run"] is False
    by_stack = {entry["stack"]: entry for entry in report["stacks"]}
    assert sorted(by_stack) == ["ci-elsewhere", "ci-fresh", "ci-garbled", "ci-live", "ci-old", "ci-stale"]
    assert by_stack["ci-old"] == {
        "stack": "ci-old", "expires_at": EXPIRED, "action": "destroyed", "reason": "expired",
        "cleanup": {"destroyed": True, "stack_removed": True, "work_dir_removed": True, "left": [], "error": None},
    }
    assert by_stack["ci-fresh"] == {"stack": "ci-fresh", "expires_at": "2026-12-01T12:00:01Z", "action": "kept",
                                    "reason": "not expired yet"}
    assert by_stack["ci-live"]["action"] == "skipped"
    assert by_stack["ci-live"]["reason"] == (
        f"locked by a live update (pid {os.getpid()} on {socket.gethostname()}, since 2026-12-01T10:00:00Z)")
    assert by_stack["ci-elsewhere"]["reason"] == (
        "locked from another host (runner-7, pid 4242, since 2026-12-01T10:00:00Z); "
        "whether that update still runs cannot be told from here")
    assert by_stack["ci-stale"]["reason"] == (
        f"a stale lock (pid {stale_pid} on this host is gone, since 2026-12-01T10:00:00Z); after making sure no "
        "update of it runs: pulumi cancel --yes --stack ci-stale, then servebox reap again")
    assert by_stack["ci-garbled"]["reason"].startswith("servebox:expires-at is 'tomorrow', not an ISO 8601 time; fix:")
    # Only the expired, unlocked stack was touched; no lock was ever broken.
    touched = {tuple(c["args"][:1]) for c in fake.calls() if any(s in c["args"] for s in by_stack if s != "ci-old")}
    assert touched <= {("stack",)}
    assert [c["args"][:1] for c in fake.calls() if c["args"][:1] in (["destroy"], ["cancel"])] == [["destroy"]]
    assert fake.stacks() == ["ci-elsewhere", "ci-fresh", "ci-garbled", "ci-live", "ci-stale", "kind"]


def test_a_dry_run_destroys_nothing(fake: Fake) -> None:
    _seed(fake)
    done = fake.servebox("reap", "--dry-run", "--now", NOW)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(e["stack"], e["action"]) for e in report["stacks"] if e["action"] == "would_destroy"] == [("ci-old", "would_destroy")]
    assert "destroy" not in fake.verbs() and "stack rm" not in fake.verbs()
    assert len(fake.stacks()) == 7


def test_without_now_the_clock_decides(fake: Fake) -> None:
    fake.seed_stack("ci-past", {"servebox:expires-at": "2000-01-01T00:00:00Z"})
    fake.seed_stack("ci-future", {"servebox:expires-at": "2999-01-01T00:00:00Z"})
    done = fake.servebox("reap")
    assert done.returncode == 0, done.stderr
    assert {e["stack"]: e["action"] for e in json.loads(done.stdout)["stacks"]} == {"ci-future": "kept", "ci-past": "destroyed"}
    assert fake.stacks() == ["ci-future"]


def test_a_failed_destroy_exits_14(fake: Fake) -> None:
    fake.seed_stack("ci-old", {"servebox:expires-at": EXPIRED})
    fake.script(rules=[{"command": "destroy", "action": "fail", "stderr": "error: the VM is protected"}])
    done = fake.servebox("reap", "--now", NOW)
    assert done.returncode == 14
    (entry,) = json.loads(done.stdout)["stacks"]
    assert entry["action"] == "failed" and entry["cleanup"]["error"] == "error: the VM is protected"


def test_a_bad_now_is_refused(fake: Fake) -> None:
    done = fake.servebox("reap", "--now", "noon")
    assert done.returncode == 2
    assert done.stderr.strip() == "servebox reap: error: --now: got 'noon'; expected an ISO 8601 time such as 2026-12-01T18:00:00Z"
    assert fake.calls() == []  # refused before the CLI is even asked its version
