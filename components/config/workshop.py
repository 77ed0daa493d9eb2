"""A shared workshop's attendees (`attendees`, `attendeeCpu`, `attendeeMemory`): one namespace
each on the stack's one cluster, checked before any resource exists."""

from __future__ import annotations

import re

from components.config.quantities import _CPU_ALLOWED, _MEMORY_ALLOWED, cpu_millicores, memory_bytes
from components.config.schema import _Reader
from components.config.settings import StoreKind, Target, WorkshopSettings

ATTENDEE_NAMESPACE_PREFIX = "ws-"
_ID = re.compile(r"[a-z]([-a-z0-9]{0,18}[a-z0-9])?")


def read_workshop(read: _Reader, target: Target | None, store: StoreKind | None, model_namespace: str | None) -> WorkshopSettings | None:
    """The attendees and their quota, or None without attendees; problems added to `read`."""
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
    if model_namespace in {f"{ATTENDEE_NAMESPACE_PREFIX}{item}" for item in ids}:
        read.problems.append(f"modelNamespace: got {model_namespace!r}, an attendee's namespace; allowed: another name. "
                             "Fix: pulumi config set modelNamespace models")
    if target is not None and (target not in (Target.KIND, Target.EXISTING) or store is not StoreKind.MINIO):
        where = f"target {target.value}" + (f" with store {store.value}" if store and target is Target.EXISTING else "")
        read.problems.append(
            f"attendees: got {len(ids)} attendees on {where}; allowed: a shared workshop on target kind, or existing with "
            "store minio (each attendee's store keys are a MinIO user limited to their prefix; on a VM every pod would "
            "share the machine's identity, and MinIO on a VM is not built yet). Fix: pulumi config set attendees '' "
            "(and use servebox workshop up without --shared: one stack per attendee)"
        )
    cpu = read.value("attendeeCpu")
    if not cpu_millicores(cpu):
        read.problem("attendeeCpu", cpu, _CPU_ALLOWED)
    memory = read.value("attendeeMemory")
    if not memory_bytes(memory):
        read.problem("attendeeMemory", memory, _MEMORY_ALLOWED)
    if len(read.problems) > before:
        return None
    return WorkshopSettings(attendees=tuple(ids), cpu=cpu, memory=memory)
