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

# shellcheck source=scripts/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
servebox_entry up 8 "$@"
