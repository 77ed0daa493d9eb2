#!/usr/bin/env bash
# The README's second command: set up .venv from the lock and run the whole offline test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k config).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements-dev.txt 12

# Debian's cloud-init validates the VMs' user-data (tests/unit/test_cloud_init.py). Installed where
# apt-get can run without a password prompt; elsewhere that test says it is skipped, and why.
if ! command -v cloud-init >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt=()
  if [[ "$(id -u)" -ne 0 ]] && sudo -n true 2>/dev/null; then apt=(sudo -n); fi
  if [[ "$(id -u)" -eq 0 || ${#apt[@]} -gt 0 ]]; then
    echo "==> Installing Debian's cloud-init (for cloud-init schema)"
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" apt-get install -y -qq --no-install-recommends cloud-init >/dev/null 2>&1 ||
      { "${apt[@]}" apt-get update -qq && "${apt[@]}" apt-get install -y -qq --no-install-recommends cloud-init >/dev/null; }
  fi
fi

# pytest exits 5 when it collected nothing; that must fail too, and it does (non-zero).
exec .venv/bin/python -m pytest "$@"
