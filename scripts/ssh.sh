#!/usr/bin/env bash
# A shell on a VM stack's VM (the `ssh` stack output):
#
#   scripts/ssh.sh [STACK] [-- SSH_ARGS...]      e.g. scripts/ssh.sh gcp -- sudo k3s kubectl get pods -A
#
# STACK defaults to "gcp". The SSH key leaves the state only here: this writes the stack's
# `ssh_private_key` (a secret output) to ~/.ssh/servebox-<stack> with mode 0600, and the host key
# the program read at first contact (`ssh_host_key`) to ~/.ssh/servebox-<stack>.known_hosts, then
# runs ssh with that host key pinned, so a changed host key stops the connection.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; } # bad input or a missing prerequisite (servebox/outcomes.py)

STACK="gcp"
if [[ $# -gt 0 && "$1" != "--" ]]; then
  case "$1" in
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (ssh options go after --)" ;;
  esac
  STACK="$1"
  shift
fi
[[ $# -gt 0 && "$1" == "--" ]] && shift

command -v pulumi >/dev/null 2>&1 || die "pulumi is not installed; see scripts/preflight.py for the install command"
command -v ssh >/dev/null 2>&1 || die "ssh is not installed (an OpenSSH client is needed)"
VENV="$REPO/.venv"
[[ -x "$VENV/bin/python" ]] || die ".venv is missing; run scripts/up.sh $STACK first"
# shellcheck source=scripts/pulumi-backend.sh
source scripts/pulumi-backend.sh
select_pulumi_backend >&2

OUTPUTS="$(pulumi stack output --json --show-secrets --stack "$STACK")" || die "could not read the outputs of stack $STACK"
read_output() { # NAME -> the output's value, or nothing when it is null or absent
  printf '%s' "$OUTPUTS" | "$VENV/bin/python" -c 'import json, sys; sys.stdout.write(json.load(sys.stdin).get(sys.argv[1]) or "")' "$1"
}
ADDRESS="$(read_output ingress_address)"
HOST="${ADDRESS%%:*}"
[[ -n "$HOST" && -n "$(read_output ssh_private_key)" ]] ||
  die "stack $STACK has no VM outputs (ingress_address, ssh_private_key): is it a VM stack, and has up finished?"

KEY="$HOME/.ssh/servebox-${STACK##*/}"
KNOWN_HOSTS="$KEY.known_hosts"
(
  umask 077
  mkdir -p "$HOME/.ssh"
  read_output ssh_private_key >"$KEY"
  printf '%s %s\n' "$HOST" "$(read_output ssh_host_key)" >"$KNOWN_HOSTS"
)
chmod 600 "$KEY"
say "ssh ubuntu@$HOST (key $KEY, host key pinned in $KNOWN_HOSTS)"
exec ssh -i "$KEY" -o IdentitiesOnly=yes -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
  "ubuntu@$HOST" "$@"
