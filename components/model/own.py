"""A user's own model as a model to serve: the files to upload, content-addressed, and the runtime
that serves its format (components/model/formats.py, KServe's runtimes at the pinned tag)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.config import OwnModel
from components.model import formats
from components.model.layout import artifact_files, content_key
from components.model.served import ModelSpec, Version


def own_spec(model: OwnModel) -> ModelSpec:
    """The ModelSpec of a checked `models` entry."""
    fmt = formats.FORMATS[model.format]
    common: dict[str, Any] = dict(
        settings=model.settings,
        model_format={"name": fmt.name, "version": fmt.version},
        runtime=fmt.runtime,
        protocol=model.protocol,
        component=model.settings.name,
    )
    canary = model.canary
    if canary is not None:
        common.update(canary=_version(model.settings.name, canary.artifact, canary.uri), canary_percent=canary.percent)
    elif model.hold_rolled_out:
        common.update(canary_percent=0)
    current = _version(model.settings.name, model.artifact, model.uri)
    return ModelSpec(**common, version=current)


def _version(name: str, artifact: Path | None, uri: str | None) -> Version:
    """A version at `uri`, or the files of `artifact` under `<name>/<content key>/`."""
    if uri is not None:
        return Version(uri=uri)
    assert artifact is not None
    files = artifact_files(artifact)
    directory = f"{name}/{content_key(files)[:16]}"
    return Version(files=tuple((path, f"{directory}/{relative}") for path, relative in files), directory_key=directory)
