"""`servebox up|down|status|outputs` for one stack on the workstation (what scripts/up.sh did).

A stack with a work directory of its own (made by ephemeral or workshop) is run there; any other
stack runs in the repository, on its file in stacks/ (Pulumi.yaml: stackConfigDir), as before.
`up` on a VM stack refreshes the VM first: its TTL or Spot may have stopped or deleted it, and only
the VM is refreshed (servebox/refresh_targets.py says why).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from rich.console import Console

from components.config import config_schema, project_name
from components.outputs import API_KEY, KUBECONFIG
from servebox import lifecycle, refresh_targets, stacks
from servebox.outcomes import Outcome
from servebox.progress import ResourceProgress, UpdateView
from servebox.stacks import Pulumi, ServeboxError


def _stopped(pulumi: Pulumi) -> Outcome:
    return Outcome.INTERRUPTED if pulumi.interrupts.reason else Outcome.UP_FAILED


def up(pulumi: Pulumi, name: str, settings: Mapping[str, str], ttl_hours: float | None, console: Console) -> Outcome:
    """Create or select the stack, set --set config, refresh a VM, `pulumi up`, print the outputs."""
    workspace = pulumi.workspace_for(name)
    console.print(pulumi.backend.description, markup=False, highlight=False)
    try:
        stack = auto.Stack.create_or_select(name, workspace)
        if settings:
            stack.set_all_config(stacks.config_map(settings))
        if stacks.TAG_PURPOSE not in stack.list_tags():
            # A stack made by ephemeral or workshop keeps what it is when a person resumes it here.
            stack.set_tag(stacks.TAG_PURPOSE, "dev")
        if ttl_hours is not None:
            # Only when asked: a workstation stack without --ttl-hours is never the reaper's.
            stack.set_tag(stacks.TAG_EXPIRES_AT, lifecycle.expiry_tags("dev", stacks.utc_now(), ttl_hours)[stacks.TAG_EXPIRES_AT])
        vm_urns = _vm_urns_in_state(stack, name)
        if vm_urns:
            console.print("Refreshing the VM (its TTL or Spot may have stopped or deleted it)", markup=False)
            stack.refresh(target=vm_urns, on_output=lambda _line: None, color="never")
        progress = ResourceProgress()
        with UpdateView(f"up {name}", console, progress):
            outputs = lifecycle.up(stack, progress.on_event, lambda _line: None)
    except auto.CommandError as error:
        console.print(f"servebox up {name} failed:\n{lifecycle.cli_error(error)}", markup=False, highlight=False)
        if pulumi.interrupts.reason:
            console.print(f"Interrupted; the update was cancelled. `servebox up {name}` resumes it, "
                          f"`servebox down {name}` removes it.", markup=False)
        return _stopped(pulumi)
    print_outputs(outputs)
    return Outcome.PASSED


def _vm_urns_in_state(stack: auto.Stack, name: str) -> list[str]:
    try:
        urns = refresh_targets.refresh_targets(name, Path(stack.workspace.work_dir) / "stacks")
    except (OSError, KeyError, ValueError):
        return []
    if not urns:
        return []
    deployment = stack.export_stack().deployment or {}
    present = {resource.get("urn") for resource in deployment.get("resources") or []}
    return [urn for urn in urns if urn in present]


def down(pulumi: Pulumi, name: str, keep_stack: bool, console: Console) -> Outcome:
    """Destroy the stack (the cluster last), then remove it unless keep_stack; stacks/ files stay."""
    with pulumi.interrupts.shielded():
        progress = ResourceProgress()
        with UpdateView(f"destroy {name}", console, progress):
            if keep_stack:
                try:
                    stack = auto.Stack.select(name, pulumi.workspace_for(name))
                    stacks.destroy(stack, progress.on_event)
                except auto.CommandError as error:
                    console.print(f"servebox down {name} failed:\n{lifecycle.cli_error(error)}", markup=False)
                    return Outcome.CLEANUP_INCOMPLETE
                return Outcome.PASSED
            cleanup = lifecycle.tear_down(pulumi, name, on_event=progress.on_event)
    if cleanup.complete:
        console.print(f"Stack {name} destroyed and removed.", markup=False)
        return Outcome.PASSED
    console.print(f"servebox down {name}: left: {'; '.join(cleanup.left)}\n{cleanup.error or ''}", markup=False)
    return Outcome.CLEANUP_INCOMPLETE


def _select(pulumi: Pulumi, name: str) -> auto.Stack:
    try:
        return auto.Stack.select(name, pulumi.workspace_for(name, refresh=False))
    except auto.StackNotFoundError:
        raise ServeboxError(f"no stack named {name!r}; `servebox status` lists the stacks") from None


def outputs(pulumi: Pulumi, name: str) -> dict[str, Any]:
    """The stack's outputs, secrets withheld."""
    return stacks.visible_outputs(_select(pulumi, name).outputs())


def outputs_and_api_key(pulumi: Pulumi, name: str) -> tuple[dict[str, Any], str | None]:
    """The stack's outputs with secrets withheld, and its model API key (modelAuth apikey) for the
    clients to send, from one read of the outputs; the key is never printed."""
    raw = _select(pulumi, name).outputs()
    return stacks.visible_outputs(raw), stacks.output_value(raw, API_KEY)


def api_key(pulumi: Pulumi, name: str) -> str | None:
    """The stack's model API key (modelAuth apikey), for the clients to send; never printed."""
    return outputs_and_api_key(pulumi, name)[1]


def _config_value(stack: auto.Stack, key: str) -> str:
    """A key of servebox's config on the stack: its value, else its Pulumi.yaml default."""
    try:
        return str(stack.get_config(f"{project_name()}:{key}").value)
    except auto.CommandError:  # `pulumi config get` fails for a key that is not set
        return str(config_schema()[key].default)


