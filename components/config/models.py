"""The `models` list: each of the user's own models checked for shape, scale, format, layout and
pickle versions before any resource exists."""

from __future__ import annotations

import difflib
import json
import re
from enum import Enum
from pathlib import Path
from typing import Any

from components.config.quantities import _CPU_ALLOWED, _MEMORY_ALLOWED, cpu_millicores, memory_bytes
from components.config.schema import AUTO, _Reader, known
from components.config.settings import Canary, DeploymentMode, ModelSettings, OwnModel, ScaleMetric, Serving


class _SampleModel(str, Enum):
    AUTO = AUTO
    TRUE = "true"
    FALSE = "false"


# What a `models` entry may hold beyond name, path, uri, format and protocol: the sample's keys of
# the same meaning (their values are the defaults).
_MODEL_FIELDS = {
    "minReplicas": "modelMinReplicas",
    "maxReplicas": "modelMaxReplicas",
    "cpuRequest": "modelCpuRequest",
    "memoryRequest": "modelMemoryRequest",
    "cpuLimit": "modelCpuLimit",
    "memoryLimit": "modelMemoryLimit",
}
_CANARY_FIELDS = ("canaryPath", "canaryUri", "canaryPercent")
"""A new version beside the current one (servebox serve --canary, promote, rollback)."""
_MODEL_ENTRY_FIELDS = ("name", "path", "uri", "format", "protocol", *_MODEL_FIELDS, *_CANARY_FIELDS, "attendee")
"""`attendee`: a shared workshop's attendee whose namespace the model is served in (attendees)."""


def _models_list(read: _Reader) -> list[Any] | None:
    given = read.raw.get("models", read.schema["models"].default)
    if isinstance(given, str):
        try:
            given = json.loads(given) if given.strip() else []
        except json.JSONDecodeError:
            given = None
    if not isinstance(given, list):
        read.problems.append(
            f"models: got {str(read.raw.get('models'))[:60]!r}; allowed: a list of models, each an object with name "
            "and path or uri. Fix: servebox serve <path> (or pulumi config set --path 'models[0].name' <name> ...)"
        )
        return None
    return given


