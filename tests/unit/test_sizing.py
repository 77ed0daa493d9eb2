"""components/config/sizing.py: its platform figures are scripts/bench_footprint.py's (MinIO
included), and what a class needs is counted from them, every model at once."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal

import pytest

from components.config import DeploymentMode, sizing
from tests.harness import REPO

_SPEC = importlib.util.spec_from_file_location("bench_footprint", REPO / "scripts" / "bench_footprint.py")
assert _SPEC and _SPEC.loader
bench = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench
_SPEC.loader.exec_module(bench)


@pytest.mark.parametrize("mode", list(DeploymentMode))
def test_the_platform_figures_are_the_footprint_benchmarks(mode: DeploymentMode) -> None:
    total = bench.footprint(mode)["total"]  # with MinIO, the shared mode's store
    assert sizing.PLATFORM_REQUESTS[mode.value] == (int(total.millicores), int(total.bytes))
    assert sizing.K3S_OWN == (int(bench.K3S_OWN.millicores), int(bench.K3S_OWN.bytes))
    assert sizing.EVICTION_BYTES == int(bench.K3S_EVICTION_BYTES)


def test_seldons_platform_and_executor_are_the_benchmarks() -> None:
    seldon = bench.seldon_footprint()
    assert sizing.SIDECAR_REQUESTS["seldon"] == (int(seldon["executor"].millicores), int(seldon["executor"].bytes))
    assert sizing.PLATFORM_REQUESTS["seldon"] == (int(seldon["platform"].millicores), int(seldon["platform"].bytes))


def test_a_class_needs_every_model_at_once_and_the_cheapest_machine_that_holds_it_is_chosen() -> None:
    sample = (Decimal(100), Decimal(256 * sizing.MiB))
    need = sizing.needed([sample] * 31, "kserve", "knative")  # 30 attendees' samples and the stack's
    assert need == (60 + 220 + 31 * 125, 1_596_000_000 + 928 * sizing.MiB + 31 * 320 * sizing.MiB)
    assert sizing.smallest_fit("gcp", need).name == "e2-standard-8"
    assert sizing.smallest_fit("aws", need).name == "t3.2xlarge"
    assert sizing.smallest_fit("gcp", sizing.needed([sample] * 2, "kserve", "knative")).name == "e2-standard-2"
    assert sizing.smallest_fit("gcp", sizing.needed([sample] * 1000, "kserve", "knative")) is None
    seldon = sizing.needed([sample], "seldon", "knative")
    assert seldon == (60 + 155 + 150, 1_596_000_000 + 544 * sizing.MiB + 320 * sizing.MiB)  # the executor beside it
