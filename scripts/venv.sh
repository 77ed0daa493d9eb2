# shellcheck shell=bash
# Sourced by scripts/up.sh, down.sh and test.sh: one way to make .venv (the virtualenv Pulumi.yaml
# names) match a set of lock files. Written for bash 3.2 too (the macOS default).
#
# ensure_venv NEWEST_MINOR LOCKFILE...: (re)creates .venv when it is missing, its Python is gone, or
# its Python is outside 3.11..3.NEWEST_MINOR; installs the LOCKFILEs unless exactly those files were
# installed last time (their sha256 in .venv); removes the cloud providers none of them pins (the
# engine installs a plugin for every provider package in the venv, used or not); then installs the
# project itself (`pip install --no-deps -e .`: the `servebox` command) unless that pyproject.toml
# was installed last time.
#
# stack_locks STACK [servebox up options]: the lock files a stack needs: requirements.txt, plus
# requirements-gcp.txt on gcp (or existing with store gcs), requirements-aws.txt on aws (or existing
# with store s3), read from stacks/Pulumi.<STACK>.yaml and any --set target=/store= given.
#
# Why a Python range: the sample model is pickled with the scikit-learn, numpy and scipy of KServe's
# sklearn server image (components/versions.py), and those exact releases publish wheels for
# Python 3.11-3.13 only (numpy 2.4 and scipy 1.17 need 3.11; scikit-learn 1.5.2 has no 3.14
# wheel). The offline tests also run KServe's own Python library, which supports up to 3.12.
# $PYTHON picks the interpreter; otherwise the first of python3, python3.13, python3.12 and
# python3.11 on PATH that is in range.

SERVEBOX_OLDEST_MINOR=11

_python_in_range() { # PYTHON NEWEST_MINOR
  "$1" -c "import sys; sys.exit(not ((3, $SERVEBOX_OLDEST_MINOR) <= sys.version_info[:2] <= (3, $2)))" 2>/dev/null
}

_pick_python() { # NEWEST_MINOR -> prints the interpreter to use, or fails with the fix
  local newest="$1" candidates candidate minor version
  if [[ -n "${PYTHON:-}" ]]; then
    command -v "$PYTHON" >/dev/null 2>&1 || {
      echo "error: PYTHON=$PYTHON is not on PATH. Unset it, or point it at Python 3.$SERVEBOX_OLDEST_MINOR-3.$newest." >&2
      return 1
    }
    _python_in_range "$PYTHON" "$newest" || {
      version="$("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo unknown)"
      echo "error: PYTHON=$PYTHON is Python $version; this needs Python 3.$SERVEBOX_OLDEST_MINOR-3.$newest" \
        "(the sample model's scikit-learn has wheels for those only). Point PYTHON at one of them." >&2
      return 1
    }
    echo "$PYTHON"
    return 0
  fi
  candidates="python3"
  minor="$newest"
  while ((minor >= SERVEBOX_OLDEST_MINOR)); do
    candidates="$candidates python3.$minor"
    minor=$((minor - 1))
  done
  for candidate in $candidates; do
    if command -v "$candidate" >/dev/null 2>&1 && _python_in_range "$candidate" "$newest"; then
      echo "$candidate"
      return 0
    fi
  done
  version="$(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "not installed")"
  echo "error: servebox needs Python 3.$SERVEBOX_OLDEST_MINOR-3.$newest; python3 is $version and no python3.1x" \
    "in that range is on PATH. Install one (macOS: brew install python@3.12; Debian/Ubuntu:" \
    "sudo apt-get install python3.12-venv, or use pyenv/uv), or set PYTHON=/path/to/python3.12" >&2
  return 1
}

_stack_key() { # STACK KEY -> the stack file's servebox:KEY value, or nothing
  local file="stacks/Pulumi.$1.yaml"
  [[ -f "$file" ]] || return 0
  sed -n "s/^[[:space:]]*servebox:$2:[[:space:]]*['\"]\{0,1\}\([A-Za-z0-9_-]*\).*/\1/p" "$file" | tail -1
}

