#!/usr/bin/env bash
# Bring up a servebox stack from nothing: venv, preflight, Pulumi login, stack, `pulumi up`.
#
#   scripts/up.sh [STACK] [-- PULUMI_UP_ARGS...]
#
# STACK defaults to "kind" (a VM on GCP: "gcp"); its config lives in stacks/Pulumi.<STACK>.yaml
# (Pulumi.yaml sets stackConfigDir: stacks). Anything after `--` goes to `pulumi up`, e.g.
#   scripts/up.sh kind -- --refresh
# Runs from any directory. Written for bash 3.2 too (the macOS default).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "$0"
}

STACK="kind"
if [[ $# -gt 0 && "$1" != "--" ]]; then
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1 (pulumi up options go after --)" ;;
  esac
  STACK="$1"
  shift
fi
if [[ $# -gt 0 ]]; then
  [[ "$1" == "--" ]] || { usage >&2; die "unexpected argument $1 (pulumi up options go after --)"; }
  shift
fi
UP_ARGS=("$@")

# --- 1. Python venv ---------------------------------------------------------------------------
VENV="$REPO/.venv"   # Pulumi.yaml's runtime uses the same venv
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv requirements.txt 13 || die "could not prepare .venv (see above); fix that and run scripts/up.sh again"

# --- 2. Preflight -------------------------------------------------------------------------------
say "Checking this machine (scripts/preflight.py --stack $STACK)"
"$VENV/bin/python" scripts/preflight.py --stack "$STACK" \
  || die "preflight found problems: fix the FAIL lines above, then run scripts/up.sh again"

# --- 3. Pulumi backend --------------------------------------------------------------------------
# shellcheck source=scripts/pulumi-backend.sh
source scripts/pulumi-backend.sh
select_pulumi_backend

# --- 4. Stack -----------------------------------------------------------------------------------
SELECT_ARGS=(--create)
if [[ "$LOCAL_BACKEND" == true ]]; then
  SELECT_ARGS+=(--secrets-provider passphrase)
fi
say "Selecting stack $STACK (config: stacks/Pulumi.${STACK##*/}.yaml)"
pulumi stack select "${SELECT_ARGS[@]}" "$STACK"

# --- 5. Up --------------------------------------------------------------------------------------
# On a VM stack, refresh the VM first: its TTL (or Spot) may have stopped or deleted it, and a
# refreshed VM lets this `up` start it again or create a new one (scripts/refresh_targets.py says
# why only the VM). A stack that has no VM yet has nothing to refresh.
REFRESH="$("$VENV/bin/python" scripts/refresh_targets.py "$STACK")"
if [[ -n "$REFRESH" ]] && pulumi stack export --stack "$STACK" | grep -qF "\"$REFRESH\""; then
  say "Refreshing the VM (it may have been stopped or deleted by its TTL)"
  pulumi refresh --yes --stack "$STACK" --target "$REFRESH"
fi
say "pulumi up --yes --stack $STACK${UP_ARGS[*]+ ${UP_ARGS[*]}}"
# ${a[@]+"${a[@]}"}: an empty array under `set -u` is an error in bash < 4.4.
pulumi up --yes --stack "$STACK" ${UP_ARGS[@]+"${UP_ARGS[@]}"}

say "Stack outputs (secrets hidden; pulumi stack output --show-secrets reveals them)"
pulumi stack output --stack "$STACK"
