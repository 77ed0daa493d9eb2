"""Where servebox finds the project, keeps Pulumi state, and runs each stack (its work directory).

- Backend: the same rule as scripts/pulumi-backend.sh. A Pulumi login (PULUMI_BACKEND_URL,
  PULUMI_ACCESS_TOKEN or a current login in credentials.json) is used as it is; without one, state
  goes to `.pulumi-state/` in the repository with a generated passphrase file beside it.
- Work directories: `pulumi stack init/select` rewrite one workspace file per project directory,
  which parallel calls corrupt (pulumi/pulumi#8186, ops-and-own-model.md §0.1, §1.7), and config
  set on a stack is written to that directory's stack file. So every stack servebox runs on its own
  (ephemeral, workshop, reap) gets its own copy of the project under `.servebox/work/<stack>/`, kept
  until the stack is removed: its stack file holds the passphrase provider's salt and the config
  the stack was made with. The workstation commands (`servebox up kind`) run in the repository
  itself, on the stack files in stacks/, as scripts/up.sh always did.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("Pulumi.yaml", "__main__.py", "components", "manifests", "servebox", "scripts", "stacks")
"""What a work directory holds: what the program (and the smoke test it runs) reads."""
STACKS_DIR = "stacks"  # Pulumi.yaml: stackConfigDir: stacks
WORK_ROOT_ENV = "SERVEBOX_WORK_ROOT"
STATE_DIR_NAME = ".pulumi-state"


@dataclass(frozen=True)
class Backend:
    """Where stacks' state lives, as environment for every CLI call."""

    env: Mapping[str, str]
    """PULUMI_BACKEND_URL and the passphrase variable, when servebox chose them; {} for a login."""
    description: str
    """One line for the user: which backend, and why."""
    state_dir: Path | None
    """The local file backend's directory (its locks are read by the reaper), else None."""


def _logged_in(environ: Mapping[str, str]) -> bool:
    if environ.get("PULUMI_ACCESS_TOKEN"):
        return True
    credentials = Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi") / "credentials.json"
    try:
        return '"current"' in credentials.read_text()
    except OSError:
        return False


def file_backend_dir(url: str) -> Path | None:
    """The directory of a `file://` backend URL (query options dropped), else None."""
    if not url.startswith("file://"):
        return None
    path = url[len("file://") :].split("?", 1)[0]
    return Path(os.path.expanduser(path or "~"))


def select_backend(environ: Mapping[str, str] = os.environ, repo: Path = REPO) -> Backend:
    """The backend scripts/pulumi-backend.sh would choose; creates the local state and passphrase."""
    url = environ.get("PULUMI_BACKEND_URL")
    if url:
        return Backend(env={}, description=f"Pulumi: PULUMI_BACKEND_URL={url}", state_dir=file_backend_dir(url))
    if _logged_in(environ):
        return Backend(env={}, description="Pulumi: using your login", state_dir=None)
    state = repo / STATE_DIR_NAME
    state.mkdir(parents=True, exist_ok=True)
    env = {"PULUMI_BACKEND_URL": f"file://{state}"}
    if not (environ.get("PULUMI_CONFIG_PASSPHRASE") or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")):
        passphrase = state / "passphrase"
        if not passphrase.is_file() or not passphrase.read_text().strip():
            old_umask = os.umask(0o077)
            try:
                passphrase.write_text(secrets.token_urlsafe(32) + "\n")
            finally:
                os.umask(old_umask)
        passphrase.chmod(0o600)
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase)
    return Backend(
        env=env,
        description=f"Pulumi: no login, state in {state} (pulumi login first to use another backend)",
        state_dir=state,
    )


def work_root(environ: Mapping[str, str] = os.environ, repo: Path = REPO) -> Path:
    """Where per-stack work directories live ($SERVEBOX_WORK_ROOT, else .servebox/work)."""
    return Path(environ.get(WORK_ROOT_ENV) or repo / ".servebox" / "work")


def work_dir(stack: str, root: Path) -> Path:
    """The stack's own work directory (it may not exist yet)."""
    return root / stack


def prepare_work_dir(stack: str, root: Path, repo: Path = REPO) -> Path:
    """A fresh copy of the project for `stack`, keeping the stack's own file from an earlier run.

    The program is copied rather than linked: it trains the sample model into build/ beside
    itself, and parallel stacks must not write one file at once. `.venv` is linked (Pulumi.yaml
    names it relative to the project), so no stack installs anything.
    """
    directory = work_dir(stack, root)
    stack_file = directory / STACKS_DIR / f"Pulumi.{stack}.yaml"
    kept = stack_file.read_bytes() if stack_file.is_file() else None
    directory.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source, target = repo / part, directory / part
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            shutil.copy2(source, target)
    if kept is not None:
        stack_file.write_bytes(kept)
    venv = directory / ".venv"
    if not venv.exists() and (repo / ".venv").exists():
        venv.symlink_to(repo / ".venv")
    return directory


def remove_work_dir(stack: str, root: Path) -> bool:
    """Delete the stack's work directory; True when none is left."""
    directory = work_dir(stack, root)
    shutil.rmtree(directory, ignore_errors=True)
    return not directory.exists()
