"""`servebox workshop up|status|down`: one stack per attendee, at most N at a time.

Each stack runs in a work directory of its own (pulumi/pulumi#8186: parallel stack init/select in
one directory corrupt the workspace file), on one shared backend. A failed attendee is retried
once (a second `up` of the same stack, which resumes where the first stopped), then reported; it
never holds the others up. Every stack carries the tags `servebox:workshop=<event>` (how status
and down find them) and `servebox:expires-at` (how the reaper finds them if nobody runs down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from rich.console import Console
from rich.table import Table

from servebox import lifecycle, roster, stacks
from servebox.outcomes import Outcome
from servebox.progress import ResourceProgress, WorkshopView
from servebox.stacks import Pulumi

TAG_WORKSHOP = "servebox:workshop"
ATTEMPTS = 2
"""One try and one retry."""
KIND_PORT_BASE = 8100
"""kind stacks on one machine each need their own two host ports: 8100/8101, 8102/8103, ..."""
PLAN_B = (
    "if your stack is not up, run servebox on your own laptop: git clone the project, then "
    "scripts/up.sh (a local kind cluster; Docker needed), and the same request works at http://127.0.0.1:8080"
)


@dataclass(frozen=True)
class WorkshopOptions:
    """What `servebox workshop up` was asked to do."""

    roster_path: Path
    event: str = "ws"
    """Names the stacks (<event>-<attendee>) and the servebox:workshop tag."""
    parallel: int = 4
    settings: Mapping[str, str] = field(default_factory=dict)
    ttl_hours: float = 10.0
    out_dir: Path = Path(".")
    """Where roster.csv and roster.html are written."""


@dataclass
class AttendeeResult:
    """What happened to one attendee's stack."""

    attendee: roster.Attendee
    status: str = "waiting"
    attempts: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    expires_at: str = ""


def note_model_cidrs(settings: Mapping[str, str], console: Console) -> None:
    """On a VM target without modelCidrs: say that only this machine may call the models."""
    if settings.get("target", "kind") in ("gcp", "aws") and "modelCidrs" not in settings:
        console.print(
            "note: modelCidrs is auto: only this machine's address may call the models. For attendees "
            "elsewhere: --set modelCidrs=<the venue's CIDR> (or 0.0.0.0/0)", markup=False, highlight=False)


def validate_parallel(value: int) -> int:
    """--parallel must be at least 1."""
    if value < 1:
        raise stacks.ServeboxError(f"--parallel: got {value}; expected a whole number of stacks at a time, 1 or more")
    return value


def attendee_settings(base: Mapping[str, str], index: int) -> dict[str, str]:
    """The roster's --set values, plus host ports of its own for a kind stack, and no model API key
    (unless --set says): the roster hands out ready requests, and holds no secret to put in them."""
    settings = dict(base)
    settings.setdefault("modelAuth", "none")
    if settings.get("target", "kind") == "kind":
        settings.setdefault("kindHostPort", str(KIND_PORT_BASE + 2 * index))
        settings.setdefault("kindStoreHostPort", str(KIND_PORT_BASE + 2 * index + 1))
    return settings


