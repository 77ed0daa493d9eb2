"""The stack's own file (stacks/Pulumi.<stack>.yaml) and this run's --set values, read the way the
program reads them: target, host ports, provider keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components import config
from servebox.preflight.facts import FAIL, Check, HostPort

REPO = Path(__file__).resolve().parents[2]
STACKS_DIR = REPO / "stacks"  # Pulumi.yaml: stackConfigDir: stacks
OVERRIDES: dict[str, str] = {}
"""This run's `--set KEY=VALUE` values (servebox up passes its own): they go on the stack before up,
so the checks judge them over the stack file's."""
# The stack's config keys naming a port on 127.0.0.1 that the kind cluster maps to a NodePort:
# the Istio ingress and the model store's S3 API (MinIO). Docker must bind each, so each must be
# free (or already held by this stack's cluster), and they must differ.
HOST_PORT_KEYS = ("kindHostPort", "kindStoreHostPort")

# STACKS_DIR stays out of `from stackfile import *`: it is read at call time, and a copy would go stale.
__all__ = ["HOST_PORT_KEYS", "OVERRIDES", "REPO", "check_stack_file", "read_host_port", "stack_host_port", "stack_name", "stack_settings", "stack_target", "stack_value"]


# --- Stack config --------------------------------------------------------------------------------


def stack_name(stack: str) -> str:
    """The stack's own name: `org/project/name` and `org/name` both become `name`, as Pulumi does
    for the stack config file and for pulumi.get_stack() (and so for the kind cluster name)."""
    return stack.rsplit("/", 1)[-1]


def stack_settings(stack: str, stacks_dir: Path = STACKS_DIR) -> dict[str, Any]:
    """The `config:` block of stacks/Pulumi.<stack>.yaml ({} when the file is absent or unreadable:
    the program's own validation reports that), with this run's `--set` values (OVERRIDES) over it."""
    path = stacks_dir / f"Pulumi.{stack_name(stack)}.yaml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        document = {}
    settings = document.get("config") if isinstance(document, dict) else None
    settings = dict(settings) if isinstance(settings, dict) else {}
    for key, value in OVERRIDES.items():
        full = key if ":" in key else f"{config.project_name()}:{key}"
        settings.pop(key, None)
        settings[full] = value
    return settings


def stack_value(stack: str, key: str, stacks_dir: Path = STACKS_DIR) -> str:
    """The stack's `key` (its config file, else the Pulumi.yaml default)."""
    settings = stack_settings(stack, stacks_dir)
    value = settings.get(f"{config.project_name()}:{key}", settings.get(key))
    return str(value if value is not None else config.config_schema()[key].default)


def stack_target(stack: str, stacks_dir: Path = STACKS_DIR) -> str:
    """The stack's `target` (its config file, else the Pulumi.yaml default)."""
    return stack_value(stack, "target", stacks_dir)


def stack_host_port(stack: str, key: str, stacks_dir: Path = STACKS_DIR) -> tuple[int, str]:
    """The stack's host port `key` and where it came from; ValueError saying what is wrong with it."""
    project = config.project_name()
    path = stacks_dir / f"Pulumi.{stack_name(stack)}.yaml"
    value: Any = None
    source = "default in Pulumi.yaml"
    if path.is_file():
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"could not read {path}: {exc}") from exc
        settings = document.get("config") if isinstance(document, dict) else None
        settings = settings if isinstance(settings, dict) else {}
        for name in (f"{project}:{key}", key):
            if settings.get(name) is not None:
                value, source = settings[name], f"set in {path.relative_to(stacks_dir.parent)}"
                break
    if key in OVERRIDES:
        value, source = OVERRIDES[key], "--set"
    if value is None:
        value = config.config_schema()[key].default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1024 <= int(text) <= 65535:
        raise ValueError(f"{key} is {value!r} ({source}), not a port from 1024 to 65535")
    return int(text), source


def read_host_port(stack: str, key: str, stacks_dir: Path) -> HostPort:
    """`stack_host_port` as a HostPort, a problem kept for the check to report instead of raised."""
    try:
        port, source = stack_host_port(stack, key, stacks_dir)
    except ValueError as exc:
        return HostPort(problem=str(exc))
    return HostPort(port, source)


def check_stack_file(stack: str, stacks_dir: Path) -> Check | None:
    """A FAIL naming the stacks that exist when STACK has no stack file, else None: its target, and so
    every other check, would be a guess."""
    name = stack_name(stack)
    if (stacks_dir / f"Pulumi.{name}.yaml").is_file():
        return None
    known = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in stacks_dir.glob("Pulumi.*.yaml"))
    return Check(
        "stack",
        FAIL,
        f"no stack {name!r}: there is no {stacks_dir.name}/Pulumi.{name}.yaml; the stacks here are "
        f"{', '.join(known) or 'none'}",
        f"use one of them, or make it: cp {stacks_dir.name}/Pulumi.kind.yaml {stacks_dir.name}/Pulumi.{name}.yaml",
    )
