"""scripts/bench_workshop.py plans a 30-attendee shared stack under mocks with every attendee's
objects, on the machine the sizing names (its cost figures are printed, its time never asserted)."""

from __future__ import annotations

import importlib.util

from tests.harness import REPO

_SPEC = importlib.util.spec_from_file_location("bench_workshop", REPO / "scripts" / "bench_workshop.py")
assert _SPEC and _SPEC.loader
bench_workshop = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_workshop)


def test_thirty_attendees_plan_with_every_attendees_objects_on_the_machine_that_holds_them() -> None:
    result = bench_workshop.measure("gcp", 30)
    assert result["machine"] == "e2-standard-8"
    assert result["resources_per_attendee"] == 21  # tests/unit/test_shared_workshop.py lists them
    assert result["resources"] == 688
    assert result["shared_per_attendee_hour"] < result["one_vm_each_per_attendee_hour"]
