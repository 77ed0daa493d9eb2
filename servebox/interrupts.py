"""servebox owns SIGINT and SIGTERM while the Pulumi CLI runs as its child.

The Automation API starts the CLI in servebox's own process group, so a terminal's ^C (or a CI
runner's SIGTERM to the group) reaches both, Python raises KeyboardInterrupt and `Popen.__exit__`
abandons the CLI mid-cancel after 0.25 s, leaving a stale lock and pending operations
(ops-and-own-model.md §1.6, pulumi/pulumi#9103). So `OwnedPulumiCommand` starts every CLI child
in a session of its own, where the terminal's signal does not reach it, and `Interrupts` catches
the signal in servebox and forwards one SIGINT to each running child: the CLI's graceful cancel
("^C received; cancelling"), while servebox keeps reading its pipes and then cleans up.

While servebox cleans up (destroy, stack rm) further signals are noted and not forwarded: the
cleanup that the signal asked for must not be cancelled by the signal's repetition.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping

from pulumi.automation import PulumiCommand
from pulumi.automation._cmd import CommandResult, OnOutput, _fixup_path, _parse_and_validate_pulumi_version
from pulumi.automation._env import _SKIP_VERSION_CHECK_VAR
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

SIGNAL_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class Interrupts:
    """Why servebox was asked to stop (a signal or its own timeout), and the CLI children to tell."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen[str]] = set()
        self._shielded = 0
        self.reason: str | None = None
        """None, "SIGINT", "SIGTERM" or "timeout": the first reason to stop."""
        self.stopped = threading.Event()
        """Set with the first reason: loops that wait (the smoke test, the workshop queue) watch it."""
        self.ignored: list[str] = []
        """Signals that arrived while cleaning up, which were not forwarded."""

    def install(self) -> None:
        """Catch SIGINT and SIGTERM from now on (main thread only, as Python requires)."""
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop(SIGNAL_NAMES.get(signal.Signals(signum), str(signum)))

    def stop(self, reason: str) -> None:
        """Record the reason and ask every running CLI child to cancel (unless cleaning up)."""
        with self._lock:
            if self._shielded:
                self.ignored.append(reason)
                return
            if self.reason is None:
                self.reason = reason
            self.stopped.set()
            children = list(self._children)
        for child in children:
            # The child leads its own session (start_new_session), so its process group id is its
            # pid: the CLI, its language host and plugins get the one SIGINT a terminal's ^C would give them.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGINT)

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Cleanup runs here: signals are noted, not forwarded, so the destroy finishes."""
        with self._lock:
            self._shielded += 1
        try:
            yield
        finally:
            with self._lock:
                self._shielded -= 1

    def _started(self, child: subprocess.Popen[str]) -> None:
        with self._lock:
            self._children.add(child)
            forward_now = self.reason is not None and not self._shielded
        if forward_now:
            # A stop that came before this child started (between two calls) cancels it at once.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGINT)

    def _finished(self, child: subprocess.Popen[str]) -> None:
        with self._lock:
            self._children.discard(child)


class OwnedPulumiCommand(PulumiCommand):
    """The Automation API's PulumiCommand, with each CLI child in its own session, known to Interrupts.

    `run` is PulumiCommand.run of the pinned SDK (pulumi 3.x, automation/_cmd.py) with two changes:
    `start_new_session=True`, and the child registered with `interrupts` while it runs.
    """

    def __init__(self, command: str, interrupts: Interrupts, minimum_version: VersionInfo) -> None:  # noqa: D107
        # Not super().__init__, which looks for the CLI at `<root>/bin/pulumi`: this runs the one on
        # PATH wherever it is installed, with the SDK's own version check (refusing one older than
        # minimum_version).
        self.command = command
        self.interrupts = interrupts
        env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        current = subprocess.check_output([command, "version"], env=env, stdin=subprocess.DEVNULL).decode().strip()
        self.version = _parse_and_validate_pulumi_version(
            min_version=minimum_version,
            current_version=current.removeprefix("v"),
            opt_out=os.getenv(_SKIP_VERSION_CHECK_VAR) is not None,
        )

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: OnOutput | None = None,
        on_error: OnOutput | None = None,
    ) -> CommandResult:
        sep_index = args.index("--") if "--" in args else len(args)
        if "--non-interactive" not in args[:sep_index]:
            args.insert(0, "--non-interactive")
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        if os.path.isabs(self.command):
            env = _fixup_path(env, os.path.dirname(self.command))
        stdout_chunks: list[str] = []
        stderr_chunks: list[str] = []

        def consumer(stream, callback, chunks) -> None:  # noqa: ANN001  (the SDK's own shape)
            for line in iter(stream.readline, ""):
                stripped = line.rstrip()
                if callback:
                    callback(stripped)
                chunks.append(stripped)
            stream.close()

        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            start_new_session=True,
        ) as process:
            self.interrupts._started(process)
            try:
                readers = [
                    threading.Thread(target=consumer, args=(process.stdout, on_output, stdout_chunks), daemon=True),
                    threading.Thread(target=consumer, args=(process.stderr, on_error, stderr_chunks), daemon=True),
                ]
                for reader in readers:
                    reader.start()
                for reader in readers:
                    reader.join()
                process.wait()
            finally:
                self.interrupts._finished(process)
        result = CommandResult(stderr="\n".join(stderr_chunks), stdout="\n".join(stdout_chunks), code=process.returncode)
        if process.returncode != 0:
            raise create_command_error(result)
        return result
