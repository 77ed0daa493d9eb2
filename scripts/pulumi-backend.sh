# shellcheck shell=bash
# Sourced by scripts/up.sh and scripts/down.sh, so that both use the same state.
#
# select_pulumi_backend: a Pulumi login (Pulumi Cloud, or any backend the user chose) is used as it
# is. With none, state goes to .pulumi-state/ in the repo, with a generated secrets passphrase kept
# beside it; scripts/mnist_client.py follows the same rule when it reads stack outputs.
# Sets LOCAL_BACKEND=true|false. Expects REPO, VENV, say and die from the caller.

select_pulumi_backend() {
  # --non-interactive below: without a login, pulumi would stop to ask.
  pulumi_login_configured() {
    [[ -n "${PULUMI_BACKEND_URL:-}${PULUMI_ACCESS_TOKEN:-}" ]] \
      || grep -q '"current"' "${PULUMI_HOME:-$HOME/.pulumi}/credentials.json" 2>/dev/null
  }

  # shellcheck disable=SC2034 # read by the caller (up.sh)
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
    # shellcheck disable=SC2034
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
}
