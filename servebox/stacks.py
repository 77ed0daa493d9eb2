"""Stacks through the Pulumi Automation API: the CLI, workspaces, names, config, tags, outputs, locks.

Every command of servebox reaches Pulumi through `Pulumi` here, so each one gets the same backend
(servebox/project.py), the same CLI (on PATH, at least MINIMUM_CLI, run by OwnedPulumiCommand so
servebox owns its signals) and the same rules: one work directory per stack for stacks run side
by side, stack tags for expiry, outputs with secrets withheld.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto
from pulumi.automation.errors import InvalidVersionError
from semver import VersionInfo

from servebox import project
from servebox.interrupts import Interrupts, OwnedPulumiCommand

MINIMUM_CLI = VersionInfo(3, 211, 0)
"""The DIY (file/bucket) backend stores stack tags from v3.211.0 (pulumi/pulumi#19882); expiry is a tag."""
TAG_EXPIRES_AT = "servebox:expires-at"
TAG_PURPOSE = "servebox:purpose"
TAG_CREATED_BY = "servebox:created-by"
SECRET_SHOWN_AS = "[secret]"
PULUMI_INSTALL = "curl -fsSL https://get.pulumi.com | sh (https://www.pulumi.com/docs/iac/download-install/)"

# kind cluster names are `servebox-<stack>` cut to 40 characters (components/naming.py), and buckets
# and VM names are derived from it too: a name that would be cut or rewritten could collide with
# another stack's, so only names that every derived name keeps as they are pass.
STACK_NAME_MAX = 40 - len("servebox-")
_STACK_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
STACK_NAME_RULE = (
    f"lower-case letters, digits and '-', starting with a letter, not ending with '-', "
    f"at most {STACK_NAME_MAX} characters"
)


class ServeboxError(Exception):
    """A problem the user can fix; the message says what, what is allowed, and how."""


def stack_name_problem(name: str) -> str | None:
    """Why `name` cannot be a servebox stack name, or None when it can."""
    if not _STACK_NAME.match(name) or "--" in name:
        return f"{name!r} is not a valid stack name: use {STACK_NAME_RULE}"
    if len(name) > STACK_NAME_MAX:
        return f"{name!r} is {len(name)} characters long: use {STACK_NAME_RULE}"
    return None


def project_config_keys(repo: Path = project.REPO) -> list[str]:
    """servebox's own config keys, as Pulumi.yaml declares them."""
    document = yaml.safe_load((repo / "Pulumi.yaml").read_text())
    return sorted(document.get("config", {}))


def parse_settings(pairs: Sequence[str], repo: Path = project.REPO) -> dict[str, str]:
    """`--set KEY=VALUE` options into config; every bad one named at once."""
    known = project_config_keys(repo)
    settings: dict[str, str] = {}
    problems: list[str] = []
    for pair in pairs:
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            problems.append(f"--set {pair!r}: expected KEY=VALUE, e.g. --set target=gcp or --set gcp:project=my-project")
            continue
        bare = key.removeprefix("servebox:")
        if ":" not in bare and bare not in known:
            problems.append(
                f"--set {key}: not a servebox config key; allowed: {', '.join(known)} "
                "(a provider's key takes its namespace, e.g. gcp:project or aws:region)"
            )
            continue
        settings[bare if ":" not in bare else key] = value
    if problems:
        raise ServeboxError("\n".join(problems))
    return settings


def utc_now() -> datetime:
    """Now, in UTC (one place, so the reaper's --now and the tags agree on the format)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second: what the `servebox:expires-at` tag holds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time; a time without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def output_value(outputs: Mapping[str, auto.OutputValue], key: str) -> str | None:
    """One output as text (a secret's real value: for use in memory, never for printing), or None
    when the stack has no such output or it is empty."""
    value = outputs.get(key)
    return str(value.value) if value is not None and value.value else None


def visible_outputs(outputs: Mapping[str, auto.OutputValue]) -> dict[str, Any]:
    """Stack outputs with every secret replaced by SECRET_SHOWN_AS: nothing secret is ever printed."""
    return {key: SECRET_SHOWN_AS if out.secret else out.value for key, out in outputs.items()}


@dataclass(frozen=True)
class LockHolder:
    """One lock file of a stack on a file backend ({pid, username, hostname, timestamp})."""

    path: Path
    pid: int | None
    hostname: str
    timestamp: str
    alive: bool | None
    """True: the pid runs on this host; False: this host, no such process; None: another host (unknown)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stack_locks(state_dir: Path, stack: str, hostname: str | None = None) -> list[LockHolder]:
    """The lock files the file backend holds for `stack` (pkg/backend/diy/lock.go's layout)."""
    here = hostname or socket.gethostname()
    holders = []
    locks = state_dir / ".pulumi" / "locks"
    for path in sorted(locks.glob(f"**/{stack}/*.json")):
        try:
            lock = json.loads(path.read_text())
        except (OSError, ValueError):
            lock = {}
        pid = lock.get("pid") if isinstance(lock.get("pid"), int) else None
        host = str(lock.get("hostname", ""))
        alive = (_pid_alive(pid) if pid else True) if host == here else None
        holders.append(LockHolder(path, pid, host, str(lock.get("timestamp", "")), alive))
    return holders


def find_pulumi(environ: Mapping[str, str] = os.environ) -> str:
    """The Pulumi CLI on PATH, or an error saying how to install it."""
    found = shutil.which("pulumi", path=environ.get("PATH"))
    if not found:
        raise ServeboxError(f"the pulumi CLI is not on PATH. Install it: {PULUMI_INSTALL}")
    return os.path.abspath(found)


class Pulumi:
    """The one way servebox reaches Pulumi: one CLI, one backend, a workspace per stack."""

    def __init__(
        self,
        interrupts: Interrupts,
        *,
        environ: Mapping[str, str] = os.environ,
        repo: Path = project.REPO,
    ) -> None:
        self.interrupts = interrupts
        self.repo = repo
        self.backend = project.select_backend(environ, repo)
        self.work_root = project.work_root(environ, repo)
        command = find_pulumi(environ)
        try:
            self.command = OwnedPulumiCommand(command, interrupts, MINIMUM_CLI)
        except InvalidVersionError as error:
            raise ServeboxError(
                f"{command}: {error} servebox keeps stack expiry in stack tags, which a file or bucket "
                f"backend stores from Pulumi CLI v{MINIMUM_CLI} on. Upgrade: {PULUMI_INSTALL}"
            ) from None

    @property
    def env(self) -> dict[str, str]:
        """What every CLI call gets on top of servebox's environment."""
        return {**self.backend.env, "PULUMI_SKIP_UPDATE_CHECK": "true"}

    def _workspace(self, directory: Path) -> auto.LocalWorkspace:
        # The passphrase provider on a file backend, as scripts/up.sh chose it (--secrets-provider passphrase).
        provider = "passphrase" if self.backend.state_dir is not None else None
        return auto.LocalWorkspace(
            work_dir=str(directory), env_vars=self.env, secrets_provider=provider, pulumi_command=self.command
        )

    def repo_workspace(self) -> auto.LocalWorkspace:
        """The repository itself: the workstation's stacks (stacks/Pulumi.<stack>.yaml), and listing."""
        return self._workspace(self.repo)

    def own_workspace(self, stack: str) -> auto.LocalWorkspace:
        """A work directory of the stack's own (project.prepare_work_dir): for stacks run side by side."""
        return self._workspace(project.prepare_work_dir(stack, self.work_root, self.repo))

    def has_own_workspace(self, stack: str) -> bool:
        """Whether an earlier ephemeral or workshop run left this stack's work directory."""
        return (project.work_dir(stack, self.work_root) / "Pulumi.yaml").is_file()

    def workspace_for(self, stack: str, *, refresh: bool = True) -> auto.LocalWorkspace:
        """The stack's own work directory when it has one, else the repository.

        `refresh` copies the project into it again (what up and destroy run); reading outputs does not need it.
        """
        if not self.has_own_workspace(stack):
            return self.repo_workspace()
        if refresh:
            return self.own_workspace(stack)
        return self._workspace(project.work_dir(stack, self.work_root))

    def remove_own_workspace(self, stack: str) -> bool:
        """Delete the stack's work directory; True when none is left."""
        return project.remove_work_dir(stack, self.work_root)

    def _stack_entries(self, tag: str | None) -> list[dict[str, Any]]:
        # `stack ls` lists without selecting, so the repository's workspace serves every caller; the
        # SDK's list_stacks has no --tag (the CLI filters on tags since v3.211, diy/backend.go).
        args = ["stack", "ls", "--json"] + (["--tag", tag] if tag else [])
        result = self.command.run(args, str(self.repo), self.env)
        return list(json.loads(result.stdout or "[]"))

    def list_stacks(self, tag: str | None = None) -> list[str]:
        """This project's stack names in the backend (`pulumi stack ls --json [--tag NAME[=VALUE]]`)."""
        return [entry["name"] for entry in self._stack_entries(tag)]

    def stacks_in_progress(self) -> set[str]:
        """Stacks `pulumi stack ls` says an update is running on."""
        return {entry["name"] for entry in self._stack_entries(None) if entry.get("updateInProgress")}

    def tags(self, stack: str) -> dict[str, str]:
        """The stack's tags (`pulumi stack tag ls --json --stack NAME`)."""
        return dict(self.repo_workspace().list_tags(stack))

    def locks(self, stack: str) -> list[LockHolder]:
        """The stack's lock files; [] where the backend is not a local directory."""
        return stack_locks(self.backend.state_dir, stack) if self.backend.state_dir else []


def config_map(settings: Mapping[str, str]) -> dict[str, auto.ConfigValue]:
    """--set values as the Automation API's config (plain text: servebox's keys hold no secrets)."""
    return {key: auto.ConfigValue(value=value) for key, value in settings.items()}


def destroy(stack: auto.Stack, on_event: Callable[[auto.EngineEvent], None] | None = None) -> None:
    """`pulumi destroy`, with a vanished cluster no obstacle.

    PULUMI_K8S_DELETE_UNREACHABLE: when the cluster is already gone (kind deleted, the VM's TTL
    fired), the Kubernetes provider would otherwise fail the destroy on every object
    (pulumi/pulumi-kubernetes#2463, #2489; ops-and-own-model.md §0.5, §2.2).
    """
    workspace = stack.workspace
    workspace.env_vars = {**workspace.env_vars, "PULUMI_K8S_DELETE_UNREACHABLE": "true"}
    stack.destroy(on_event=on_event, on_output=lambda _line: None)
