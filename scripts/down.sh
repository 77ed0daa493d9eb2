#!/usr/bin/env bash
# Tear a servebox stack down: `servebox down` (on kind: the model, the platform and the cluster
# itself), which destroys the stack and removes its state. The stack's config file in stacks/ is kept.
#
#   scripts/down.sh [STACK] [--keep-stack]
#
# STACK defaults to "kind". --keep-stack destroys the resources but keeps the (empty) stack.
set -euo pipefail

# shellcheck source=scripts/venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
servebox_entry down 7 "$@"
