"""`servebox ephemeral`: a stack of its own → up → smoke test → destroy → remove, for a CI job.

Cleanup is guaranteed on a failed up, a failed smoke test, the timeout, SIGINT and SIGTERM: the
signal or the timer asks the running CLI child for its graceful cancel (servebox/interrupts.py),
and teardown then runs shielded from further signals. `--keep-on-failure` keeps a failed stack and
says how to remove it. The JSON summary goes to stdout, or to --summary with a verdict on stderr.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from rich.console import Console

from servebox import lifecycle, stacks
from servebox.outcomes import Outcome
from servebox.progress import ResourceProgress, UpdateView
from servebox.stacks import Pulumi, ServeboxError


@dataclass(frozen=True)
class EphemeralOptions:
    """What `servebox ephemeral` was asked to do."""

    stack: str | None = None
    """The stack's name; None: PREFIX-<random suffix>."""
    settings: Mapping[str, str] = field(default_factory=dict)
    """Config for the stack (--set KEY=VALUE), on top of Pulumi.yaml's defaults."""
    timeout: float | None = None
    """Seconds for create, up and the smoke test together; cleanup is not counted. None: no limit."""
    keep_on_failure: bool = False
    """Keep a stack whose up or smoke test failed or timed out, for debugging (the summary says how to
    remove it); an interrupted run is cleaned up all the same."""
    summary_path: Path | None = None
    """Write the JSON summary here instead of stdout."""
    prefix: str = "ci"
    """Prefix of a generated stack name."""
    ttl_hours: float = 2.0
    """The `servebox:expires-at` tag: now + this; the reaper's backstop if cleanup never ran."""
    smoke_count: int = 20
    min_accuracy: float = 0.8
    smoke_timeout: float = 300.0
    """Seconds the smoke test waits for the endpoint to serve (within --timeout)."""


KEPT_ON_FAILURE = frozenset({Outcome.UP_FAILED, Outcome.SMOKE_FAILED, Outcome.TIMEOUT})
"""What --keep-on-failure keeps; a signal always cleans up (the job, or the person, asked to stop)."""


class _Stopped(Exception):
    """A signal or the timeout came between two steps."""


def stack_name(options: EphemeralOptions) -> str:
    """--stack, or the prefix with a random suffix; refused when it is no valid stack name."""
    name = options.stack or f"{options.prefix}-{secrets.token_hex(3)}"
    problem = stacks.stack_name_problem(name)
    if problem:
        flag = "--stack" if options.stack else "--prefix"
        raise ServeboxError(f"{flag}: {problem}")
    return name


