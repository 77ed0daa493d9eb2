#!/usr/bin/env bash
# The README's second command: set up .venv from the lock and run the whole offline test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k config).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements-dev.txt 12

# pytest exits 5 when it collected nothing; that must fail too, and it does (non-zero).
exec .venv/bin/python -m pytest "$@"
