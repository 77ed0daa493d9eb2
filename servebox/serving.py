"""Serve your own model: `servebox serve PATH`, `servebox unserve NAME`, and `serve()` in a notebook.

All three edit one thing, the stack's `models` list (the program checks every entry before any
resource: components/config.py and components/model/checks.py), then run `up` with the live view
and read the `models` output back. A model object is first saved in the format its runtime loads
(servebox/save.py), under build/models/<name>/ in the project.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from rich.console import Console

from servebox import inference, project
from servebox.outcomes import Outcome
from servebox.stacks import Pulumi, ServeboxError

MODELS_KEY = "models"
SAVED_DIR = project.REPO / "build" / "models"


def read_models(stack: auto.Stack) -> list[dict[str, Any]]:
    """The stack's `models` list as its config holds it ([] when unset)."""
    try:
        value = stack.get_config(MODELS_KEY).value
    except auto.CommandError:
        return []  # `pulumi config get` fails for a key that is not set
    models = json.loads(value) if value else []
    if not isinstance(models, list):
        raise ServeboxError(f"the stack's {MODELS_KEY} config is not a list; `pulumi config rm {MODELS_KEY}` clears it")
    return models


def write_models(stack: auto.Stack, models: Sequence[dict[str, Any]]) -> None:
    """Replace the stack's `models` list, one path-addressed field at a time so that the stack file
    holds a real list of objects (what the program's config schema declares)."""
    stack.remove_config(MODELS_KEY)
    fields = {
        f"{MODELS_KEY}[{index}].{key}": auto.ConfigValue(value=str(value))
        for index, entry in enumerate(models)
        for key, value in entry.items()
    }
    if fields:
        stack.set_all_config(fields, path=True)


CANARY_FIELDS = ("canaryPath", "canaryUri", "canaryPercent")
"""A `models` entry's new version on trial (components/config/models.py reads them)."""


