"""A shared workshop's size and cost against one VM per attendee, at 10, 30 and 100 attendees.

For each cloud and class size it plans the shared stack under Pulumi mocks (tests/harness.py, the
program as `pulumi up` runs it, on the machine type components/config/sizing.py names as the
smallest that holds the class) and reports: the resources registered, the CPU and memory
requested at once (k3s, the platform with MinIO, every sample's pod and its sidecar: the stack's and each attendee's), the
machine, the cost per attendee-hour against one VM each (the README's per-stack figures: the
default VM, its disk and its IPv4 address), and how long the program takes to plan it.

    python scripts/bench_workshop.py              # 10, 30, 100 attendees on gcp and aws
    python scripts/bench_workshop.py --attendees 30 --json

Goal (issue 22): at 30 attendees at least 5x cheaper per attendee-hour than one VM each, on GCP
and AWS; planning 100 attendees well under a minute. Prices are list prices, on demand, as
sizing.py says where they come from; a Spot VM divides both sides alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.config import sizing  # noqa: E402
from tests import harness  # noqa: E402

ONE_VM_EACH = {"gcp": "e2-standard-2", "aws": "t3.large"}
"""The default VM of a stack per attendee (Pulumi.yaml: gcpMachineType, awsInstanceType)."""
EXTRAS_PER_HOUR = {"gcp": 0.004 + 0.005, "aws": 0.003 + 0.005}
"""Each VM's disk and public IPv4 address per hour (the README's cost table)."""
STACKS = {"gcp": harness.GCP_STACK, "aws": harness.AWS_STACK}
MACHINE_KEY = {"gcp": "gcpMachineType", "aws": "awsInstanceType"}
SAMPLE_CPU, SAMPLE_MEMORY = Decimal(100), Decimal(256 * sizing.MiB)
"""The sample's requests at their Pulumi.yaml defaults (modelCpuRequest, modelMemoryRequest)."""


def measure(cloud: str, attendees: int) -> dict:
    # Every attendee's sample and the stack's own, each one pod (their modelMinReplicas default).
    need = sizing.needed([(SAMPLE_CPU, SAMPLE_MEMORY)] * (attendees + 1), "kserve", "knative")
    machine = sizing.smallest_fit(cloud, need)
    if machine is None:
        return {"cloud": cloud, "attendees": attendees, "machine": None, "note": "no machine in the table holds the class"}
    ids = ",".join(f"a{index:03d}" for index in range(attendees))
    start = time.perf_counter()
    run = harness.run_program({**STACKS[cloud], "attendees": ids, MACHINE_KEY[cloud]: machine.name}, stack="ws")
    plan_seconds = time.perf_counter() - start
    single = sizing.machine(cloud, ONE_VM_EACH[cloud])
    assert single is not None
    shared_hour = machine.price_per_hour + EXTRAS_PER_HOUR[cloud]
    each_hour = single.price_per_hour + EXTRAS_PER_HOUR[cloud]
    return {
        "cloud": cloud,
        "attendees": attendees,
        "resources": len(run.resources),
        "resources_per_attendee": sum(1 for name in run.resources if name.startswith("attendee-a000")),
        "requested_cpu_millicores": need[0],
        "requested_memory_gib": round(need[1] / sizing.GiB, 1),
        "machine": machine.name,
        "machine_allocatable": f"{machine.vcpus * 1000}m / {machine.memory_gib} GiB",
        "shared_per_attendee_hour": round(shared_hour / attendees, 4),
        "one_vm_each_per_attendee_hour": round(each_hour, 4),
        "cheaper_by": round(each_hour * attendees / shared_hour, 1),
        "plan_seconds": round(plan_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attendees", type=int, action="append", help="class sizes (default 10, 30, 100)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(cloud, count) for cloud in ("gcp", "aws") for count in (args.attendees or [10, 30, 100])]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'cloud':<5} {'attendees':>9} {'resources':>9} {'requested':>16} {'machine':<13} "
          f"{'$/attendee-h':>12} {'one VM each':>11} {'cheaper':>8} {'plan s':>7}")
    for r in results:
        if r.get("machine") is None:
            print(f"{r['cloud']:<5} {r['attendees']:>9}  {r['note']}")
            continue
        requested = f"{r['requested_cpu_millicores']}m/{r['requested_memory_gib']}GiB"
        print(f"{r['cloud']:<5} {r['attendees']:>9} {r['resources']:>9} {requested:>16} {r['machine']:<13} "
              f"{r['shared_per_attendee_hour']:>12} {r['one_vm_each_per_attendee_hour']:>11} {str(r['cheaper_by']) + 'x':>8} "
              f"{r['plan_seconds']:>7}")
    print("(requested: at once, every sample's pod and sidecar, the stack's and each attendee's, with k3s and the platform; "
          "prices on demand, list)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
