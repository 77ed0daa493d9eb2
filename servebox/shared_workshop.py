"""`servebox workshop up|status|down --shared`: one stack, every attendee a corner of it.

`up` creates (or selects) the stack `<event>` in a work directory of its own, sets `attendees`
from the roster (and no model API key unless --set says: the roster's requests work as printed),
runs `up`, then hands each attendee a kubeconfig of their own: their namespace's ServiceAccount
(components/workshop.py), a token from the API's TokenRequest that expires with the workshop
(`--ttl-hours`), the cluster's address and CA from the stack's kubeconfig output. Each is a file
`<out>/kubeconfigs/<attendee>.yaml` (mode 0600), never printed; the roster names it. No token is
kept in the stack's state. `status` reads each attendee's models from the cluster
(servebox/model_status.py); `down` destroys the one stack.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto
from rich.console import Console

from components.naming import ATTENDEE_ACCOUNT
from components.outputs import ATTENDEES, KUBECONFIG
from servebox import lifecycle, model_status, roster, stacks
from servebox.outcomes import Outcome
from servebox.progress import ResourceProgress, WorkshopView
from servebox.stacks import Pulumi, ServeboxError
from servebox.workshop import TAG_WORKSHOP, note_model_cidrs

ACCOUNT = ATTENDEE_ACCOUNT
KUBECONFIG_DIR = "kubeconfigs"


@dataclass(frozen=True)
class SharedOptions:
    roster_path: Path
    event: str
    settings: Mapping[str, str]
    ttl_hours: float
    out_dir: Path


def shared_settings(base: Mapping[str, str], attendees: list[roster.Attendee]) -> dict[str, str]:
    """The stack's config: the organiser's --set values and the attendees' ids."""
    settings = dict(base)
    settings.setdefault("modelAuth", "none")
    settings["attendees"] = ",".join(attendee.attendee for attendee in attendees)
    return settings


def attendee_kubeconfig(admin: Mapping[str, Any], namespace: str, token: str) -> dict[str, Any]:
    """A kubeconfig for one attendee: the admin kubeconfig's current cluster (address, CA), the
    attendee's token, their namespace as the default."""
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    cluster = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
    name = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": name,
        "clusters": [{"name": name, "cluster": cluster["cluster"]}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
    }


def request_token(admin_kubeconfig: str, namespace: str, seconds: int) -> str:
    """A token of the namespace's attendee ServiceAccount, valid for `seconds` (TokenRequest)."""
    from kubernetes import client, config

    api = config.new_client_from_config_dict(yaml.safe_load(admin_kubeconfig))
    body = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=seconds))
    answer = client.CoreV1Api(api).create_namespaced_service_account_token(ACCOUNT, namespace, body)
    return str(answer.status.token)


