"""Validate authored Kubernetes objects the way a strict API server would, without one.

CI has no API server (DESIGN.md, "What tests can prove here"), so tests validate every object the
project authors before it could reach a cluster:

* Built-in kinds: ``kubernetes_validate`` with ``strict=True`` at the pinned Kubernetes minor
  (``components.versions.KUBERNETES_VERSION``); unknown fields are rejected.
* Custom resources: the upstream CRD ``openAPIV3Schema`` at the pinned tag, read from
  ``SCHEMAS_DIR/<group>/<kind lower>_<version>.json`` and made strict the way structural-schema
  pruning plus ``kubectl apply --validate=strict`` treat unknown fields.

Public API: ``validate``, ``validate_all``, ``assert_pinned_images``, ``load_yaml_documents``,
``ManifestInvalid``, ``SCHEMAS_DIR``.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import pytest
import yaml
from referencing import Registry, Resource

SCHEMAS_ENV = "SERVEBOX_SCHEMAS_DIR"


def _schemas_dir_from_env(environ: Mapping[str, str]) -> Path:
    """The single schema-location setting: the env var, else ``<repo>/../shared/schemas``."""
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "schemas"
    return Path(environ.get(SCHEMAS_ENV) or default)


# Read at call time (not captured), so tests can monkeypatch the attribute.
SCHEMAS_DIR: Path = _schemas_dir_from_env(os.environ)

# kubernetes_validate's ObjectMeta lives in this resource; CR metadata is checked against it.
_K8S_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META_REF = _K8S_DEFS_ID + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_MAX_REPORTED_ERRORS = 20


class ManifestInvalid(AssertionError):
    """An authored Kubernetes object would be rejected (or silently pruned) by the API server."""


# --------------------------------------------------------------------------- versions

def _pinned_kubernetes_version() -> str:
    # Imported lazily: the helper must import even before components.versions exists.
    versions = importlib.import_module("components.versions")
    return versions.KUBERNETES_VERSION


def _schema_version(kubernetes_version: str | None) -> str:
    """Map "1.33.4" / "v1.33" to the bundled schema set "1.33.0"; never fall back silently."""
    wanted = (kubernetes_version or _pinned_kubernetes_version()).removeprefix("v")
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", wanted)
    if not match:
        raise ValueError(f"KUBERNETES_VERSION {wanted!r} is not of the form 1.33 or 1.33.4")
    minor = f"{match[1]}.{match[2]}"
    bundled = {kv_utils.major_minor(v): v for v in kv_utils.all_versions()}
    if minor not in bundled:
        # kubernetes_validate itself would pick an older schema set; that would hide drift.
        raise ValueError(
            f"kubernetes-validate {kubernetes_validate.version.__version__} has no schemas for "
            f"Kubernetes {minor}; it has {', '.join(sorted(bundled, key=_minor_key))}"
        )
    return bundled[minor]


def _minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(p) for p in minor.split("."))


@functools.cache
def _k8s_definitions(schema_version: str) -> dict[str, Any]:
    return kv_utils.schema_contents(
        f"kubernetes-json-schema/v{schema_version}-local-strict/_definitions.json", schema_version
    )


@functools.cache
def _builtin_gvks(schema_version: str) -> frozenset[tuple[str, str, str]]:
    """(group, version, kind) of every built-in API type at this version, from the schemas."""
    return frozenset(
        (gvk["group"], gvk["version"], gvk["kind"])
        for definition in _k8s_definitions(schema_version)["$defs"].values()
        for gvk in definition.get("x-kubernetes-group-version-kind", ())
    )


# --------------------------------------------------------------------------- messages

def _describe(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    name = meta.get("name") or meta.get("generateName") or "<unnamed>"
    if meta.get("namespace"):
        name = f"{meta['namespace']}/{name}"
    return f"{obj.get('kind', '<no kind>')} {name!r} ({obj.get('apiVersion', '<no apiVersion>')})"


def _child_path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def _error_lines(error: jsonschema.ValidationError) -> list[str]:
    """One line per problem, naming the exact JSON path (unknown fields get their own path)."""
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = set(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        unknown = [
            k for k in error.instance
            if k not in known and not any(re.search(p, k) for p in patterns)
        ]
        if unknown:
            return [f"{_child_path(error.json_path, k)}: unknown field (not in schema)" for k in unknown]
    return [f"{error.json_path}: {error.message}"]


def _raise_invalid(obj: Mapping[str, Any], against: str, errors: Iterable[Any]) -> None:
    lines = sorted({line for e in errors for line in _error_lines(e)})
    if not lines:
        return
    shown = lines[:_MAX_REPORTED_ERRORS]
    if len(lines) > len(shown):
        shown.append(f"... and {len(lines) - len(shown)} more")
    raise ManifestInvalid(f"{_describe(obj)} is invalid against {against}:\n  " + "\n  ".join(shown))


# --------------------------------------------------------------------------- custom resources

def _openapi_to_strict(node: dict[str, Any], close: bool = True) -> dict[str, Any]:
    """Translate an OpenAPI v3 structural schema node to JSON Schema 2020-12, rejecting unknowns.

    ``close`` is False inside anyOf/allOf/oneOf/not: there structural schemas only add value
    validations, so closing objects there would wrongly reject fields the skeleton declares.
    """
    node = dict(node)
    # OpenAPI 3.0 spellings with no direct JSON Schema equivalent.
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), bool):  # boolean modifier in 3.0, a number in 2020-12
            if node.pop(bound) and limit in node:
                node[bound] = node.pop(limit)
    if node.get("x-kubernetes-int-or-string") and "type" not in node and "anyOf" not in node:
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource") and close:
        # Embedded objects always carry TypeMeta/ObjectMeta, declared or not.
        base = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
        node["properties"] = {**base, **node.get("properties", {})}

    if isinstance(node.get("properties"), dict):
        node["properties"] = {k: _openapi_to_strict(v, close) for k, v in node["properties"].items()}
        # The API server prunes (and --validate=strict rejects) fields the schema doesn't declare,
        # unless the node preserves unknown fields. Like the server's pruning algorithm, this is
        # per node: declared children of a preserving node are still closed.
        if (close and node.get("type") == "object" and "additionalProperties" not in node
                and node.get("x-kubernetes-preserve-unknown-fields") is not True):
            node["additionalProperties"] = False
    if isinstance(node.get("items"), dict):
        node["items"] = _openapi_to_strict(node["items"], close)
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _openapi_to_strict(node["additionalProperties"], close)
    for junctor in ("anyOf", "allOf", "oneOf"):
        if isinstance(node.get(junctor), list):
            node[junctor] = [_openapi_to_strict(n, close=False) for n in node[junctor]]
    if isinstance(node.get("not"), dict):
        node["not"] = _openapi_to_strict(node["not"], close=False)
    return node


_FORMATS = jsonschema.FormatChecker(formats=())  # unknown/irrelevant formats (double, byte) pass


@_FORMATS.checks("int32")
def _is_int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@_FORMATS.checks("int64")
def _is_int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@functools.cache
def _readme_kinds(schemas_dir: str) -> dict[str, str]:
    """file -> canonical Kind from the README table (file names are lower-case, kinds are not)."""
    readme = Path(schemas_dir) / "README.md"
    if not readme.is_file():
        return {}
    row = re.compile(r"^\|\s*`([^`]+\.json)`\s*\|\s*[^|]+\|\s*([A-Za-z0-9]+)\s*\|", re.M)
    return dict(row.findall(readme.read_text()))


@functools.cache
def _custom_validator(
    schema_file: str, api_version: str, kind: str, schema_version: str
) -> jsonschema.protocols.Validator:
    with open(schema_file) as f:
        schema = _openapi_to_strict(json.load(f))
    # The CRD schemas leave the root open or omit it; pin what the API server itself enforces.
    schema["properties"] = {
        **schema.get("properties", {}),
        "apiVersion": {"type": "string", "enum": [api_version]},
        "kind": {"type": "string", "enum": [kind]},
        # Real ObjectMeta (strict, at the pinned Kubernetes version), plus string-only maps.
        "metadata": {
            "$ref": _OBJECT_META_REF,
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "labels": _STRING_MAP,
                "annotations": _STRING_MAP,
            },
        },
    }
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind"})
    # 2020-12: same dialect as kubernetes_validate (so the ObjectMeta $ref resolves), and
    # structural schemas use no keyword whose meaning differs between drafts once translated.
    # No check_schema(): it costs ~5 s on the InferenceService schema, and the translation only
    # adds trivially valid keywords to schemas the API server already accepted.
    registry = Registry().with_resource(
        _K8S_DEFS_ID, Resource.from_contents(_k8s_definitions(schema_version))
    )
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=_FORMATS)


def _validate_custom(obj: Mapping[str, Any], group: str, version: str, kind: str, k8s: str) -> None:
    schemas_dir = Path(SCHEMAS_DIR)
    if not schemas_dir.is_dir():
        pytest.skip(
            f"CRD schemas directory {schemas_dir} does not exist; set {SCHEMAS_ENV} to the "
            f"directory of upstream CRD schemas to validate {kind} ({group}/{version})"
        )
    rel = f"{group}/{kind.lower()}_{version}.json"
    schema_file = schemas_dir / rel
    if not schema_file.is_file():
        raise ManifestInvalid(
            f"{_describe(obj)}: {kind} ({group}/{version}) is not a Kubernetes "
            f"{kv_utils.major_minor(k8s)} built-in kind and has no CRD schema: expected {schema_file}"
        )
    canonical_kind = _readme_kinds(str(schemas_dir)).get(rel, kind)
    validator = _custom_validator(str(schema_file), f"{group}/{version}", canonical_kind, k8s)
    _raise_invalid(obj, f"{schema_file} (strict)", validator.iter_errors(obj))


# --------------------------------------------------------------------------- public API

def validate(obj: Mapping[str, Any], kubernetes_version: str | None = None) -> None:
    """Raise ManifestInvalid unless ``obj`` is valid; skip the test if CRD schemas are absent.

    ``kubernetes_version`` defaults to ``components.versions.KUBERNETES_VERSION``.
    """
    if not isinstance(obj, Mapping):
        raise ManifestInvalid(f"not a Kubernetes object (a mapping): {obj!r:.200}")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not (isinstance(api_version, str) and api_version and isinstance(kind, str) and kind):
        raise ManifestInvalid(f"{_describe(obj)}: apiVersion and kind must be non-empty strings")
    k8s = _schema_version(kubernetes_version)
    group, _, version = api_version.rpartition("/")
    gvks = _builtin_gvks(k8s)

    if (group, version, kind) in gvks:
        obj = dict(obj)
        try:
            kubernetes_validate.validate(obj, k8s, strict=True)
        except jsonschema.ValidationError as e:
            _raise_invalid(obj, f"Kubernetes {kv_utils.major_minor(k8s)} schema (strict)", [e])
        except kubernetes_validate.SchemaNotFoundError as e:
            raise ManifestInvalid(f"{_describe(obj)}: {e.message}") from None
        return
    if group in {g for g, _, _ in gvks}:
        # A built-in group never hosts CRDs: a typo'd kind or a removed/unserved API version.
        raise ManifestInvalid(
            f"{_describe(obj)}: {api_version} {kind} is not a built-in kind of Kubernetes "
            f"{kv_utils.major_minor(k8s)}"
        )
    _validate_custom(obj, group, version, kind, k8s)


def validate_all(objs: Iterable[Mapping[str, Any]], kubernetes_version: str | None = None) -> None:
    """Validate every object and report all failures at once.

    A real failure is never hidden behind a skip: the skip is re-raised only if nothing failed.
    """
    failures: list[str] = []
    skipped: BaseException | None = None
    for obj in objs:
        try:
            validate(obj, kubernetes_version)
        except ManifestInvalid as e:
            failures.append(str(e))
        except pytest.skip.Exception as e:
            skipped = skipped or e
    if failures:
        raise ManifestInvalid("\n".join(failures))
    if skipped is not None:
        raise skipped


def _image_problem(ref: object) -> str | None:
    if not isinstance(ref, str) or not ref.strip():
        return "not an image reference"
    name, has_digest, digest = ref.partition("@")
    if has_digest:  # a digest pins the content, whatever the tag says
        ok = re.fullmatch(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}", digest)
        return None if ok else f"malformed digest {digest!r}"
    last = name.rsplit("/", 1)[-1]  # a ':' before the last '/' is a registry port, not a tag
    if ":" not in last:
        return "no tag (means :latest)"
    tag = last.rsplit(":", 1)[1]
    if not tag or tag.lower() == "latest":
        return f"mutable tag {tag!r}"
    return None


def _images(node: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = _child_path(path, key)
            if key == "image" and not isinstance(value, (Mapping, list)):
                yield child, value
            else:
                yield from _images(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _images(value, _child_path(path, i))


def assert_pinned_images(obj: Mapping[str, Any]) -> None:
    """Every ``image:`` anywhere in ``obj`` has an explicit non-latest tag or a digest."""
    problems = [
        f"{path}: {ref!r}: {problem}"
        for path, ref in _images(obj)
        if (problem := _image_problem(ref)) is not None
    ]
    if problems:
        raise ManifestInvalid(f"{_describe(obj)} has unpinned images:\n  " + "\n  ".join(problems))


def load_yaml_documents(text: str) -> list[dict[str, Any]]:
    """All non-empty documents of a multi-document YAML stream; each must be a mapping."""
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise ManifestInvalid(f"YAML document {i} is a {type(doc).__name__}, not an object")
    return docs