class Workshop:
    """Runs one workshop's stacks."""

    def __init__(
        self,
        pulumi: Pulumi,
        console: Console,
        *,
        now: Callable[[], datetime] = stacks.utc_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pulumi = pulumi
        self.interrupts = pulumi.interrupts
        self.console = console
        self.now = now
        self.clock = clock

    # --- up ---------------------------------------------------------------------------------

    def up(self, options: WorkshopOptions) -> tuple[Outcome, list[AttendeeResult]]:
        """Bring every attendee's stack up, write the roster; PASSED only when all are up."""
        attendees = roster.read_attendees(options.roster_path, options.event)
        validate_parallel(options.parallel)
        results = [AttendeeResult(a) for a in attendees]
        note_model_cidrs(options.settings, self.console)
        view = WorkshopView(self.console, self.clock)
        for attendee in attendees:
            view.add(attendee.attendee, attendee.stack)
        tags = {**lifecycle.expiry_tags("workshop", self.now(), options.ttl_hours), TAG_WORKSHOP: options.event}
        with view, ThreadPoolExecutor(max_workers=options.parallel, thread_name_prefix="attendee") as pool:
            futures = [
                pool.submit(self._bring_up, result, attendee_settings(options.settings, index), tags, view)
                for index, result in enumerate(results)
            ]
            self._wait(futures)
        options.out_dir.mkdir(parents=True, exist_ok=True)
        rows = [self._row(result) for result in results]
        roster.write_csv(rows, options.out_dir / "roster.csv")
        (options.out_dir / "roster.html").write_text(
            roster.render_html(rows, event=options.event, teardown=f"servebox workshop down --event {options.event}", plan_b=PLAN_B)
        )
        if self.interrupts.reason:
            return Outcome.INTERRUPTED, results
        if any(result.status != "up" for result in results):
            return Outcome.UP_FAILED, results
        return Outcome.PASSED, results

    def _wait(self, futures: Sequence[Any]) -> None:
        # The main thread must stay free for signal handlers: wait in short slices, never forever.
        while not all(future.done() for future in futures):
            time.sleep(0.05)
        for future in futures:
            future.result()

    def _bring_up(self, result: AttendeeResult, settings: Mapping[str, str], tags: Mapping[str, str],
                  view: WorkshopView) -> None:
        name = result.attendee.attendee
        result.expires_at = tags[stacks.TAG_EXPIRES_AT]
        while result.attempts < ATTEMPTS:
            if self.interrupts.reason:
                result.status = "interrupted"
                view.update(name, phase="not started" if result.attempts == 0 else "stopped", result="interrupted")
                return
            result.attempts += 1
            progress = ResourceProgress(self.clock)
            view.update(name, phase="create" if result.attempts == 1 else f"retry {result.attempts - 1}", progress=progress)
            try:
                stack = lifecycle.create(self.pulumi, result.attendee.stack, settings, tags, existing_ok=True)
                view.update(name, phase="up")
                result.outputs = lifecycle.up(stack, progress.on_event, lambda _line: None)
                result.status, result.error = "up", None
                view.update(name, phase="done", result=f"up: {result.outputs.get('endpoint') or ''}")
                return
            except (auto.CommandError, OSError) as error:
                # OSError: the attendee's work directory could not be made; the others go on.
                result.error = lifecycle.cli_error(error, 4)
                result.status = "interrupted" if self.interrupts.reason else "failed"
                view.update(name, phase="failed", result=f"{result.status} (attempt {result.attempts}/{ATTEMPTS})")

    def _row(self, result: AttendeeResult) -> dict[str, str]:
        return {
            "attendee": result.attendee.attendee,
            "name": result.attendee.name,
            "stack": result.attendee.stack,
            "status": result.status,
            "endpoint": str(result.outputs.get("endpoint") or ""),
            "request": str(result.outputs.get("curl") or ""),
            "expires_at": result.expires_at,
            "error": result.error or "",
        }

    # --- status and down --------------------------------------------------------------------

    def stacks_of(self, event: str) -> list[tuple[str, dict[str, str]]]:
        """The event's stacks (tag servebox:workshop=<event>) with their tags."""
        names = self.pulumi.list_stacks(tag=f"{TAG_WORKSHOP}={event}")
        return [(name, self.pulumi.tags(name)) for name in names]

    def status(self, event: str) -> list[dict[str, Any]]:
        """One line per stack: tags, endpoint, whether an update holds its lock."""
        lines = []
        for name, tags in self.stacks_of(event):
            outputs = stacks.visible_outputs(auto.Stack.select(name, self.pulumi.workspace_for(name, refresh=False)).outputs())
            locks = self.pulumi.locks(name)
            lines.append({
                "stack": name,
                "endpoint": outputs.get("endpoint"),
                "expires_at": tags.get(stacks.TAG_EXPIRES_AT),
                "updating": any(lock.alive is not False for lock in locks),
            })
        return lines

    def down(self, event: str, parallel: int) -> tuple[Outcome, list[dict[str, Any]]]:
        """Destroy and remove every stack of the event, at most `parallel` at a time."""
        validate_parallel(parallel)
        names = [name for name, _tags in self.stacks_of(event)]
        view = WorkshopView(self.console, self.clock)
        for name in names:
            view.add(name, name)
        reports: dict[str, dict[str, Any]] = {}
        lock = threading.Lock()

        def tear(name: str) -> None:
            progress = ResourceProgress(self.clock)
            view.update(name, phase="down", progress=progress)
            cleanup = lifecycle.tear_down(self.pulumi, name, on_event=progress.on_event)
            with lock:
                reports[name] = {"stack": name, **cleanup.as_json()}
            view.update(name, phase="done", result="removed" if cleanup.complete else "LEFT: " + "; ".join(cleanup.left))

        with self.interrupts.shielded(), view, ThreadPoolExecutor(max_workers=parallel) as pool:
            self._wait([pool.submit(tear, name) for name in names])
        ordered = [reports[name] for name in names]
        incomplete = any(report["left"] for report in ordered)
        return (Outcome.CLEANUP_INCOMPLETE if incomplete else Outcome.PASSED), ordered


def status_table(lines: Sequence[Mapping[str, Any]]) -> Table:
    """`servebox workshop status` on a terminal."""
    table = Table("stack", "endpoint", "expires at", "updating", title="servebox workshop status")
    for line in lines:
        table.add_row(line["stack"], str(line["endpoint"] or ""), str(line["expires_at"] or ""), "yes" if line["updating"] else "")
    return table
