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

from components.config import Target, project_name
from servebox import preflight


def _vm_resource(target: str) -> tuple[str, str, str] | None:
    """(parent type, type, name) of a VM target's VM; its cluster module (and cloud SDK) only then."""
    if target == Target.GCP.value:
        from components.cluster import gcp

        return gcp.VM_RESOURCE
    if target == Target.AWS.value:
        from components.cluster import aws

        return aws.INSTANCE_RESOURCE
    return None


def refresh_targets(stack: str, stacks_dir: Path | None = None) -> list[str]:
    """The URNs to refresh on `stack` (its config in stacks_dir, default the repository's stacks/)."""
    vm = _vm_resource(preflight.stack_target(stack, stacks_dir or preflight.stackfile.STACKS_DIR))
    if vm is None:
        return []
    name = preflight.stack_name(stack)
    parent, type_, resource = vm
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
