"""The checks of a stack's `models` list, before any resource is registered.

Each entry is a user's own model: a name, a local `path` or a bucket `uri`, an optional `format`
(detected from a local artifact when not given) and a protocol. Every problem of every entry is
collected, in the configuration's style (components/config.py: key, got, allowed, fix), so that
the caller raises one ConfigError listing them all and nothing is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from components import versions
from components.model import formats, layout


@dataclass(frozen=True)
class ModelEntry:
    """One `models` entry as the configuration gives it."""

    name: str
    path: str = ""
    """A model file or directory on this machine; uploaded to the stack's store."""
    uri: str = ""
    """A model already in a bucket (gs://, s3://); mutually exclusive with `path`."""
    format: str = ""
    """sklearn, xgboost, lightgbm, ... (formats.FORMATS); empty: detected from `path`."""
    protocol: str = "v2"


@dataclass(frozen=True)
class CheckedModel:
    """An entry that passed: its format resolved, and for a local artifact the file or directory to upload."""

    entry: ModelEntry
    format: str
    artifact: Path | None


def check_models(
    entries: Sequence[ModelEntry],
    serving: str,
    *,
    key: str = "models",
    node_architecture: str | None = None,
    served_runtimes: frozenset[str] = versions.SERVED_RUNTIMES,
) -> tuple[list[CheckedModel], list[str]]:
    """(the entries that passed, every problem); problems are [] exactly when all passed."""
    checked: list[CheckedModel] = []
    problems: list[str] = []
    taken = formats.duplicates([e.name for e in entries])
    for index, entry in enumerate(entries):
        at = f"{key}[{index}]"
        found = formats.check_model_name(entry.name, f"{at}.name")
        if index in taken:
            found.append(formats.duplicate_problem(key, index, taken[index], entry.name))
        fmt, more = _resolve_format(entry, at, serving, node_architecture, served_runtimes)
        found += more
        if fmt and not more:
            found += formats.check_protocol(fmt, entry.protocol, f"{at}.protocol", serving)
            if entry.path:
                found += _check_artifact(fmt, Path(entry.path), f"{at}.path", entry.name)
        problems += found
        if not found and fmt:
            checked.append(CheckedModel(entry, fmt, Path(entry.path) if entry.path else None))
    return checked, problems


def _resolve_format(
    entry: ModelEntry, at: str, serving: str, node_architecture: str | None, served_runtimes: frozenset[str]
) -> tuple[str, list[str]]:
    if bool(entry.path) == bool(entry.uri):
        got = "both path and uri" if entry.path else "neither path nor uri"
        return "", [f"{at}: got {got}; allowed: exactly one of path (a model on this machine) and uri (a model "
                    f"already in a bucket). Fix: set {at}.path or {at}.uri, not both"]
    fmt = entry.format
    if not fmt:
        if entry.uri:
            allowed = ", ".join(formats.served_formats(serving, served_runtimes))
            return "", [f"{at}.format: got nothing for a model at uri {entry.uri!r}; allowed: {allowed}. Fix: set "
                        f"{at}.format (servebox reads only local files to tell a format)"]
        try:
            fmt = layout.detect_format(entry.path, f"{at}.path")
        except layout.ModelCheckError as error:
            return "", error.problems
    return fmt, formats.check_format(
        fmt, serving, f"{at}.format", node_architecture=node_architecture, served_runtimes=served_runtimes
    )


def _check_artifact(fmt: str, path: Path, key: str, name: str) -> list[str]:
    problems = layout.check_layout(fmt, path, key, model_name=name)
    if not problems and fmt == "sklearn":
        problems = layout.check_sklearn_version(layout.model_file(fmt, path), key=key)
    return problems


def check_canary(checked: CheckedModel, at: str, *, canary_path: str, canary_uri: str) -> tuple[Path | None, list[str]]:
    """The canary of a checked model: (its artifact, or None at a URI; every problem). It must be
    the model's format (a canary shares its runtime: a new version, not another model), pass the
    same layout checks, and differ from the current version."""
    if bool(canary_path) == bool(canary_uri):
        return None, [f"{at}: got both canaryPath and canaryUri; allowed: one of them, the new version's file or "
                      f"bucket URI. Fix: pulumi config rm --path '{at}.canaryUri'"]
    if canary_uri:
        if canary_uri == checked.entry.uri:
            return None, [f"{at}.canaryUri: got {canary_uri!r}, the model's own uri; allowed: a new version's URI. "
                          f"Fix: pulumi config rm --path '{at}.canaryUri' (or point it at the new version)"]
        return None, []
    path = Path(canary_path)
    if not checked.entry.format:
        try:
            detected = layout.detect_format(canary_path, f"{at}.canaryPath")
        except layout.ModelCheckError as error:
            return None, error.problems
        if detected != checked.format:
            return None, [f"{at}.canaryPath: got a {detected} model; allowed: a {checked.format} model, as the current "
                          f"version (a canary shares its runtime). Fix: serve it as a model of its own: "
                          f"servebox serve {canary_path} --name <another name>"]
    problems = _check_artifact(checked.format, path, f"{at}.canaryPath", checked.entry.name)
    if problems:
        return None, problems
    if checked.artifact is not None and layout.content_key(layout.artifact_files(path)) == layout.content_key(
        layout.artifact_files(checked.artifact)
    ):
        return None, [f"{at}.canaryPath: got {canary_path!r}, the same files as the model's path; allowed: a new "
                      f"version. Fix: pulumi config rm --path '{at}.canaryPath' (or save the new version there)"]
    return path, []
