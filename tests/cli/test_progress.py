"""The progress view, driven by engine events: the numbers it shows are the numbers of events.

tests/cli/events/*.jsonl are engine events in the CLI's event-log format (one EngineEvent JSON per
line, as `pulumi up --event-log` writes them and automation/events.py parses them). They were
written for this test in that format, for this program's resource types; no CLI is available here
to record a real run. The counts expected below are computed from the file, then also pinned.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pulumi import automation as auto
from rich.console import Console

from servebox.progress import ResourceProgress, UpdateView, WorkshopView

EVENTS = Path(__file__).with_name("events") / "up-kind-istiod-fails.jsonl"


def _events() -> list[auto.EngineEvent]:
    return [auto.EngineEvent.from_json(json.loads(line)) for line in EVENTS.read_text().splitlines()]


def _expected() -> tuple[int, int, int]:
    raw = [json.loads(line) for line in EVENTS.read_text().splitlines()]
    changing = {e["resourcePreEvent"]["metadata"]["urn"] for e in raw
                if "resourcePreEvent" in e and e["resourcePreEvent"]["metadata"]["op"] != "same"}
    done = sum(1 for e in raw if "resOutputsEvent" in e and e["resOutputsEvent"]["metadata"]["urn"] in changing)
    failed = sum(1 for e in raw if "resOpFailedEvent" in e)
    return done, len(changing), failed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_counts_are_the_counts_of_events() -> None:
    clock = Clock()
    progress = ResourceProgress(clock)
    for event in _events():
        progress.on_event(event)
    clock.now = 195.0
    snapshot = progress.snapshot()
    assert (snapshot.done, snapshot.total, snapshot.failed) == _expected() == (6, 7, 1)
    assert snapshot.line("up kind") == "up kind: 6/7 resources, 1 failed, finished, 95s"


def test_plain_lines_show_each_step_as_it_starts() -> None:
    clock = Clock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    progress = ResourceProgress(clock)
    with UpdateView("up kind", console, progress):
        for index, event in enumerate(_events()):
            clock.now = 100.0 + index
            progress.on_event(event)
    lines = out.getvalue().splitlines()
    assert lines[0] == "up kind: 0/1 resources, create servebox:cluster:KindCluster cluster, 2s"
    # One line per step that starts (the stack itself, `same`, is not a step); the counts of done and
    # failed resources are those of the outputs and failure events so far.
    assert len(lines) == 9
    assert lines[6] == "up kind: 0/7 resources, update kubernetes:helm.sh/v3:Release platform-kserve, 9s"
    assert lines[7] == "up kind: 5/7 resources, 1 failed, failed kubernetes:helm.sh/v3:Release platform-istiod, 17s"
    assert lines[8] == "up kind: 6/7 resources, 1 failed, finished, 20s"


def test_the_live_view_on_a_terminal_ends_on_the_final_counts() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    progress = ResourceProgress(Clock())
    with UpdateView("up kind", console, progress):
        for event in _events():
            progress.on_event(event)
    assert "up kind: 6/7 resources, 1 failed, finished, 0s" in out.getvalue()


def test_the_workshop_view_shows_each_attendees_phase_elapsed_and_result() -> None:
    clock = Clock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    view = WorkshopView(console, clock)
    view.add("ada", "ws-ada")
    view.add("bob", "ws-bob")
    progress = ResourceProgress(clock)
    with view:
        view.update("ada", phase="up", progress=progress)
        for event in _events()[:5]:
            progress.on_event(event)
        clock.now = 130.0
        view.update("ada", phase="done", result="up: http://mnist.models.ws-ada.sslip.io")
        view.update("bob", phase="failed", result="failed (attempt 2/2)")
    assert out.getvalue().splitlines() == [
        "ada (ws-ada): up, 0s",
        "ada (ws-ada): done, 30s up: http://mnist.models.ws-ada.sslip.io",
        "bob (ws-bob): failed, 0s failed (attempt 2/2)",
    ]
    table = Console(file=io.StringIO(), width=160, force_terminal=False)
    table.print(view.table())
    rendered = table.file.getvalue()
    assert "ws-ada" in rendered and "done" in rendered and "30s" in rendered and "failed (attempt 2/2)" in rendered


@pytest.mark.parametrize("op", ["same", "read"])
def test_unchanged_resources_are_not_counted(op: str) -> None:
    progress = ResourceProgress(Clock())
    meta = {"op": op, "urn": "urn:pulumi:kind::servebox::pulumi:pulumi:Stack::servebox-kind", "type": "pulumi:pulumi:Stack"}
    progress.on_event(auto.EngineEvent.from_json({"sequence": 1, "timestamp": 1, "resourcePreEvent": {"metadata": meta}}))
    progress.on_event(auto.EngineEvent.from_json({"sequence": 2, "timestamp": 2, "resOutputsEvent": {"metadata": meta}}))
    assert (progress.snapshot().done, progress.snapshot().total) == (0, 0)
