"""A shared workshop's attendees (`attendees`, `attendeeCpu`, `attendeeMemory`): one namespace
each on the stack's one cluster, checked before any resource exists."""

from __future__ import annotations

import re

from components.config import sizing
from components.config.quantities import _CPU_ALLOWED, _MEMORY_ALLOWED, cpu_millicores, memory_bytes
from components.config.schema import _Reader, known
from components.config.settings import (
    DeploymentMode,
    ModelSettings,
    OwnModel,
    Serving,
    StoreKind,
    Target,
    WorkshopSettings,
)
from components.naming import attendee_namespace

_ID = re.compile(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?")


def read_workshop(
    read: _Reader,
    target: Target | None,
    store: StoreKind | None,
    model_namespace: str | None,
    serving: Serving | None,
    mode: DeploymentMode | None,
    model: ModelSettings | None,
    machine: tuple[str, str, str] | None,
    samples: bool = True,
    own_models: tuple[OwnModel, ...] = (),
) -> WorkshopSettings | None:
    """The attendees and their quota, or None without attendees; problems added to `read`.
    `machine`: (cloud, key, machine type) on a VM target, which must hold every model at once
    (components/config/sizing.py): the samples (the stack's and each attendee's, when `samples`)
    and the `own_models`, each at its minimum replicas (at least one: a class calls them all)."""
    given = read.value("attendees")
    ids = [item.strip() for item in given.split(",") if item.strip()]
    if not ids:
        return None
    before = len(read.problems)
    bad = [item for item in ids if not _ID.fullmatch(item)]
    if bad:
        read.problem("attendees", given, "comma-separated ids, each lower-case letters, digits and -, starting with a "
                     f"letter, at most 20 characters ({', '.join(repr(b) for b in bad)} is not)", "user01,user02")
    repeated = sorted({item for item in ids if ids.count(item) > 1})
    if repeated:
        read.problem("attendees", given, f"each id once ({', '.join(repeated)} repeats)", ",".join(dict.fromkeys(ids)))
    if model_namespace in {attendee_namespace(item) for item in ids}:
        read.problems.append(f"modelNamespace: got {model_namespace!r}, an attendee's namespace; allowed: another name. "
                             "Fix: pulumi config set modelNamespace models")
    if machine is not None and None not in (serving, mode, model) and not read.problems[before:]:
        settings = [known(model)] * ((len(ids) + 1) if samples else 0) + [own.settings for own in own_models]
        _check_machine(read, machine, len(ids), settings, known(serving), known(mode))
    cpu = read.value("attendeeCpu")
    if not cpu_millicores(cpu):
        read.problem("attendeeCpu", cpu, _CPU_ALLOWED)
    memory = read.value("attendeeMemory")
    if not memory_bytes(memory):
        read.problem("attendeeMemory", memory, _MEMORY_ALLOWED)
    if len(read.problems) > before:
        return None
    return WorkshopSettings(attendees=tuple(ids), cpu=cpu, memory=memory)


def _check_machine(read: _Reader, machine: tuple[str, str, str], attendees: int, models: list[ModelSettings], serving: Serving,
                   mode: DeploymentMode) -> None:
    """Refuse a machine type that cannot hold every model at once, naming the smallest that can."""
    cloud, key, name = machine
    requests = []
    for settings in models:
        cpu, memory = cpu_millicores(settings.cpu_request), memory_bytes(settings.memory_request)
        if cpu is None or memory is None:
            return  # reported with its own key
        requests += [(cpu, memory)] * max(1, settings.min_replicas)
    need = sizing.needed(requests, serving.value, mode.value)
    chosen = sizing.machine(cloud, name)
    if chosen is not None and sizing.fits(chosen, need):
        return
    smallest = sizing.smallest_fit(cloud, need)
    wants = (f"{need[0]}m CPU and {need[1] / sizing.GiB:.1f} GiB requested by k3s, the platform and {len(requests)} "
             f"model pods at once (the stack's and {attendees} attendees')")
    if chosen is None:
        read.warnings.append(f"{key}: {name!r} is not in servebox's table of machine types, so it cannot tell whether "
                             f"it holds {wants}" + (f"; {smallest.name} does" if smallest else ""))
        return
    allowed = f"a machine type with room for {wants}"
    if smallest is None:
        read.problem(key, name, f"{allowed}; none in servebox's table has it (at most {sizing.MACHINES[cloud][-1].name}): "
                     "split the class over two stacks", name)
        return
    read.problem(key, name, f"{allowed} ({name}: {chosen.vcpus * 1000}m, {chosen.memory_gib} GiB); the smallest that "
                 f"holds them is {smallest.name}", smallest.name)
