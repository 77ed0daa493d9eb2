#!/usr/bin/env bash
# Tear a servebox stack down: `pulumi destroy` (on kind: the model, the platform and the cluster
# itself), then remove the stack's state. The stack's config file in stacks/ is kept.
#
#   scripts/down.sh [STACK] [--keep-stack]
#
# STACK defaults to "kind". --keep-stack destroys the resources but keeps the (empty) stack.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

STACK="kind"
KEEP_STACK=false
for arg in "$@"; do
  case "$arg" in
    -h | --help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    --keep-stack) KEEP_STACK=true ;;
    -*) die "unknown option $arg" ;;
    *) STACK="$arg" ;;
  esac
done

command -v pulumi >/dev/null 2>&1 || die "pulumi is not installed; see scripts/preflight.py for the install command"
VENV="$REPO/.venv" # destroy runs the program, which needs the venv
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements.txt 13 || die "could not prepare .venv (see above)"
# shellcheck source=scripts/pulumi-backend.sh
source scripts/pulumi-backend.sh
select_pulumi_backend

say "pulumi destroy --yes --stack $STACK"
pulumi destroy --yes --stack "$STACK"
if [[ "$KEEP_STACK" == false ]]; then
  say "Removing stack $STACK (its config in stacks/ stays)"
  pulumi stack rm --yes --preserve-config --stack "$STACK"
fi
