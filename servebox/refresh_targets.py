"""The URNs `servebox up` refreshes before `pulumi up` on a stack; nothing for kind.

A VM's TTL (or Spot) stops or deletes the VM behind Pulumi's back. Refreshing the VM, and only the
VM, lets the next `up` start it again or create a new one; refreshing the Kubernetes objects too
would drop them from the state of a VM that is merely stopped, and `up` would then collide with
them. The URNs follow from the component types and resource names the program uses.

    python -m servebox.refresh_targets STACK
"""

from __future__ import annotations

import sys
from pathlib import Path

from components.cluster import aws, gcp
from components.config import Target, project_name
from servebox import preflight

VM_RESOURCES = {Target.GCP.value: gcp.VM_RESOURCE, Target.AWS.value: aws.INSTANCE_RESOURCE}


def refresh_targets(stack: str, stacks_dir: Path | None = None) -> list[str]:
    """The URNs to refresh on `stack` (its config in stacks_dir, default the repository's stacks/)."""
    target = preflight.stack_target(stack, stacks_dir or preflight.STACKS_DIR)
    if target not in VM_RESOURCES:
        return []
    name = preflight.stack_name(stack)
    parent, type_, resource = VM_RESOURCES[target]
    return [f"urn:pulumi:{name}::{project_name()}::{parent}${type_}::{resource}"]


def main(argv: list[str] | None = None) -> int:
    """Print the stack's URNs to refresh, one a line."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: refresh_targets.py STACK", file=sys.stderr)
        return 2
    print("\n".join(refresh_targets(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
