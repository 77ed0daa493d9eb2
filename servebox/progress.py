"""The live progress view: resources done of total, the step now running, elapsed; or plain lines.

Counted from the Automation API's engine events (ops-and-own-model.md §1.3): a resource to change
is announced by a ResourcePreEvent whose op is not `same`, and is done at its ResOutputsEvent (or
failed at its ResOpFailedEvent). The callback runs on the SDK's gRPC worker threads, so the
counts are kept under a lock. On a terminal, rich draws a live line (or a table for a workshop);
elsewhere (CI logs) each change of step is one plain line on stderr.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pulumi import automation as auto
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

_UNCHANGED = {auto.OpType.SAME, auto.OpType.READ}


@dataclass(frozen=True)
class Snapshot:
    """What the view shows at one moment."""

    done: int
    total: int
    failed: int
    step: str
    elapsed: float

    def line(self, label: str) -> str:
        """One line of text, the same on a terminal and in a log."""
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{label}: {self.done}/{self.total} resources{failed}, {self.step}, {self.elapsed:.0f}s"


def _resource_name(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type chain>::<name>
    parts = urn.split("::")
    type_ = parts[2].rsplit("$", 1)[-1] if len(parts) > 2 else ""
    return f"{type_} {parts[-1]}".strip()


class ResourceProgress:
    """Counts one update's engine events; `on_event` is the Automation API's on_event callback."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._started = clock()
        self._pending: set[str] = set()
        self._done = 0
        self._failed = 0
        self._total = 0
        self._step = "starting"
        self.listeners: list[Callable[[Snapshot], None]] = []

    def on_event(self, event: auto.EngineEvent) -> None:
        """Count one engine event (thread-safe)."""
        with self._lock:
            changed = self._count(event)
        if changed:
            snapshot = self.snapshot()
            for listener in self.listeners:
                listener(snapshot)

    def _count(self, event: auto.EngineEvent) -> bool:
        if event.resource_pre_event and not event.resource_pre_event.planning:
            meta = event.resource_pre_event.metadata
            if meta.op in _UNCHANGED:
                return False
            self._total += 1
            self._pending.add(meta.urn)
            self._step = f"{meta.op.value} {_resource_name(meta.urn)}"
            return True
        if event.res_outputs_event and not event.res_outputs_event.planning:
            meta = event.res_outputs_event.metadata
            if meta.urn not in self._pending:
                return False
            self._pending.discard(meta.urn)
            self._done += 1
            return True
        if event.res_op_failed_event:
            meta = event.res_op_failed_event.metadata
            self._pending.discard(meta.urn)
            self._failed += 1
            self._step = f"failed {_resource_name(meta.urn)}"
            return True
        if event.summary_event:
            self._step = "finished"
            return True
        return False

    def snapshot(self) -> Snapshot:
        """The counts now."""
        with self._lock:
            return Snapshot(self._done, self._total, self._failed, self._step, self._clock() - self._started)


class UpdateView:
    """Shows one stack's update: a live line on a terminal, a plain line per step elsewhere."""

    def __init__(self, label: str, console: Console, progress: ResourceProgress) -> None:
        self.label = label
        self.console = console
        self.progress = progress
        self._live: Live | None = None
        self._last_step = ""
        progress.listeners.append(self._changed)

    def _changed(self, snapshot: Snapshot) -> None:
        if self._live is not None:
            self._live.update(Text(snapshot.line(self.label)))
        elif snapshot.step != self._last_step:
            self._last_step = snapshot.step
            self.console.print(snapshot.line(self.label), markup=False, highlight=False)

    def __enter__(self) -> UpdateView:
        if self.console.is_terminal:
            self._live = Live(Text(self.progress.snapshot().line(self.label)), console=self.console, refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(Text(self.progress.snapshot().line(self.label)))
            self._live.__exit__(None, None, None)
            self._live = None


@dataclass
class Row:
    """One attendee's line in the workshop view."""

    attendee: str
    stack: str
    phase: str = "waiting"
    started: float | None = None
    result: str = ""
    progress: ResourceProgress | None = None


class WorkshopView:
    """A table of attendees (attendee, phase, elapsed, result) on a terminal; plain lines elsewhere."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.clock = clock
        self.rows: dict[str, Row] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def add(self, attendee: str, stack: str) -> None:
        """A row for each attendee, in roster order."""
        self.rows[attendee] = Row(attendee, stack)

    def update(self, attendee: str, *, phase: str | None = None, result: str | None = None,
               progress: ResourceProgress | None = None) -> None:
        """Change an attendee's phase or result (thread-safe); a plain line elsewhere than a terminal."""
        with self._lock:
            row = self.rows[attendee]
            if phase is not None:
                row.phase = phase
                if row.started is None:
                    row.started = self.clock()
            if result is not None:
                row.result = result
            if progress is not None:
                row.progress = progress
            line = self._line(row)
        if self._live is not None:
            self._live.update(self.table())
        else:
            self.console.print(line, markup=False, highlight=False)

    def _elapsed(self, row: Row) -> str:
        return f"{self.clock() - row.started:.0f}s" if row.started is not None else "-"

    def _line(self, row: Row) -> str:
        result = f" {row.result}" if row.result else ""
        return f"{row.attendee} ({row.stack}): {row.phase}, {self._elapsed(row)}{result}"

    def table(self) -> Table:
        """The current table."""
        table = Table("attendee", "stack", "phase", "elapsed", "result", title="servebox workshop")
        for row in self.rows.values():
            phase = row.phase
            if row.progress is not None and row.phase in ("up", "down"):
                snap = row.progress.snapshot()
                phase = f"{row.phase} {snap.done}/{snap.total}"
            table.add_row(row.attendee, row.stack, phase, self._elapsed(row), row.result)
        return table

    def __enter__(self) -> WorkshopView:
        if self.console.is_terminal:
            self._live = Live(Group(self.table()), console=self.console, refresh_per_second=2,
                              get_renderable=self.table)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self.table())
            self._live.__exit__(None, None, None)
            self._live = None
