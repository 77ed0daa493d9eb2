#!/usr/bin/env bash
# The README's second command: set up .venv from the lock and run the whole offline test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k config).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv 12 requirements-dev.txt

# Debian packages some tests run: cloud-init validates the VMs' user-data (tests/unit/test_cloud_init.py),
# chromium opens the workshop roster page (tests/cli/test_roster_page.py). Installed where apt-get
# can run without a password prompt; elsewhere those tests say they are skipped, and why (and fail
# under CI=true, where a missing tool is a broken setup).
apt_install_missing() { # COMMAND PACKAGE WHY
  command -v "$1" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || return 0
  local apt=()
  if [[ "$(id -u)" -ne 0 ]] && sudo -n true 2>/dev/null; then apt=(sudo -n); fi
  [[ "$(id -u)" -eq 0 || ${#apt[@]} -gt 0 ]] || return 0
  echo "==> Installing Debian's $2 ($3)"
  export DEBIAN_FRONTEND=noninteractive
  "${apt[@]+"${apt[@]}"}" apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 ||
    { "${apt[@]+"${apt[@]}"}" apt-get update -qq && "${apt[@]+"${apt[@]}"}" apt-get install -y -qq --no-install-recommends "$2" >/dev/null; } ||
    echo "warning: could not install $2; the tests that need it say so" >&2
}
apt_install_missing cloud-init cloud-init "for cloud-init schema"

# Two venvs of their own, whose dependencies would clash with the program's: checkov, which audits
# the Kubernetes objects servebox authors (tests/unit/test_checkov.py), and the policy pack
# (policy/, its tests run by tests/unit/test_policy_pack.py). Each is remade when its lock changes.
ensure_side_venv() { # DIR LOCK
  local want
  want="$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$2")"
  [[ -x "$1/bin/python" && "$(cat "$1/.lock.sha256" 2>/dev/null)" == "$want" ]] && return 0
  echo "==> Installing $2 into $1" >&2
  rm -rf "$1"
  "$(_pick_python 12)" -m venv "$1"
  "$1/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$2"
  echo "$want" >"$1/.lock.sha256"
}
ensure_side_venv .venv-audit requirements-audit.txt
ensure_side_venv .venv-policy policy/requirements.txt
apt_install_missing chromium chromium "headless, for the workshop roster page"

# The linters first, on the whole suite only (extra arguments mean a chosen subset of the tests):
# ruff (pyflakes, bugbear, import order, pyupgrade) and mypy, configured in pyproject.toml, 0 findings.
if [[ $# -eq 0 ]]; then
  echo "==> ruff check" >&2
  .venv/bin/ruff check --quiet .
  echo "==> mypy (components, servebox, __main__.py)" >&2
  .venv/bin/mypy
fi

# pytest exits 5 when it collected nothing; that must fail too, and it does (non-zero).
exec .venv/bin/python -m pytest "$@"
