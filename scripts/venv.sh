# shellcheck shell=bash
# Sourced by scripts/up.sh and scripts/test.sh: one way to make .venv (the virtualenv Pulumi.yaml
# names) match a lock file. Written for bash 3.2 too (the macOS default).
#
# ensure_venv LOCKFILE: (re)creates .venv when it is missing or its Python is gone or older than
# 3.10, then installs LOCKFILE unless that exact file was installed last time (sha256 in .venv).

ensure_venv() {
  local lock="$1" python="${PYTHON:-python3}" venv=".venv" want stamp
  local py_ok='import sys; sys.exit(sys.version_info < (3, 10))'
  stamp="$venv/.$(basename "$lock" .txt).sha256"
  [[ -f "$lock" ]] || { echo "error: $lock is missing" >&2; return 1; }
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "$py_ok" 2>/dev/null; then
    command -v "$python" >/dev/null 2>&1 || {
      echo "error: $python not found. Install Python 3.10 or newer (macOS: brew install python;" \
        "Debian/Ubuntu: sudo apt-get install python3 python3-venv)" >&2
      return 1
    }
    "$python" -c "$py_ok" || {
      echo "error: servebox needs Python 3.10 or newer; $python is" \
        "$("$python" -c 'import platform; print(platform.python_version())'). Install a newer one, or set PYTHON=" >&2
      return 1
    }
    echo "==> Creating the Python venv in .venv"
    rm -rf "$venv" # a venv whose Python is gone cannot be repaired in place
    "$python" -m venv "$venv" || {
      echo "error: could not create .venv (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2
      return 1
    }
  fi
  want="$("$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$lock")"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> Installing Python packages from $lock"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" || {
      echo "error: pip could not install $lock (see above)" >&2
      return 1
    }
    printf '%s\n' "$want" >"$stamp"
  fi
}