def write_private(path: Path, text: str) -> None:
    """`text` into a file only its owner may read (created so, never widened afterwards)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)


class SharedWorkshop:
    """Runs one shared workshop's stack."""

    def __init__(self, pulumi: Pulumi, console: Console, *, now: Callable[[], datetime.datetime] = stacks.utc_now,
                 token: Callable[[str, str, int], str] = request_token) -> None:
        self.pulumi, self.console, self.now, self.token = pulumi, console, now, token

    def up(self, options: SharedOptions) -> tuple[Outcome, list[dict[str, str]]]:
        attendees = roster.read_attendees(options.roster_path, options.event)
        note_model_cidrs(options.settings, self.console)
        tags = {**lifecycle.expiry_tags("workshop", self.now(), options.ttl_hours), TAG_WORKSHOP: options.event}
        view = WorkshopView(self.console, time.monotonic)
        view.add(options.event, options.event)
        progress = ResourceProgress(time.monotonic)
        error = ""
        outputs: dict[str, Any] = {}
        with view:
            view.update(options.event, phase="create", progress=progress)
            try:
                stack = lifecycle.create(self.pulumi, options.event, shared_settings(options.settings, attendees), tags, existing_ok=True)
                view.update(options.event, phase="up")
                raw = lifecycle.up_outputs(stack, progress.on_event, lambda _line: None)
                outputs = stacks.visible_outputs(raw)
                view.update(options.event, phase="done", result="up")
            except (auto.CommandError, OSError) as failure:
                error = lifecycle.cli_error(failure, 4)
                view.update(options.event, phase="failed", result="failed")
        corners = outputs.get(ATTENDEES) or {}
        files: dict[str, str] = {}
        if not error:
            admin = stacks.output_value(raw, KUBECONFIG)
            if not admin:
                raise ServeboxError(f"stack {options.event} has no {KUBECONFIG} output: did its up finish?")
            seconds = int(options.ttl_hours * 3600)
            for attendee in attendees:
                namespace = corners[attendee.attendee]["namespace"]
                try:
                    token = self.token(admin, namespace, seconds)
                except Exception as failure:  # the client's connection and API errors: say which, then stop
                    raise ServeboxError(
                        f"stack {options.event} is up, but attendee {attendee.attendee}'s token could not be made "
                        f"({type(failure).__name__}: {failure}); run the same workshop up --shared again"
                    ) from None
                kubeconfig = attendee_kubeconfig(yaml.safe_load(admin), namespace, token)
                path = options.out_dir / KUBECONFIG_DIR / f"{attendee.attendee}.yaml"
                write_private(path, yaml.safe_dump(kubeconfig, sort_keys=False))
                files[attendee.attendee] = str(path.relative_to(options.out_dir))
        rows = [
            {
                "attendee": a.attendee, "name": a.name, "stack": options.event, "status": "up" if not error else "failed",
                "endpoint": str((corners.get(a.attendee) or {}).get("endpoint") or ""),
                "request": str((corners.get(a.attendee) or {}).get("curl") or ""),
                "expires_at": tags[stacks.TAG_EXPIRES_AT], "error": error,
                "namespace": str((corners.get(a.attendee) or {}).get("namespace") or ""),
                "kubeconfig": files.get(a.attendee, ""),
            }
            for a in attendees
        ]
        options.out_dir.mkdir(parents=True, exist_ok=True)
        roster.write_csv(rows, options.out_dir / "roster.csv")
        (options.out_dir / "roster.html").write_text(roster.render_html(
            rows, event=options.event, teardown=f"servebox workshop down --shared --event {options.event}",
            plan_b="if your model does not answer, ask the organiser: one `up` of the shared stack repairs every corner",
        ))
        return (Outcome.UP_FAILED if error else Outcome.PASSED), rows

    def status(self, event: str) -> list[dict[str, Any]]:
        """Each attendee: their namespace and whether their models are ready (one list per kind each)."""
        stack = self._select(event)
        raw = stack.outputs()
        admin = stacks.output_value(raw, KUBECONFIG) or ""
        found = raw.get(ATTENDEES)
        corners = (found.value if found is not None else None) or {}
        serving = stacks.output_value(raw, "serving") or "kserve"
        lines = []
        for attendee, corner in corners.items():
            models = model_status.read_models(admin, corner["namespace"], serving)
            waiting = [m.name for m in models if not m.ready]
            lines.append({"attendee": attendee, "namespace": corner["namespace"], "models": len(models),
                          "ready": not waiting and bool(models), "not_ready": ", ".join(waiting)})
        return lines

    def down(self, event: str) -> tuple[Outcome, dict[str, Any]]:
        cleanup = lifecycle.tear_down(self.pulumi, event)
        return (Outcome.PASSED if cleanup.complete else Outcome.CLEANUP_INCOMPLETE), {"stack": event, **cleanup.as_json()}

    def _select(self, event: str) -> auto.Stack:
        try:
            return auto.Stack.select(event, self.pulumi.workspace_for(event, refresh=False))
        except auto.StackNotFoundError:
            raise ServeboxError(f"no shared workshop stack named {event!r}; servebox workshop up --shared --event {event} makes it") from None