stack_locks() { # STACK [servebox up options] -> the lock files, one a line
  local stack=kind target store arg
  if [[ $# -gt 0 && "$1" != -* ]]; then
    stack="$1"
    shift
  fi
  target="$(_stack_key "$stack" target)"
  store="$(_stack_key "$stack" store)"
  for arg in "$@"; do
    arg="${arg#--set=}"
    case "$arg" in
      target=* | servebox:target=*) target="${arg#*target=}" ;;
      store=* | servebox:store=*) store="${arg#*store=}" ;;
    esac
  done
  echo requirements.txt
  if [[ "$target" == gcp || ("$target" == existing && "$store" == gcs) ]]; then echo requirements-gcp.txt; fi
  if [[ "$target" == aws || ("$target" == existing && "$store" == s3) ]]; then echo requirements-aws.txt; fi
}

_sha256_of() { # FILE... -> one sha256 over the files' names and contents
  "$VENV_PYTHON" -c 'import hashlib, sys
h = hashlib.sha256()
for name in sys.argv[1:]:
    h.update(name.encode() + b"\0" + open(name, "rb").read())
print(h.hexdigest())' "$@"
}

ensure_venv() {
  local newest="$1" venv=".venv" python want stamp lock args=() unwanted=() provider
  shift
  for lock in "$@"; do
    [[ -f "$lock" ]] || { echo "error: $lock is missing" >&2; return 1; }
    args+=(-r "$lock")
  done
  if [[ ! -x "$venv/bin/python" ]] || ! _python_in_range "$venv/bin/python" "$newest"; then
    python="$(_pick_python "$newest")" || return 1
    echo "==> Creating the Python venv in .venv with $python" >&2
    rm -rf "$venv" # a venv whose Python is gone or out of range cannot be repaired in place
    "$python" -m venv "$venv" || {
      echo "error: could not create .venv (Debian/Ubuntu: sudo apt-get install python3-venv)" >&2
      return 1
    }
  fi
  VENV_PYTHON="$venv/bin/python"
  stamp="$venv/.locks.sha256"
  want="$(_sha256_of "$@")"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> Installing Python packages from $*" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" || {
      echo "error: pip could not install $* (see above)" >&2
      return 1
    }
    # The providers this stack does not use: a plugin download at every up otherwise.
    for provider in pulumi-gcp pulumi-aws; do
      grep -qi "^$provider==" "$@" || unwanted+=("$provider")
    done
    if [[ ${#unwanted[@]} -gt 0 ]]; then
      "$venv/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y "${unwanted[@]}" >/dev/null 2>&1 || true
    fi
    printf '%s\n' "$want" >"$stamp"
  fi
  # The dependencies come from the locks above; --no-deps keeps pip from resolving them again.
  stamp="$venv/.project.sha256"
  want="$(_sha256_of pyproject.toml)"
  if [[ ! -x "$venv/bin/servebox" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> Installing the servebox command into .venv (pip install -e .)" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . || {
      echo "error: pip could not install the project itself (pip install --no-deps -e .; see above)" >&2
      return 1
    }
    printf '%s\n' "$want" >"$stamp"
  fi
}

servebox_entry() { # COMMAND HELP_LAST_LINE [ARGS...]: scripts/up.sh's and down.sh's body
  local command="$1" help_end="$2" script="${BASH_SOURCE[1]}"
  shift 2
  cd "$(dirname "$script")/.." || exit 2
  case "${1:-}" in
    -h | --help) sed -n "2,${help_end}s/^# \{0,1\}//p" "$script"; exit 0 ;;
  esac
  # shellcheck disable=SC2046 # lock file names, one a line, none with a space
  ensure_venv 13 $(stack_locks "$@") || {
    printf 'error: could not prepare .venv (see above); fix that and run scripts/%s.sh again\n' "$command" >&2
    exit 2 # a missing prerequisite (servebox/outcomes.py)
  }
  exec .venv/bin/servebox "$command" "$@"
}
