"""What a shared workshop's one VM must hold, and the machine types that can hold it.

Requests, not usage: the scheduler places pods by what they request, so a class whose models all
answer at once needs every attendee's predictor scheduled at the same time. Knative's scale to
zero (modelMinReplicas 0) makes an idle model cost nothing, but the moment the whole class calls,
each model's pod comes back with its full request: the machine is sized for that moment.

The platform's figures are scripts/bench_footprint.py's (our values over each chart's defaults at
the pinned tags, MinIO included: the shared mode's store); tests/unit/test_sizing.py keeps them
equal. Machine shapes and on-demand prices per hour: GCP us-central1 and AWS us-east-1 list
prices as ../shared/reference/vm-targets.md quotes them (e2-standard-2/-4, t3.large/.xlarge,
m5.2xlarge); the larger sizes of each family follow its linear price per vCPU, not read from the
clouds' price pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

MiB = 2**20
GiB = 2**30

PLATFORM_REQUESTS: dict[str, tuple[int, int]] = {
    "knative": (220, 928 * MiB),
    "standard": (165, 576 * MiB),
    "seldon": (155, 544 * MiB),
}
"""(millicores, bytes) the platform requests with MinIO, per serving stack (KServe's two modes)."""
K3S_OWN = (60, 1_596_000_000)
"""What k3s itself uses on the node (docs.k3s.io/reference/resource-profiling), as bench_footprint counts it."""
EVICTION_BYTES = 100 * MiB
"""The kubelet's hard eviction threshold (memory.available<100Mi): not allocatable."""
SIDECAR_REQUESTS: dict[str, tuple[int, int]] = {
    "knative": (25, 64 * MiB),
    "standard": (0, 0),
    "seldon": (50, 64 * MiB),
}
"""Beside each predictor: Knative's queue-proxy (its 25m CPU request; no memory request, so the
attendee's LimitRange default, 64Mi), or Seldon's executor (its chart default at v1.17.1)."""


@dataclass(frozen=True)
class Machine:
    name: str
    vcpus: int
    memory_gib: int
    price_per_hour: float
    """On demand, Linux, the VM alone (disk and IPv4 are cents on top)."""

    @property
    def allocatable(self) -> tuple[int, int]:
        return self.vcpus * 1000, self.memory_gib * GiB - EVICTION_BYTES


MACHINES: dict[str, tuple[Machine, ...]] = {
    "gcp": tuple(Machine(f"e2-standard-{n}", n, 4 * n, round(0.033503 * n, 6)) for n in (2, 4, 8, 16, 32)),
    "aws": (
        Machine("t3.large", 2, 8, 0.0832),
        Machine("t3.xlarge", 4, 16, 0.1664),
        Machine("t3.2xlarge", 8, 32, 0.3328),
        Machine("m5.4xlarge", 16, 64, 0.768),
        Machine("m5.8xlarge", 32, 128, 1.536),
    ),
}


def serving_key(serving: str, mode: str) -> str:
    return "seldon" if serving == "seldon" else mode


def needed(models: Sequence[tuple[Decimal, Decimal]], serving: str, mode: str) -> tuple[int, int]:
    """(millicores, bytes) the node must have allocatable: k3s, the platform, and every model's
    predictor pod (its (cpu, memory) requests) with its sidecar, all at once."""
    key = serving_key(serving, mode)
    platform, sidecar = PLATFORM_REQUESTS[key], SIDECAR_REQUESTS[key]
    cpu = K3S_OWN[0] + platform[0] + sum(int(model_cpu) + sidecar[0] for model_cpu, _ in models)
    memory = K3S_OWN[1] + platform[1] + sum(int(model_memory) + sidecar[1] for _, model_memory in models)
    return cpu, memory


def fits(machine: Machine, need: tuple[int, int]) -> bool:
    cpu, memory = machine.allocatable
    return need[0] <= cpu and need[1] <= memory


def smallest_fit(cloud: str, need: tuple[int, int]) -> Machine | None:
    """The cheapest machine of the table that holds `need`, or None when none does."""
    return next((m for m in sorted(MACHINES[cloud], key=lambda m: m.price_per_hour) if fits(m, need)), None)


def machine(cloud: str, name: str) -> Machine | None:
    return next((m for m in MACHINES[cloud] if m.name == name), None)
