"""The existing target: its kubeconfig and context, by the program's own rules and messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import config
from servebox.preflight.facts import FAIL, OK, WARN, Check, HostFacts


def existing_kubeconfig(settings: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """The program's verdict on an existing stack's kubeconfig keys, from the stack file (and --set).
    A `kubeconfig` held as a secret (`secure:`) cannot be read here: the program checks it at up."""
    prefix = f"{config.project_name()}:"
    raw = {key[len(prefix) :]: value for key, value in settings.items() if key.startswith(prefix)}
    raw = {key: raw[key] for key in ("kubeconfigPath", "kubeContext", "kubeconfig") if key in raw}
    secret = isinstance(raw.get("kubeconfig"), dict)
    if secret:
        return "(a secret kubeconfig: checked by the program at up)", ()
    context, problems = config.kubeconfig_problems({key: str(value) for key, value in raw.items()})
    return context, tuple(problems)


def check_kubeconfig(facts: HostFacts) -> list[Check]:
    """One OK for a kubeconfig and context the program will accept, else a FAIL per problem."""
    if facts.kubeconfig is None:
        return [Check("kubeconfig", WARN, "not checked")]
    context, problems = facts.kubeconfig
    if not problems:
        return [Check("kubeconfig", OK, f"context {context}" if not context.startswith("(") else context)]
    checks = []
    for problem in problems:
        message, _, fix = problem.partition(" Fix: ")
        checks.append(Check(message.split(":", 1)[0], FAIL, message.split(":", 1)[1].strip(), fix))
    return checks
