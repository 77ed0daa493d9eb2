"""Print the URNs `scripts/up.sh` refreshes before `pulumi up` on a stack; nothing for kind.

A VM's TTL (or Spot) stops or deletes the VM behind Pulumi's back. Refreshing the VM, and only the
VM, lets the next `up` start it again or create a new one; refreshing the Kubernetes objects too
would drop them from the state of a VM that is merely stopped, and `up` would then collide with
them. The URNs follow from the component types and resource names the program uses.

    python scripts/refresh_targets.py STACK
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import preflight  # noqa: E402  (scripts/ is on sys.path when run as a file)

from components.cluster import aws, gcp  # noqa: E402
from components.config import Target, project_name  # noqa: E402

VM_RESOURCES = {Target.GCP.value: gcp.VM_RESOURCE, Target.AWS.value: aws.INSTANCE_RESOURCE}


def refresh_targets(stack: str) -> list[str]:
    """The URNs to refresh on `stack`."""
    target = preflight.stack_target(stack)
    if target not in VM_RESOURCES:
        return []
    name = preflight.stack_name(stack)
    parent, type_, resource = VM_RESOURCES[target]
    return [f"urn:pulumi:{name}::{project_name()}::{parent}${type_}::{resource}"]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: refresh_targets.py STACK")
    print("\n".join(refresh_targets(sys.argv[1])))
