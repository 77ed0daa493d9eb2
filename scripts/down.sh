#!/usr/bin/env bash
# Tear a servebox stack down: `servebox down` (on kind: the model, the platform and the cluster
# itself), which destroys the stack and removes its state. The stack's config file in stacks/ is kept.
#
#   scripts/down.sh [STACK] [--keep-stack]
#
# STACK defaults to "kind". --keep-stack destroys the resources but keeps the (empty) stack.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

die() { printf 'error: %s\n' "$*" >&2; exit 2; } # bad input or a missing prerequisite (servebox/outcomes.py)

case "${1:-}" in
  -h | --help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

VENV="$REPO/.venv" # destroy runs the program, which needs the venv
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
# shellcheck disable=SC2046 # lock file names, one a line, none with a space
ensure_venv 13 $(stack_locks "$@") || die "could not prepare .venv (see above)"

exec "$VENV/bin/servebox" down "$@"
