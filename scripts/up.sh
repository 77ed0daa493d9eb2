#!/usr/bin/env bash
# Bring up a servebox stack from nothing: venv, preflight, Pulumi login, stack, `pulumi up`.
#
#   scripts/up.sh [STACK] [-- PULUMI_UP_ARGS...]
#
# STACK defaults to "kind"; its config lives in stacks/Pulumi.<STACK>.yaml (Pulumi.yaml sets
# stackConfigDir: stacks). Anything after `--` goes to `pulumi up`, e.g.
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
ensure_venv requirements.txt || die "could not prepare .venv (see above); fix that and run scripts/up.sh again"

# --- 2. Preflight -------------------------------------------------------------------------------
say "Checking this machine (scripts/preflight.py --stack $STACK)"
"$VENV/bin/python" scripts/preflight.py --stack "$STACK" \
  || die "preflight found problems: fix the FAIL lines above, then run scripts/up.sh again"

# --- 3. Pulumi backend --------------------------------------------------------------------------
# A Pulumi login (Pulumi Cloud, or any backend the user chose) is used as it is. With none, state
# goes to a directory in the repo. --non-interactive: without a login, pulumi would stop to ask.
pulumi_login_configured() {
  [[ -n "${PULUMI_BACKEND_URL:-}${PULUMI_ACCESS_TOKEN:-}" ]] \
    || grep -q '"current"' "${PULUMI_HOME:-$HOME/.pulumi}/credentials.json" 2>/dev/null
}

LOCAL_BACKEND=false
if WHO="$(PULUMI_SKIP_UPDATE_CHECK=true pulumi whoami --non-interactive 2>&1 </dev/null)"; then
  say "Pulumi: using your login ($WHO)"
elif pulumi_login_configured; then
  # Logged in, but the backend does not answer (offline, expired token): a fresh local state here
  # would make a second stack that fights the first over the same kind cluster. Stop instead.
  die "pulumi whoami failed although a Pulumi login is set up: ${WHO##*$'\n'}
Fix the login (pulumi login), or run 'pulumi logout' to keep state in this repo instead"
else
  STATE="$REPO/.pulumi-state"
  mkdir -p "$STATE"
  export PULUMI_BACKEND_URL="file://$STATE"
  LOCAL_BACKEND=true
  say "No Pulumi login: keeping state in .pulumi-state/ (pulumi login first to use another backend)"
  if [[ -z "${PULUMI_CONFIG_PASSPHRASE:-}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    PASSPHRASE_FILE="$STATE/passphrase"
    if [[ ! -s "$PASSPHRASE_FILE" ]]; then
      (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$PASSPHRASE_FILE")
      say "Generated a passphrase for this state's secrets in $PASSPHRASE_FILE (keep it: the secrets need it)"
    else
      say "Using the secrets passphrase in $PASSPHRASE_FILE"
    fi
    chmod 600 "$PASSPHRASE_FILE"
    export PULUMI_CONFIG_PASSPHRASE_FILE="$PASSPHRASE_FILE"
  fi
fi

# --- 4. Stack -----------------------------------------------------------------------------------
SELECT_ARGS=(--create)
if [[ "$LOCAL_BACKEND" == true ]]; then
  SELECT_ARGS+=(--secrets-provider passphrase)
fi
say "Selecting stack $STACK (config: stacks/Pulumi.${STACK##*/}.yaml)"
pulumi stack select "${SELECT_ARGS[@]}" "$STACK"

# --- 5. Up --------------------------------------------------------------------------------------
say "pulumi up --yes --stack $STACK${UP_ARGS[*]+ ${UP_ARGS[*]}}"
# ${a[@]+"${a[@]}"}: an empty array under `set -u` is an error in bash < 4.4.
pulumi up --yes --stack "$STACK" ${UP_ARGS[@]+"${UP_ARGS[@]}"}

say "Stack outputs (secrets hidden; pulumi stack output --show-secrets reveals them)"
pulumi stack output --stack "$STACK"
