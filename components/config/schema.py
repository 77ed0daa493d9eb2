"""The config schema (Pulumi.yaml's `config:` block, the only place keys, types and defaults live)
and the reader that turns raw values into typed ones, collecting every problem with its fix."""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml

PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"

AUTO = "auto"
"""The CIDR keys' default: this machine's public address, looked up at run time (components/host.py)."""



class ConfigError(pulumi.RunError):
    """Raised with every configuration problem at once; RunError prints without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"servebox configuration has {count} (nothing was created):\n{lines}")


@dataclass(frozen=True)
class ConfigKey:
    """One key of the Pulumi.yaml config schema."""

    name: str
    type: str
    default: Any
    description: str


@cache
def config_schema(project_file: Path = PROJECT_FILE) -> dict[str, ConfigKey]:
    """The project's declared config keys, read from Pulumi.yaml (the only place they live)."""
    project = yaml.safe_load(project_file.read_text())
    return {
        name: ConfigKey(name, spec["type"], spec.get("default"), spec.get("description", ""))
        for name, spec in project.get("config", {}).items()
    }


def project_name(project_file: Path = PROJECT_FILE) -> str:
    """The project name from Pulumi.yaml; config keys are namespaced by it."""
    return str(yaml.safe_load(project_file.read_text())["name"])


_T = TypeVar("_T")


def known(value: _T | None) -> _T:
    """A value the reader parsed. Settings are built only after every problem was reported (or the
    value was checked on the spot), so a None reaching here is servebox's bug, not the user's."""
    assert value is not None, "a config value was used before its problems were checked"
    return value


class _Reader:
    """Reads raw string values and collects problems instead of stopping at the first one."""

    def __init__(self, raw: Mapping[str, Any], schema: Mapping[str, ConfigKey]):
        self.raw = raw
        self.schema = schema
        self.problems: list[str] = []
        self.warnings: list[str] = []
        """What `up` says but does not refuse."""

    def value(self, key: str) -> str:
        value = self.raw.get(key, self.schema[key].default)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def is_default(self, key: str) -> bool:
        """True when `key` holds its Pulumi.yaml default. The Pulumi CLI sets every default the stack
        does not set before the program runs (pkg/workspace/config.go, mergeConfig), so a key is
        always present: whether the user chose something is told by its value, never its presence."""
        spec = self.schema[key]
        return _canonical(spec, self.raw.get(key, spec.default)) == _canonical(spec, spec.default)

    def problem(self, key: str, given: object, allowed: str, fix_value: object | None = None) -> None:
        fix = self.schema[key].default if fix_value is None else fix_value
        fix = str(fix).lower() if isinstance(fix, bool) else fix
        self.problems.append(
            f"{key}: got {given!r}; allowed: {allowed}. Fix: pulumi config set {key} {_shell_word(fix)}"
        )

    def enum(self, key: str, enum: type[Enum], available: tuple[Enum, ...] | None = None) -> Any:
        given = self.value(key)
        choices = available or tuple(enum)
        allowed = ", ".join(member.value for member in choices)
        planned = [member.value for member in enum if member not in choices]
        if planned:
            allowed += f" ({', '.join(planned)}: planned, not built yet)"
        member = next((m for m in enum if m.value == given), None)
        if member not in choices:
            self.problem(key, given, allowed)
            return None
        return member

    def integer(self, key: str, low: int, high: int) -> int | None:
        given = self.value(key)
        if not re.fullmatch(r"-?\d+", given.strip()):
            self.problem(key, given, f"a whole number from {low} to {high}")
            return None
        number = int(given)
        if not low <= number <= high:
            self.problem(key, given, f"a whole number from {low} to {high}")
            return None
        return number

    def boolean(self, key: str) -> bool | None:
        given = self.value(key)
        if given.strip().lower() not in ("true", "false"):
            self.problem(key, given, "true or false")
            return None
        return given.strip().lower() == "true"

    def cidrs(self, key: str) -> tuple[str, ...] | str | None:
        """AUTO, or the comma-separated IPv4 networks of `key`, each in canonical form."""
        given = self.value(key)
        if given.strip() == AUTO:
            return AUTO
        items = [item.strip() for item in given.split(",")]
        networks = []
        for item in items:
            try:
                networks.append(str(ipaddress.IPv4Network(item, strict=True)))
            except ValueError as error:
                reason = "host bits are set" if "has host bits set" in str(error) else "not an IPv4 CIDR"
                self.problem(
                    key, given, f"auto, or comma-separated IPv4 CIDRs such as 203.0.113.7/32 ({item!r}: {reason})"
                )
                return None
        return tuple(networks)

    def matching(self, key: str, check: Callable[[str], bool], allowed: str) -> str | None:
        given = self.value(key)
        if not check(given):
            self.problem(key, given, allowed)
            return None
        return given


def _canonical(spec: ConfigKey, value: Any) -> Any:
    """A config value in a form that compares equal however the CLI spelled it: a number for an
    integer key (8 and "8"), true/false for a boolean key, the parsed list or map for an array or
    object key (JSON text or a structure), the text itself for a string key."""
    if spec.type == "boolean":
        return str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if spec.type == "integer":
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else text
    if spec.type in ("array", "object") and isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except json.JSONDecodeError:
            return value
    return "" if value is None else value


def _shell_word(value: object) -> str:
    text = str(value)
    return text if re.fullmatch(r"[A-Za-z0-9._/:-]+", text) else f"'{text}'"


def _unknown_keys(raw: Mapping[str, Any], schema: Mapping[str, ConfigKey]) -> list[str]:
    problems = []
    for key in sorted(set(raw) - set(schema)):
        close = difflib.get_close_matches(key, list(schema), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            f"{key}: got {str(raw[key])!r} for a key servebox does not have{hint}; "
            f"allowed: {', '.join(sorted(schema))}. Fix: pulumi config rm {key}"
        )
    return problems
