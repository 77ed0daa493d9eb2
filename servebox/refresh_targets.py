"""The URNs `servebox up` refreshes before `pulumi up` on a stack; nothing for kind.

A VM's TTL (or Spot) stops or deletes the VM behind Pulumi's back. Refreshing the VM, and only the
VM, lets the next `up` start it again or create a new one; refreshing the Kubernetes objects too
would drop them from the state of a VM that is merely stopped, and `up` would then collide with
them. The URNs follow from the component types and resource names the program uses.

    python -m servebox.refresh_targets STACK
"""

from __future__ import annotations

import sys

from components.cluster import aws, gcp
from components.config import Target, project_name
from servebox import preflight

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
