#!/usr/bin/env bash
# Regenerates the dependency locks from requirements*.in, for every platform users run on.
#
# One set of versions for tests and users: the dev lock (everything the tests run, the three runtime
# sets included) is resolved first, keeping its current pins where they still fit; each runtime lock
# is then resolved constrained by it, so a package both have is pinned the same in both
# (tests/unit/test_locks.py). The dev set is the one with the binding constraints (e.g. botocore,
# under kserve-storage and moto, caps python-dateutil below 3, which keeps kubernetes at 36).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q "uv>=0.9,<1"
compile() { python3 -m uv pip compile --quiet --universal --python-version 3.11 "$@"; }
compile requirements-dev.in -o requirements-dev.txt
for name in requirements requirements-gcp requirements-aws; do
  compile "$name.in" -c requirements-dev.txt -o "$name.txt"
done
