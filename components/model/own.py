"""A user's own model as a model to serve: the files to upload, content-addressed, and the runtime
that serves its format (components/model/formats.py, KServe's runtimes at the pinned tag)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from components.config import OwnModel
from components.model import formats
from components.model.served import ModelSpec


def artifact_files(artifact: Path) -> list[tuple[Path, str]]:
    """(file, path relative to the model's directory) of everything a model artifact holds: the
    file itself, or every regular file under the directory (hidden ones left out)."""
    if artifact.is_file():
        return [(artifact, artifact.name)]
    return [
        (path, path.relative_to(artifact).as_posix())
        for path in sorted(artifact.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(artifact).parts)
    ]


def content_key(files: list[tuple[Path, str]]) -> str:
    """A digest of the files' names and bytes: the upload's directory changes exactly when they do."""
    digest = hashlib.sha256()
    for path, relative in files:
        digest.update(relative.encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


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
    if model.uri is not None:
        return ModelSpec(**common, uri=model.uri)
    assert model.artifact is not None
    files = artifact_files(model.artifact)
    directory = f"{model.settings.name}/{content_key(files)[:16]}"
    return ModelSpec(
        **common,
        files=tuple((path, f"{directory}/{relative}") for path, relative in files),
        directory_key=directory,
    )
