"""`servebox reap`: destroy this project's stacks whose `servebox:expires-at` tag has passed.

Pulumi's own TTL stacks need Pulumi Cloud Deployments; on a file or bucket backend the tag is the
record (ops-and-own-model.md §0.6, §2.2). The reaper never touches a stack an update holds:
- a lock file whose pid runs on this host, or one written on another host (its liveness cannot be
  told from here), or `updateInProgress` in `pulumi stack ls`, means: skip it;
- it never calls `pulumi cancel`, which on a file backend deletes every lock file of the stack
  without stopping the process that holds it (§0.3, §1.5). A lock left by a dead process is
  reported with the command that clears it, for a person to run after checking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servebox import lifecycle, stacks
from servebox.outcomes import Outcome
from servebox.stacks import Pulumi, ServeboxError


@dataclass(frozen=True)
class ReapOptions:
    """What `servebox reap` was asked to do."""

    dry_run: bool = False
    now: datetime | None = None
    """The time expiry is compared with (--now); None: the clock."""


def parse_now(text: str | None) -> datetime | None:
    """--now as a time, or a clear error."""
    if text is None:
        return None
    try:
        return stacks.parse_iso(text)
    except ValueError:
        raise ServeboxError(f"--now: got {text!r}; expected an ISO 8601 time such as 2026-12-01T18:00:00Z") from None


def _lock_reason(pulumi: Pulumi, name: str) -> str | None:
    for lock in pulumi.locks(name):
        if lock.alive:
            return f"locked by a live update (pid {lock.pid} on {lock.hostname}, since {lock.timestamp})"
        if lock.alive is None:
            return (f"locked from another host ({lock.hostname}, pid {lock.pid}, since {lock.timestamp}); "
                    "whether that update still runs cannot be told from here")
        return (f"a stale lock (pid {lock.pid} on this host is gone, since {lock.timestamp}); after making sure "
                f"no update of it runs: pulumi cancel --yes --stack {name}, then servebox reap again")
    return None


def reap(pulumi: Pulumi, options: ReapOptions, clock: Callable[[], datetime] = stacks.utc_now) -> tuple[Outcome, dict[str, Any]]:
    """Destroy (or, with dry_run, list) the expired stacks; the report says what was done to each."""
    now = options.now or clock()
    report: dict[str, Any] = {"now": stacks.iso(now), "dry_run": options.dry_run, "stacks": []}
    in_progress = pulumi.stacks_in_progress()
    incomplete = False
    for name in pulumi.list_stacks(tag=stacks.TAG_EXPIRES_AT):
        tags = pulumi.tags(name)
        entry: dict[str, Any] = {"stack": name, "expires_at": tags.get(stacks.TAG_EXPIRES_AT)}
        report["stacks"].append(entry)
        try:
            expires = stacks.parse_iso(entry["expires_at"] or "")
        except ValueError:
            entry.update(action="skipped", reason=(
                f"{stacks.TAG_EXPIRES_AT} is {entry['expires_at']!r}, not an ISO 8601 time; fix: "
                f"pulumi stack tag set {stacks.TAG_EXPIRES_AT} 2026-12-01T18:00:00Z --stack {name}"))
            continue
        if expires > now:
            entry.update(action="kept", reason="not expired yet")
            continue
        locked = _lock_reason(pulumi, name) or (
            "an update is in progress (pulumi stack ls: updateInProgress)" if name in in_progress else None)
        if locked:
            entry.update(action="skipped", reason=locked)
            continue
        if options.dry_run:
            entry.update(action="would_destroy", reason="expired")
            continue
        cleanup = lifecycle.tear_down(pulumi, name)
        entry.update(action="destroyed" if cleanup.complete else "failed", reason="expired", cleanup=cleanup.as_json())
        incomplete = incomplete or not cleanup.complete
    return (Outcome.CLEANUP_INCOMPLETE if incomplete else Outcome.PASSED), report
