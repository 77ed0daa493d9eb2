"""`servebox workshop up|status|down` against the fake Pulumi CLI: the parallelism bound, one work
directory per stack, the retry, the roster files, roster validation by row, and teardown."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.cli.conftest import Fake, serving_outputs

ATTENDEES = ["ada", "bob", "carol", "dan", "eve"]


def _roster(tmp_path: Path, rows: list[str], header: str = "attendee,name,email") -> Path:
    path = tmp_path / "attendees.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda p: (p[0], p[1]))
    running = peak = 0
    for _, step in points:
        running += step
        peak = max(peak, running)
    return peak


def _outputs() -> dict:
    outputs = serving_outputs("http://127.0.0.1:9/v2/models/mnist/infer")
    outputs["endpoint"] = "http://mnist.models.{stack}.sslip.io"
    outputs["curl"] = "curl -sS -H 'Host: mnist.models.{stack}.sslip.io' http://203.0.113.9/v2/models/mnist/infer -d '{...}'"
    return outputs


def test_up_runs_at_most_n_at_a_time_each_in_its_own_work_dir_retries_once_and_writes_the_roster(
    fake: Fake, tmp_path: Path
) -> None:
    fake.script(outputs=_outputs(), secret_outputs=["kubeconfig"], resources=2, rules=[
        {"command": "up", "stack": "ws-bob", "times": 1, "action": "fail", "stderr": "error: transient: quota"},
        {"command": "up", "stack": "ws-carol", "action": "fail", "stderr": "error: carol's zone has no capacity"},
        {"command": "up", "hold": 0.4},
    ])
    roster = _roster(tmp_path, [f"{name},{name.title()} Example,{name}@example.com" for name in ATTENDEES])
    done = fake.servebox("workshop", "up", "--roster", str(roster), "--parallel", "2", "--out", str(tmp_path / "out"),
                         timeout=120)
    assert done.returncode == 10, done.stderr  # one attendee failed: up_failed

    ups = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    stacks_up = [c["args"][c["args"].index("--stack") + 1] for c in ups]
    assert sorted(stacks_up) == sorted(["ws-ada", "ws-bob", "ws-bob", "ws-carol", "ws-carol", "ws-dan", "ws-eve"])
    assert _max_overlap([(c["start"], c["end"]) for c in ups]) == 2  # the bound, and reached
    # One work directory per stack: init, config and up of a stack all ran in its own copy.
    for name in ATTENDEES:
        stack = f"ws-{name}"
        cwds = {c["cwd"] for c in fake.calls() if stack in c["args"] and c["args"][:2] != ["stack", "tag"]}
        assert cwds == {str(fake.work_root / stack)}, (stack, cwds)
    # Each kind stack got host ports of its own.
    ports = {name: fake.stack(f"ws-{name}")["config"]["servebox:kindHostPort"] for name in ATTENDEES}
    assert sorted(ports.values()) == ["8100", "8102", "8104", "8106", "8108"]
    # The roster holds no secret, so its ready requests need none: no API key unless --set asks.
    assert {fake.stack(f"ws-{n}")["config"]["servebox:modelAuth"] for n in ATTENDEES} == {"none"}
    assert {fake.stack(f"ws-{n}")["tags"]["servebox:workshop"] for n in ATTENDEES} == {"ws"}

    rows = list(csv.DictReader((tmp_path / "out" / "roster.csv").read_text().splitlines()))
    assert [row["attendee"] for row in rows] == ATTENDEES
    assert [row["status"] for row in rows] == ["up", "up", "failed", "up", "up"]
    assert rows[0]["endpoint"] == "http://mnist.models.ws-ada.sslip.io"
    assert rows[0]["request"].startswith("curl -sS -H 'Host: mnist.models.ws-ada.sslip.io'")
    assert rows[2]["error"] == "error: carol's zone has no capacity" and rows[2]["endpoint"] == ""
    assert rows[1]["error"] == ""  # bob's retry worked
    assert all(row["expires_at"].endswith("Z") for row in rows)
    assert "carol (row 4): failed after 2 attempt(s): error: carol's zone has no capacity" in done.stderr
    assert "4/5 stacks up" in done.stderr
    html = (tmp_path / "out" / "roster.html").read_text()
    assert "SECRET-TOKEN" not in html + done.stdout + done.stderr + (tmp_path / "out" / "roster.csv").read_text()

    status = fake.servebox("workshop", "status", "--json")
    assert status.returncode == 0, status.stderr
    lines = json.loads(status.stdout)
    assert [line["stack"] for line in lines] == [f"ws-{n}" for n in sorted(ATTENDEES)]
    assert lines[0]["endpoint"] == "http://mnist.models.ws-ada.sslip.io" and lines[0]["updating"] is False


def test_down_destroys_every_stack_of_the_event_at_most_n_at_a_time(fake: Fake) -> None:
    for name in ATTENDEES:
        fake.seed_stack(f"ws-{name}", {"servebox:workshop": "ws", "servebox:expires-at": "2026-12-02T08:00:00Z"})
    fake.seed_stack("ws2-zed", {"servebox:workshop": "ws2"})
    fake.seed_stack("kind", {})
    fake.script(rules=[{"command": "destroy", "hold": 0.3}])
    done = fake.servebox("workshop", "down", "--parallel", "3", timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [s["stack"] for s in report["stacks"]] == [f"ws-{n}" for n in sorted(ATTENDEES)]
    assert all(s["left"] == [] and s["destroyed"] and s["stack_removed"] for s in report["stacks"])
    destroys = [c for c in fake.calls() if c["args"][:1] == ["destroy"]]
    assert len(destroys) == 5 and _max_overlap([(c["start"], c["end"]) for c in destroys]) == 3
    assert fake.stacks() == ["kind", "ws2-zed"]  # another event's stack and the workstation's stay


def test_down_reports_a_stack_it_could_not_destroy_with_exit_14(fake: Fake) -> None:
    fake.seed_stack("ws-ada", {"servebox:workshop": "ws"})
    fake.seed_stack("ws-bob", {"servebox:workshop": "ws"})
    fake.script(rules=[{"command": "destroy", "stack": "ws-bob", "action": "fail", "stderr": "error: bucket not empty"}])
    done = fake.servebox("workshop", "down")
    assert done.returncode == 14
    report = {s["stack"]: s for s in json.loads(done.stdout)["stacks"]}
    assert report["ws-ada"]["left"] == []
    assert report["ws-bob"]["left"] == ["the resources of stack ws-bob (pulumi destroy failed)", "stack ws-bob in the backend"]
    assert fake.stacks() == ["ws-bob"]


def test_a_bad_roster_is_reported_by_row_and_nothing_is_created(fake: Fake, tmp_path: Path) -> None:
    roster = _roster(tmp_path, ["ada,Ada,", "Bob Smith,Bob,", "ada,Ada again,", ",,", "x" * 40 + ",Long,", "eve_1,Eve,"])
    done = fake.servebox("workshop", "up", "--roster", str(roster))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"servebox workshop: error: --roster {roster}:",
        "  row 3: attendee 'Bob Smith' gives stack 'ws-Bob Smith', which is not valid: use lower-case letters, digits "
        "and '-', starting with a letter, not ending with '-', at most 31 characters for '<event>-<attendee>'",
        "  row 4: attendee 'ada' repeats row 2; each attendee needs an id of their own",
        f"  row 6: attendee '{'x' * 40}' gives stack 'ws-{'x' * 40}', which is not valid: use lower-case letters, digits "
        "and '-', starting with a letter, not ending with '-', at most 31 characters for '<event>-<attendee>'",
        "  row 7: attendee 'eve_1' gives stack 'ws-eve_1', which is not valid: use lower-case letters, digits "
        "and '-', starting with a letter, not ending with '-', at most 31 characters for '<event>-<attendee>'",
    ]
    assert fake.commands() == []


def test_a_roster_without_an_attendee_column_and_a_bad_parallel_are_refused(fake: Fake, tmp_path: Path) -> None:
    roster = _roster(tmp_path, ["ada"], header="user")
    done = fake.servebox("workshop", "up", "--roster", str(roster))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"servebox workshop: error: --roster {roster}: no 'attendee' column in the header row "
                                   "(found: user); the first line must name the columns, e.g. attendee,name,email")
    roster = _roster(tmp_path, ["ada"])
    done = fake.servebox("workshop", "up", "--roster", str(roster), "--parallel", "0")
    assert done.returncode == 2
    assert done.stderr.strip() == "servebox workshop: error: --parallel: got 0; expected a whole number of stacks at a time, 1 or more"
    assert fake.commands() == []


def test_sigint_cancels_the_running_stacks_starts_no_more_and_still_writes_the_roster(fake: Fake, tmp_path: Path) -> None:
    import signal

    from tests.cli.conftest import finish

    fake.script(outputs=_outputs(), rules=[{"command": "up", "action": "hang"}])
    roster = _roster(tmp_path, [f"{name},," for name in ATTENDEES])
    process = fake.start("workshop", "up", "--roster", str(roster), "--parallel", "2", "--out", str(tmp_path / "out"))
    deadline = __import__("time").monotonic() + 20
    while len([e for e in fake._log() if e["args"][:1] == ["up"]]) < 2 and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    process.send_signal(signal.SIGINT)
    code, _out, err = finish(process)
    assert code == 13, err
    ups = [c for c in fake.calls() if c["args"][:1] == ["up"]]
    assert [c["result"] for c in ups] == ["interrupted:SIGINT", "interrupted:SIGINT"]  # no retry, no new stack
    rows = list(csv.DictReader((tmp_path / "out" / "roster.csv").read_text().splitlines()))
    assert [row["status"] for row in rows] == ["interrupted"] * 5
    assert len(fake.stacks()) == 2  # the organiser removes them: servebox workshop down
