#!/usr/bin/env bash
# Regenerates the dependency locks from requirements*.in, for every platform users run on.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q "uv>=0.9,<1"
for name in requirements requirements-dev; do
  python3 -m uv pip compile --quiet --universal --python-version 3.11 "$name.in" -o "$name.txt"
done