def model_logs(
    pulumi: Pulumi, name: str, model: str, container: str | None, since: int | None, tail: int, follow: bool = False
) -> Outcome:
    """`servebox logs STACK MODEL`: the model's pods' log lines, prefixed with their pod's name."""
    from servebox import model_status

    kubeconfig, namespace, serving = _cluster_of(pulumi, name)
    try:
        pods = model_status.model_pods(kubeconfig, namespace, serving, model)
        if not pods:
            raise ServeboxError(f"stack {name} has no pods of model {model!r} in namespace {namespace} (`servebox status {name}` lists its models)")
        chosen = container or model_status.default_container(pods, serving, model)
        print(f"# {model}: container {chosen}, {len(pods)} pod(s)", flush=True)
        if follow:  # until every stream ends, or Ctrl-C
            model_status.follow(
                kubeconfig, namespace, pods, chosen, lambda line: print(line, flush=True), since_seconds=since, tail=tail
            )
            return Outcome.PASSED
        lines = model_status.logs(kubeconfig, namespace, pods, chosen, since_seconds=since, tail=tail)
    except ServeboxError:
        raise
    except Exception as error:  # the client's connection and API errors: say which, then stop
        raise ServeboxError(f"could not read stack {name}'s cluster: {type(error).__name__}: {error}") from None
    print("\n".join(lines), flush=True)
    return Outcome.PASSED


def _cluster_of(pulumi: Pulumi, name: str) -> tuple[str, str, str]:
    """(kubeconfig, the models' namespace, serving) of a stack that is up: one read of its outputs."""
    return _cluster_and_outputs(pulumi, name)[:3]


def _cluster_and_outputs(pulumi: Pulumi, name: str) -> tuple[str, str, str, dict[str, Any]]:
    """_cluster_of, and the stack's outputs with secrets withheld, from the same one read."""
    stack = _select(pulumi, name)
    raw = stack.outputs()
    kubeconfig = stacks.output_value(raw, KUBECONFIG)
    if not kubeconfig:
        raise ServeboxError(f"stack {name} has no kubeconfig output: has `servebox up {name}` finished?")
    return kubeconfig, _config_value(stack, "modelNamespace"), str(stacks.output_value(raw, "serving")), stacks.visible_outputs(raw)


def model_dashboard(pulumi: Pulumi, name: str, out: Path, serve: bool, port: int) -> Outcome:
    """`servebox dashboard STACK`: the model page, written to `out` (or served on 127.0.0.1, read
    anew at every load)."""
    from servebox import dashboard

    kubeconfig, namespace, serving, shown = _cluster_and_outputs(pulumi, name)

    def page(refresh: int | None) -> str:
        try:
            report = dashboard.gather(kubeconfig, namespace, serving, shown)
        except Exception as error:  # the client's connection and API errors: say which, then stop
            raise ServeboxError(f"could not read stack {name}'s cluster: {type(error).__name__}: {error}") from None
        return dashboard.render(report, stack=name, refresh_seconds=refresh)

    if serve:
        dashboard.serve_page(lambda: page(dashboard.REFRESH_SECONDS), port, lambda url: print(f"servebox dashboard: {url} (Ctrl-C stops)", flush=True))
        return Outcome.PASSED
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(None), encoding="utf-8")
    print(f"servebox dashboard: {out}", flush=True)
    return Outcome.PASSED


def model_status(pulumi: Pulumi, name: str, as_json: bool, metrics: bool = False) -> Outcome:
    """`servebox status STACK`: each model's state, and why it is not ready, read from the cluster."""
    from servebox import model_status

    kubeconfig, namespace, serving = _cluster_of(pulumi, name)
    try:
        models, pods = model_status.read_cluster(kubeconfig, namespace, serving)
        parts = model_status.platform_health(kubeconfig, serving)
        latencies = model_status.latencies(kubeconfig, namespace, serving, models, pods) if metrics else {}
    except Exception as error:  # the client's connection and API errors: say which, then stop
        raise ServeboxError(f"could not read stack {name}'s cluster: {type(error).__name__}: {error}") from None
    if as_json:  # stdout: for pipes, as `outputs` and `status --json`
        report: dict[str, Any] = {"models": [asdict(m) for m in models], "platform": [asdict(p) for p in parts]}
        if metrics:
            report["latency"] = {k: (v if isinstance(v, str) else asdict(v)) for k, v in latencies.items()}
        print(json.dumps(report, indent=2), flush=True)
    else:
        text = model_status.render(models, as_json=False) + model_status.render_platform(parts)
        print(text + (model_status.render_latency(latencies) if metrics else ""), flush=True)
    healthy = all(model.ready for model in models) and not any(part.not_ready for part in parts)
    return Outcome.PASSED if healthy else Outcome.SMOKE_FAILED


def print_outputs(values: Mapping[str, Any]) -> None:
    """Outputs as JSON on stdout (secrets already withheld)."""
    print(json.dumps(dict(values), indent=2), flush=True)


def status(pulumi: Pulumi) -> list[dict[str, Any]]:
    """Every stack of the project: its servebox tags and whether an update holds it."""
    in_progress = pulumi.stacks_in_progress()
    lines = []
    for name in pulumi.list_stacks():
        tags = pulumi.tags(name)
        lines.append({
            "stack": name,
            "purpose": tags.get(stacks.TAG_PURPOSE),
            "expires_at": tags.get(stacks.TAG_EXPIRES_AT),
            "workshop": tags.get("servebox:workshop"),
            "updating": name in in_progress or any(lock.alive is not False for lock in pulumi.locks(name)),
            "work_dir": str(pulumi.work_root / name) if pulumi.has_own_workspace(name) else None,
        })
    return lines
