"""The steps every servebox stack goes through: create with config and expiry tags, up, tear down.

`servebox ephemeral`, `workshop` and `reap` differ in what they wrap around these steps, not in the
steps, so a stack made by one can be removed by another.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pulumi import automation as auto

from servebox import stacks
from servebox.stacks import Pulumi

OnEvent = Callable[[auto.EngineEvent], None]


def expiry_tags(purpose: str, now: datetime, ttl_hours: float) -> dict[str, str]:
    """The tags the reaper reads: when the stack expires, what made it, who."""
    return {
        stacks.TAG_EXPIRES_AT: stacks.iso(now + timedelta(hours=ttl_hours)),
        stacks.TAG_PURPOSE: purpose,
        stacks.TAG_CREATED_BY: f"{getpass.getuser()}@{socket.gethostname()}",
    }


def create(
    pulumi: Pulumi,
    name: str,
    settings: Mapping[str, str],
    tags: Mapping[str, str],
    *,
    existing_ok: bool = False,
) -> auto.Stack:
    """A stack in a work directory of its own, with its config and tags set before any `up`.

    The expiry tag goes on before `up`: an `up` killed half-way still leaves a stack the reaper
    finds. `existing_ok` selects a stack of that name instead of failing (a workshop's retry).
    """
    workspace = pulumi.own_workspace(name)
    stack = auto.Stack.create_or_select(name, workspace) if existing_ok else auto.Stack.create(name, workspace)
    if settings:
        stack.set_all_config(stacks.config_map(settings))
    for key, value in tags.items():
        stack.set_tag(key, value)
    return stack


def up(stack: auto.Stack, on_event: OnEvent | None, on_output: Callable[[str], None]) -> dict[str, object]:
    """`pulumi up`; the stack's outputs with secrets withheld."""
    return stacks.visible_outputs(up_outputs(stack, on_event, on_output))


def up_outputs(stack: auto.Stack, on_event: OnEvent | None, on_output: Callable[[str], None]) -> Mapping[str, auto.OutputValue]:
    """`pulumi up`; the stack's outputs as the engine gave them, secrets included (for use in memory only)."""
    return stack.up(on_event=on_event, on_output=on_output, on_error=on_output, color="never").outputs


@dataclass
class Cleanup:
    """What tearing a stack down achieved, and what is left when it did not finish."""

    destroyed: bool = False
    stack_removed: bool = False
    work_dir_removed: bool = False
    left: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def complete(self) -> bool:
        """Nothing of the stack is left."""
        return not self.left

    def as_json(self) -> dict[str, object]:
        """For the JSON summaries."""
        return {
            "destroyed": self.destroyed,
            "stack_removed": self.stack_removed,
            "work_dir_removed": self.work_dir_removed,
            "left": list(self.left),
            "error": self.error,
        }


def tear_down(pulumi: Pulumi, name: str, stack: auto.Stack | None = None, on_event: OnEvent | None = None) -> Cleanup:
    """destroy → stack rm → the work directory, each only after the one before succeeded."""
    cleanup = Cleanup()
    # A stack of the repository keeps its file in stacks/ (the user's config, as scripts/down.sh did);
    # a stack's own work directory goes as a whole below.
    own = pulumi.has_own_workspace(name)
    try:
        stack = stack or auto.Stack.select(name, pulumi.workspace_for(name))
        stacks.destroy(stack, on_event)
        cleanup.destroyed = True
        stack.workspace.remove_stack(name, preserve_config=None if own else True)
        cleanup.stack_removed = True
    except auto.StackNotFoundError:
        # Nothing in the backend under that name: nothing was created, or it is already gone.
        cleanup.destroyed = cleanup.stack_removed = True
    except auto.CommandError as error:
        cleanup.error = cli_error(error)
        if not cleanup.destroyed:
            cleanup.left.append(f"the resources of stack {name} (pulumi destroy failed)")
        cleanup.left.append(f"stack {name} in the backend")
    cleanup.work_dir_removed = pulumi.remove_own_workspace(name) if cleanup.stack_removed and own else not own
    if cleanup.stack_removed and not cleanup.work_dir_removed:
        cleanup.left.append(f"work directory {pulumi.work_root / name}")
    return cleanup


def last_lines(text: str, count: int = 12) -> str:
    """The end of a text: where Pulumi says what went wrong."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def cli_error(error: Exception, count: int = 12) -> str:
    """What a failed CLI call said: the end of its stderr, else of its stdout.

    The SDK's CommandError carries only the text "code: N / stdout: ... / stderr: ..." (_cmd.py).
    """
    text = str(error)
    head, found, stderr = text.partition("\n stderr: ")
    stdout = head.partition("\n stdout: ")[2]
    if not found:
        return last_lines(text, count)
    # `pulumi up` prints the resources' own errors in its Diagnostics on stdout, and a summary on stderr.
    diagnostics = [line.strip() for line in stdout.splitlines() if "error:" in line]
    said = [line for line in diagnostics[-count:] if line not in stderr]
    return last_lines("\n".join([*said, stderr.strip()]) if stderr.strip() else stdout, count)