def _own_models(
    read: _Reader,
    serving: Serving,
    mode: DeploymentMode,
    defaults: ModelSettings,
    node_architecture: str | None,
    sample_name: str | None,
) -> tuple[OwnModel, ...]:
    """The `models` list, each entry checked for shape, scale, format, layout and pickle version."""
    from components.model import checks  # the model layer's pure checks; no resource is touched

    entries = _models_list(read)
    if not entries:
        return ()
    problems_before = len(read.problems)
    shaped: list[tuple[int, dict[str, Any], ModelSettings | None]] = []
    for index, entry in enumerate(entries):
        at = f"models[{index}]"
        if not isinstance(entry, dict):
            read.problems.append(
                f"{at}: got {entry!r}; allowed: an object with name and path or uri. "
                f"Fix: pulumi config set --path '{at}.name' <name>"
            )
            continue
        for field in sorted(set(entry) - set(_MODEL_ENTRY_FIELDS)):
            close = difflib.get_close_matches(field, _MODEL_ENTRY_FIELDS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            read.problems.append(
                f"{at}.{field}: got {entry[field]!r} for a field models do not have{hint}; allowed: "
                f"{', '.join(_MODEL_ENTRY_FIELDS)}. Fix: pulumi config rm --path '{at}.{field}'"
            )
        shaped.append((index, entry, _own_model_settings(read, at, entry, defaults, mode, serving)))
    model_entries = [
        checks.ModelEntry(
            name=str(entry.get("name", "")),
            path=str(Path(str(entry["path"])).expanduser()) if entry.get("path") else "",
            uri=str(entry.get("uri") or ""),
            format=str(entry.get("format") or ""),
            protocol=str(entry.get("protocol") or "v2"),
        )
        for _, entry, _ in shaped
    ]
    if len(shaped) < len(entries):
        return ()  # check_models numbers entries by position: only run it on a list of objects
    checked, problems = checks.check_models(model_entries, serving.value, node_architecture=node_architecture)
    read.problems.extend(problems)
    if sample_name is not None:
        for index, entry, _ in shaped:
            if entry.get("name") == sample_name:
                read.problems.append(
                    f"models[{index}].name: got {sample_name!r}, which the sample model (modelName) already uses; "
                    f"allowed: another name, or sampleModel false. Fix: pulumi config set --path 'models[{index}].name' "
                    f"{sample_name}-2"
                )
    if len(read.problems) > problems_before:
        return ()
    by_name = {item.entry.name: item for item in checked}
    canaries = {
        index: _canary(read, f"models[{index}]", entry, by_name[str(entry["name"])], serving, mode)
        for index, entry, _ in shaped
        if any(field in entry for field in _CANARY_FIELDS)
    }
    if len(read.problems) > problems_before:
        return ()
    return tuple(
        OwnModel(
            settings=known(settings),
            format=by_name[str(entry["name"])].format,
            protocol=str(entry.get("protocol") or "v2"),
            artifact=by_name[str(entry["name"])].artifact,
            uri=str(entry["uri"]) if entry.get("uri") else None,
            canary=canaries.get(index),
            hold_rolled_out=index in canaries and canaries[index] is None,
            attendee=str(entry["attendee"]) if entry.get("attendee") else None,
        )
        for index, entry, settings in shaped
    )


def _canary(
    read: _Reader, at: str, entry: dict[str, Any], checked: Any, serving: Serving, mode: DeploymentMode
) -> Canary | None:
    """The entry's canary (None for canaryPercent 0 alone: hold the rolled-out version), its
    problems added to `read`. Only where a previous version can keep serving beside the new one:
    Knative's revisions, or Seldon's predictors."""
    from components.model import checks

    if serving is Serving.KSERVE and mode is not DeploymentMode.KNATIVE:
        read.problems.append(
            f"{at}.canaryPercent: got a canary in deploymentMode {mode.value}; allowed: a canary with serving kserve in "
            "deploymentMode knative (whose revisions keep the current version serving beside the new one) or serving "
            "seldon (two predictors); in Standard mode KServe replaces the one Deployment. Fix: pulumi config rm --path "
            f"'{at}.canaryPath' and '{at}.canaryPercent' (or serve it as a model of its own)"
        )
        return None
    given = str(entry.get("canaryPercent", ""))
    path, uri = str(entry.get("canaryPath") or ""), str(entry.get("canaryUri") or "")
    new_version = bool(path or uri)
    low = 1 if new_version else 0
    high = 99 if new_version else 0
    if not re.fullmatch(r"\d+", given) or not low <= int(given) <= high:
        allowed = ("a whole number from 1 to 99 with canaryPath or canaryUri (the share of requests the new version "
                   "answers; servebox promote gives it all)") if new_version else (
                   "0 alone (all requests on the version rolled out last, what servebox rollback leaves), or a "
                   "share from 1 to 99 with canaryPath or canaryUri")
        read.problems.append(f"{at}.canaryPercent: got {given or 'nothing'!r}; allowed: {allowed}. "
                             f"Fix: pulumi config set --path '{at}.canaryPercent' {10 if new_version else 0}")
        return None
    if not new_version:
        return None
    artifact, problems = checks.check_canary(checked, at, canary_path=str(Path(path).expanduser()) if path else "", canary_uri=uri)
    read.problems.extend(problems)
    return None if problems else Canary(percent=int(given), artifact=artifact, uri=uri or None)


def _own_model_settings(
    read: _Reader, at: str, entry: dict[str, Any], defaults: ModelSettings, mode: DeploymentMode, serving: Serving
) -> ModelSettings | None:
    """The entry's scale and resources over the sample's, each checked as its model* key is."""
    values: dict[str, Any] = {}
    ok = True
    for field, key in _MODEL_FIELDS.items():
        if field not in entry:
            continue
        given = str(entry[field])
        if field.endswith("Replicas"):
            low = 0 if field == "minReplicas" else 1
            good = bool(re.fullmatch(r"\d+", given)) and low <= int(given) <= 10
            allowed = f"a whole number from {low} to 10"
        elif field.startswith("cpu"):
            good, allowed = bool(cpu_millicores(given)), _CPU_ALLOWED
        else:
            good, allowed = bool(memory_bytes(given)), _MEMORY_ALLOWED
        if not good:
            read.problems.append(
                f"{at}.{field}: got {given!r}; allowed: {allowed}. Fix: pulumi config set --path '{at}.{field}' "
                f"{read.schema[key].default}"
            )
            ok = False
        values[field] = int(given) if good and field.endswith("Replicas") else given
    if not ok:
        return None
    settings = ModelSettings(
        name=str(entry.get("name", "")),
        namespace=defaults.namespace,
        min_replicas=values.get("minReplicas", defaults.min_replicas),
        max_replicas=values.get("maxReplicas", defaults.max_replicas),
        cpu_request=values.get("cpuRequest", defaults.cpu_request),
        memory_request=values.get("memoryRequest", defaults.memory_request),
        cpu_limit=values.get("cpuLimit", defaults.cpu_limit),
        memory_limit=values.get("memoryLimit", defaults.memory_limit),
        scale_metric=defaults.scale_metric,
        scale_target=defaults.scale_target,
    )
    if settings.max_replicas < settings.min_replicas:
        read.problems.append(
            f"{at}.maxReplicas: got {settings.max_replicas}; allowed: at least its minReplicas ({settings.min_replicas}). "
            f"Fix: pulumi config set --path '{at}.maxReplicas' {settings.min_replicas}"
        )
        return None
    if settings.min_replicas == 0 and (mode is not DeploymentMode.KNATIVE or serving is Serving.SELDON):
        read.problems.append(
            f"{at}.minReplicas: got 0; allowed: 1-10 without Knative (scale-to-zero needs serving kserve in "
            "deploymentMode knative). "
            f"Fix: pulumi config set --path '{at}.minReplicas' 1"
        )
        return None
    return settings


class _ScaleMetricOrAuto(str, Enum):
    AUTO = AUTO
    CONCURRENCY = ScaleMetric.CONCURRENCY.value
    RPS = ScaleMetric.RPS.value
    CPU = ScaleMetric.CPU.value
    MEMORY = ScaleMetric.MEMORY.value