def with_model(models: Sequence[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """`models` with `entry` added, or in place of the entry of the same name (its other fields kept
    unless `entry` gives them; a canary it had is dropped: the new version takes every request)."""
    updated, found = [], False
    for existing in models:
        if existing.get("name") == entry["name"]:
            kept = {key: value for key, value in existing.items() if key not in ("path", "uri", "format", *CANARY_FIELDS)}
            updated.append({**kept, **entry})
            found = True
        else:
            updated.append(dict(existing))
    return updated if found else [*updated, dict(entry)]


def without_model(models: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """`models` without the entry named `name`; ServeboxError when there is none."""
    kept = [dict(entry) for entry in models if entry.get("name") != name]
    if len(kept) == len(models):
        names = ", ".join(str(entry.get("name")) for entry in models) or "none"
        raise ServeboxError(f"the stack serves no model named {name!r} (it serves: {names})")
    return kept


def _entry(models: Sequence[dict[str, Any]], name: str, verb: str) -> dict[str, Any]:
    for entry in models:
        if entry.get("name") == name:
            return entry
    names = ", ".join(str(entry.get("name")) for entry in models) or "none of your own"
    raise ServeboxError(f"cannot {verb} {name!r}: the stack serves no model of that name (it serves: {names}); "
                        f"serve it first: servebox serve <path> --name {name}")


def with_canary(models: Sequence[dict[str, Any]], name: str, path: Path, percent: int) -> list[dict[str, Any]]:
    """`servebox serve PATH --name NAME --canary PERCENT`: the file at `path` beside model `name`'s
    current version, answering `percent` of its requests (a canary it had is replaced)."""
    if not 1 <= percent <= 99:
        raise ServeboxError(f"--canary: got {percent}; allowed: a share from 1 to 99 (servebox promote {name} gives it all)")
    current = _entry(models, name, "add a canary to")
    canary = {"canaryPath": str(path.expanduser().resolve()), "canaryPercent": percent}
    return [
        {**{k: v for k, v in entry.items() if k not in CANARY_FIELDS}, **canary} if entry is current else dict(entry)
        for entry in models
    ]


def promoted(models: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """`servebox promote NAME`: the canary becomes the model (its path or URI), taking every request."""
    current = _entry(models, name, "promote")
    if not (current.get("canaryPath") or current.get("canaryUri")):
        raise ServeboxError(f"cannot promote {name!r}: it has no canary (servebox serve <path> --name {name} --canary 10 adds one)")
    kept = {k: v for k, v in current.items() if k not in ("path", "uri", *CANARY_FIELDS)}
    new = {"path": current["canaryPath"]} if current.get("canaryPath") else {"uri": current["canaryUri"]}
    return [{**kept, **new} if entry is current else dict(entry) for entry in models]


def rolled_back(models: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """`servebox rollback NAME`: the canary dropped, every request back on the version rolled out
    last (canaryPercent 0, so that KServe routes them there at once rather than to its newest
    revision while a fresh one of the old version starts)."""
    current = _entry(models, name, "roll back")
    if not (current.get("canaryPath") or current.get("canaryUri")):
        raise ServeboxError(f"cannot roll back {name!r}: it has no canary; every request already goes to its one version")
    kept = {k: v for k, v in current.items() if k not in CANARY_FIELDS}
    return [{**kept, "canaryPercent": 0} if entry is current else dict(entry) for entry in models]


def change_model(
    pulumi: Pulumi, stack_name: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], up: Callable[[], Outcome]
) -> Outcome:
    """A change of one model's entry on a stack that exists (unserve, promote, rollback, a canary):
    `change` refuses a name without a model, or without a canary, before anything is written or run."""
    return change_models(pulumi, stack_name, change, up, create=False)


@dataclass
class ModelHandle:
    """A served model, as `serve()` returns it: where it answers, how to call it, how to remove it."""

    name: str
    stack: str
    url: str
    """The model's base URL (its host resolves through sslip.io where the ingress has an IP)."""
    protocol: str
    host_header: str
    address_url: str
    """The gateway by address: what predict() calls, with the Host header."""
    format: str
    curl: str
    api_key: str | None = field(default=None, repr=False)
    """The stack's key (modelAuth apikey), sent with every prediction; never shown."""
    _remove: Callable[[], None] | None = field(default=None, repr=False)

    def predict(self, rows: Any, timeout: float = 30) -> list:
        """The model's answers for `rows` (a list of rows, a numpy array or a DataFrame), over its protocol."""
        return inference.predict(
            self.address_url,
            self.name,
            rows,
            protocol=self.protocol,
            host_header=self.host_header,
            timeout=timeout,
            api_key=self.api_key,
        )

    def delete(self) -> None:
        """Stop serving the model: remove it from the stack's config and run `up` again."""
        if self._remove is None:
            raise ServeboxError(f"model {self.name!r} was not served from here; run `servebox unserve {self.name} --stack {self.stack}`")
        self._remove()

    def _repr_html_(self) -> str:
        rows = [("stack", self.stack), ("format", self.format), ("protocol", self.protocol), ("url", self.url)]
        cells = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>" for k, v in rows)
        return f"<div><strong>servebox model {html.escape(self.name)}</strong><table>{cells}</table></div>"


def handle_from_outputs(
    name: str, stack: str, outputs: dict[str, Any], remove: Callable[[], None] | None = None, api_key: str | None = None
) -> ModelHandle:
    """The handle of model `name` from a stack's outputs (the `models` output)."""
    models = outputs.get("models") or {}
    if name not in models:
        raise ServeboxError(f"stack {stack} has no model {name!r} in its outputs (it has: {', '.join(models) or 'none'})")
    model = models[name]
    address = str(outputs.get("ingress_address") or "")
    port = address.rsplit(":", 1)[1] if ":" in address else "80"
    host = address.rsplit(":", 1)[0] if ":" in address else address
    return ModelHandle(
        name=name,
        stack=stack,
        url=model["endpoint"],
        protocol=model["protocol"],
        host_header=model["host_header"],
        address_url=f"http://{host}" + ("" if port == "80" else f":{port}"),
        format=model["format"],
        curl=model["curl"],
        api_key=api_key,
        _remove=remove,
    )


def model_entry(path: Path, name: str, format: str | None = None, protocol: str | None = None) -> dict[str, Any]:
    """The `models` entry of a local artifact (an absolute path: stacks may run in other directories)."""
    entry: dict[str, Any] = {"name": name, "path": str(path.expanduser().resolve())}
    if format:
        entry["format"] = format
    if protocol:
        entry["protocol"] = protocol
    return entry


def default_name(path: Path) -> str:
    """A model name from its file or directory name: `Churn_Model.joblib` -> `churn-model`."""
    from components.naming import dns_label

    stem = path.name.split(".")[0] if path.is_file() else path.name
    label = dns_label(stem, 40)
    return label if label[0].isalpha() else f"m-{label}"[:40]


def change_models(
    pulumi: Pulumi,
    stack_name: str,
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    up: Callable[[], Outcome],
    *,
    create: bool = True,
) -> Outcome:
    """Apply `change` to the stack's models list and run `up`; on a failed up the list is put back,
    so that a model the program refused (or that failed to serve) does not stay in the config.
    `change` raising writes nothing; `create` False: the stack must exist already."""
    workspace = pulumi.workspace_for(stack_name)
    stack = auto.Stack.create_or_select(stack_name, workspace) if create else auto.Stack.select(stack_name, workspace)
    before = read_models(stack)
    write_models(stack, change(before))
    outcome = up()
    if outcome is not Outcome.PASSED:
        write_models(stack, before)
    return outcome


def checked_entry(
    path: Path, stack_name: str, *, name: str | None = None, format: str | None = None, protocol: str | None = None
) -> dict[str, Any]:
    """The `models` entry for `path`, checked as the program will check it (name, format, protocol,
    the artifact's layout and pickle versions; components/model/checks.py) before anything runs:
    ServeboxError with every problem. Needs no Pulumi CLI, writes nothing."""
    from components.model import checks

    if not path.exists():
        raise ServeboxError(f"{path}: no such file or directory (the model file or directory to serve)")
    entry = model_entry(path, name or default_name(path), format, protocol)
    _, problems = checks.check_models(
        [checks.ModelEntry(name=entry["name"], path=entry["path"], format=format or "", protocol=protocol or "v2")],
        _stack_serving(stack_name),
    )
    if problems:
        raise ServeboxError("the model cannot be served:\n" + "\n".join(f"  - {problem}" for problem in problems))
    return entry


def _stack_serving(stack_name: str) -> str:
    """The stack's `serving` as its file says (else the default): which runtimes a model may use."""
    from servebox import preflight

    return preflight.stack_value(stack_name, "serving")


def serve_entry(pulumi: Pulumi, stack_name: str, entry: dict[str, Any], up: Callable[[], Outcome]) -> tuple[Outcome, str]:
    """`servebox serve`: add or update a checked entry (checked_entry) and run up; (outcome, its name)."""
    return change_models(pulumi, stack_name, lambda models: with_model(models, entry), up), entry["name"]


def unserve(pulumi: Pulumi, stack_name: str, name: str, up: Callable[[], Outcome]) -> Outcome:
    """`servebox unserve`: remove the model and run up (the sample comes back when the list empties)."""
    return change_model(pulumi, stack_name, lambda models: without_model(models, name), up)


def save_object(model: Any, name: str, saved_dir: Path = SAVED_DIR) -> Path:
    """Save a model object where its runtime loads it from: build/models/<name>/ (servebox/save.py)."""
    from servebox.save import save_model

    directory = saved_dir / name
    if directory.exists():
        for old in directory.iterdir():
            if old.is_file():
                old.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    path, _ = save_model(model, directory)
    return path


@contextlib.contextmanager
def _signals_owned(interrupts: Any) -> Iterator[None]:
    """servebox's SIGINT/SIGTERM handling while it runs the CLI, the caller's (a notebook kernel's)
    handlers back afterwards: a ^C (or "interrupt kernel") cancels the update gracefully."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    interrupts.install()
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def serve(
    model_or_path: Any,
    name: str | None = None,
    stack: str = "kind",
    *,
    format: str | None = None,
    protocol: str | None = None,
    console: Console | None = None,
) -> ModelHandle:
    """Serve a fitted scikit-learn, XGBoost or LightGBM model (or a saved artifact) on `stack`.

    Saves the object in its runtime's native format, adds it to the stack's `models`, runs `up` with
    the live view, and returns a handle with `url`, `predict(rows)` and `delete()`.
    """
    from components.model import formats
    from servebox import workstation
    from servebox.interrupts import Interrupts

    console = console or Console(stderr=True)
    interrupts = Interrupts()
    if isinstance(model_or_path, (str, Path)):
        entry = checked_entry(Path(model_or_path), stack, name=name, format=format, protocol=protocol)
        pulumi = Pulumi(interrupts)
    else:
        # Nothing is written before the name is good and the CLI is found.
        if not name:
            raise ServeboxError("serve(model): name= is required for a model object (a DNS label such as 'churn')")
        problems = formats.check_model_name(name, "name")
        if problems:
            raise ServeboxError("; ".join(problems))
        pulumi = Pulumi(interrupts)
        entry = checked_entry(save_object(model_or_path, name), stack, name=name, format=format, protocol=protocol)

    def run_up() -> Outcome:
        # The outputs JSON that `servebox up` prints is the handle's business here, not the notebook's.
        with contextlib.redirect_stdout(io.StringIO()):
            return workstation.up(pulumi, stack, {}, None, console)

    with _signals_owned(interrupts):
        outcome, model_name = serve_entry(pulumi, stack, entry, run_up)
    if outcome is not Outcome.PASSED:
        raise ServeboxError(f"serving {model_name} on stack {stack} failed ({outcome.name.lower()}); the output above says why")

    def remove() -> None:
        with _signals_owned(interrupts):
            result = unserve(pulumi, stack, model_name, run_up)
        if result is not Outcome.PASSED:
            raise ServeboxError(f"removing {model_name} from stack {stack} failed; the output above says why")

    shown, key = workstation.outputs_and_api_key(pulumi, stack)
    return handle_from_outputs(model_name, stack, shown, remove, api_key=key)
