#!/usr/bin/env bash
# Bring up a servebox stack from nothing: the venv with the servebox command, then `servebox up`.
#
#   scripts/up.sh [STACK] [servebox up options, e.g. --set vmSpot=true]
#
# STACK defaults to "kind" (a VM on GCP: "gcp"); its config lives in stacks/Pulumi.<STACK>.yaml.
# `servebox up` checks the machine (preflight), uses your Pulumi login or state in .pulumi-state/,
# refreshes a VM stack's VM, runs `pulumi up` with a live progress view and prints the outputs.
# Runs from any directory. Written for bash 3.2 too (the macOS default).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

die() { printf 'error: %s\n' "$*" >&2; exit 2; } # bad input or a missing prerequisite (servebox/outcomes.py)

case "${1:-}" in
  -h | --help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

VENV="$REPO/.venv" # Pulumi.yaml's runtime uses the same venv
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
# shellcheck disable=SC2046 # lock file names, one a line, none with a space
ensure_venv 13 $(stack_locks "$@") || die "could not prepare .venv (see above); fix that and run scripts/up.sh again"

exec "$VENV/bin/servebox" up "$@"