class EphemeralRun:
    """One run; `run()` returns (outcome, summary)."""

    def __init__(
        self,
        options: EphemeralOptions,
        pulumi: Pulumi,
        console: Console,
        *,
        now: Callable[[], datetime] = stacks.utc_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.pulumi = pulumi
        self.interrupts = pulumi.interrupts
        self.console = console
        self.now = now
        self.clock = clock
        self.name = stack_name(options)
        self.tags = lifecycle.expiry_tags("ci", now(), options.ttl_hours)
        self.summary: dict[str, Any] = {
            "stack": self.name,
            "outcome": None,
            "exit_code": None,
            "phases": {},
            "endpoint": None,
            "accuracy": None,
            "smoke": None,
            "error": None,
            "expires_at": self.tags[stacks.TAG_EXPIRES_AT],
            "kept": False,
            "remove_with": None,
            "cleanup": None,
        }

    def _timed(self, phase: str, step: Callable[[], Any]) -> Any:
        started = self.clock()
        try:
            return step()
        finally:
            self.summary["phases"][phase] = round(self.clock() - started, 3)

    def _check_stop(self) -> None:
        if self.interrupts.reason:
            raise _Stopped()

    def _stopped_outcome(self) -> Outcome:
        return Outcome.TIMEOUT if self.interrupts.reason == "timeout" else Outcome.INTERRUPTED

    def run(self) -> tuple[Outcome, dict[str, Any]]:
        """Create, up, smoke test; then always clean up (unless kept)."""
        timer = None
        if self.options.timeout is not None:
            timer = threading.Timer(self.options.timeout, self.interrupts.stop, args=("timeout",))
            timer.daemon = True
            timer.start()
        deadline = None if self.options.timeout is None else self.clock() + self.options.timeout
        stack: auto.Stack | None = None
        ours = True  # False only when the name belongs to a stack that existed before this run
        had_work_dir = self.pulumi.has_own_workspace(self.name)
        outcome = Outcome.PASSED
        try:
            self.console.print(f"servebox ephemeral: stack {self.name}", markup=False, highlight=False)
            self._check_stop()
            stack = self._timed("create", lambda: lifecycle.create(
                self.pulumi, self.name, self.options.settings, self.tags))
            self._check_stop()
            progress = ResourceProgress(self.clock)
            with UpdateView(f"up {self.name}", self.console, progress):
                outputs = self._timed("up", lambda: lifecycle.up(stack, progress.on_event, lambda _line: None))
            self.summary["endpoint"] = outputs.get("endpoint")
            self._check_stop()
            outcome = self._timed("smoke", lambda: self._smoke(outputs, deadline))
            if self.interrupts.reason:
                outcome = self._stopped_outcome()
        except _Stopped:
            outcome = self._stopped_outcome()
        except auto.StackAlreadyExistsError:
            ours = False
            if not had_work_dir:
                # The copy made for the refused stack must not become that stack's work directory.
                self.pulumi.remove_own_workspace(self.name)
            outcome = Outcome.BAD_INPUT
            self.summary["error"] = (
                f"stack {self.name} already exists and is not servebox ephemeral's to destroy; "
                f"pick another --stack (or none, for a generated name), or remove it first: servebox down {self.name}"
            )
        except auto.CommandError as error:
            outcome = self._stopped_outcome() if self.interrupts.reason else Outcome.UP_FAILED
            self.summary["error"] = lifecycle.cli_error(error)
        except Exception as error:  # noqa: BLE001  (whatever went wrong, the stack is still cleaned up)
            outcome = self._stopped_outcome() if self.interrupts.reason else Outcome.UP_FAILED
            self.summary["error"] = f"{type(error).__name__}: {error}"
        finally:
            if timer is not None:
                timer.cancel()
        self.summary["outcome"] = outcome.label
        if not ours:
            self.summary["cleanup"] = lifecycle.Cleanup(destroyed=False).as_json()
        elif outcome in KEPT_ON_FAILURE and self.options.keep_on_failure:
            self.summary["kept"] = True
            self.summary["remove_with"] = f"servebox down {self.name}"
        else:
            outcome = self._clean_up(stack, outcome)
        self.summary["exit_code"] = outcome.code
        return outcome, self.summary

    def _smoke(self, outputs: Mapping[str, Any], deadline: float | None) -> Outcome:
        # Imported here: the client loads scikit-learn (for the held-out digits), a second of start-up
        # that a run failing before its smoke test does not need.
        from servebox import mnist_client, smoke, workstation

        try:
            endpoint = mnist_client.endpoint_from_outputs(outputs, stack=self.name)
        except mnist_client.StackOutputsError as error:
            self.summary["error"] = str(error)
            return Outcome.SMOKE_FAILED
        if endpoint.api_key is None and mnist_client.takes_a_key(outputs):
            endpoint = dataclasses.replace(endpoint, api_key=workstation.api_key(self.pulumi, self.name))
        timeout = self.options.smoke_timeout
        if deadline is not None:
            timeout = max(0.1, min(timeout, deadline - self.clock()))
        code, result = smoke.run(
            endpoint,
            count=self.options.smoke_count,
            min_accuracy=self.options.min_accuracy,
            timeout=timeout,
            max_attempts=60,
            stop=self.interrupts.stopped,
        )
        self.summary["smoke"] = result
        self.summary["accuracy"] = result["accuracy"]
        if code != smoke.EXIT_OK:
            self.summary["error"] = result["error"]
            return Outcome.SMOKE_FAILED
        return Outcome.PASSED

    def _clean_up(self, stack: auto.Stack | None, outcome: Outcome) -> Outcome:
        self.console.print(f"servebox ephemeral: destroying and removing {self.name}", markup=False, highlight=False)
        with self.interrupts.shielded():
            progress = ResourceProgress(self.clock)
            with UpdateView(f"destroy {self.name}", self.console, progress):
                cleanup = self._timed("cleanup", lambda: lifecycle.tear_down(self.pulumi, self.name, stack, progress.on_event))
        self.summary["cleanup"] = cleanup.as_json()
        if self.interrupts.ignored:
            self.summary["cleanup"]["signals_ignored_while_cleaning_up"] = list(self.interrupts.ignored)
        if not cleanup.complete:
            self.summary["outcome"] = Outcome.CLEANUP_INCOMPLETE.label
            self.summary["remove_with"] = f"servebox down {self.name}"
            return Outcome.CLEANUP_INCOMPLETE
        return outcome


def write_summary(summary: Mapping[str, Any], path: Path | None, console: Console) -> None:
    """The JSON summary on stdout, or into `path` with a one-line verdict on stderr."""
    text = json.dumps(summary, indent=2)
    if path is None:
        print(text, flush=True)
    else:
        path.write_text(text + "\n")
    console.print(
        f"servebox ephemeral: {summary['outcome']} (exit {summary['exit_code']}), stack {summary['stack']}"
        + (f", summary in {path}" if path else ""),
        markup=False,
        highlight=False,
    )
