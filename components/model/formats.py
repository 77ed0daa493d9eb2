"""The model formats servebox can serve for a user's own model, and the checks of a `models` entry.

Pure: no Pulumi resource, no network, nothing unpickled. The table says, per format, which
ClusterServingRuntime of kserve-runtime-configs serves it at KServe v0.20.0 (its
`supportedModelFormats`, files/runtimes/resources.yaml at the tag; the InferenceService names that
runtime explicitly, because with protocolVersion v2 and no runtime named KServe would pick
`kserve-mlserver` for sklearn, xgboost and lightgbm), the layout its server loads
(components/model/layout.py), its image's architectures, and whether servebox installs the runtime
enabled (versions.SERVED_RUNTIMES). With Seldon Core, servebox registers one server of its own,
KServe's sklearn server (components/platform/seldon.py), so only sklearn is served there.

Every check returns problems in the project's configuration style: the key (`models[1].format`),
what it got, what is allowed, and the fix; callers collect them and raise once
(components/config.py ConfigError) before any resource is registered.
https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/overview
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from components import versions

MAX_NAME_LENGTH = 40
"""As `modelName` (components/config.py): the name is also the start of Knative's and Istio's
generated names and hosts."""
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True)
class ModelFormat:
    """One model format, the KServe runtime that serves it at KSERVE_VERSION, and what it loads."""

    name: str
    """The InferenceService's `modelFormat.name`."""
    version: str
    """The `modelFormat.version` the runtime declares (the highest, where it declares several)."""
    runtime: str
    """The ClusterServingRuntime the InferenceService names."""
    protocols: tuple[str, ...]
    """The REST protocols the runtime declares (`protocolVersions`)."""
    layout: str
    """What the model directory (or file) must hold, as the server's loader reads it."""
    extensions: tuple[str, ...] = ()
    """For single-file formats: the endings the loader picks from the directory's top level."""
    first_class: bool = False
    """Served by KServe's own multi-arch server, and round-trip tested here."""
    extra_arguments: tuple[str, ...] = ()
    """Container arguments the runtime adds after model name, directory and port (files/runtimes/
    resources.yaml at the tag), for KServe's own servers."""

    @property
    def runtime_record(self) -> versions.ServingRuntime:
        return next(r for r in versions.KSERVE_RUNTIMES if r.name == self.runtime)

    @property
    def architectures(self) -> frozenset[str]:
        """The CPU architectures the runtime's image is published for."""
        image = _served_images().get(self.runtime)
        if image is not None:
            return image.architectures
        return versions.DISABLED_RUNTIME_IMAGES[self.runtime].architectures


def _served_images() -> dict[str, versions.Image]:
    return {
        "kserve-sklearnserver": versions.SKLEARN_SERVER,
        "kserve-xgbserver": versions.XGB_SERVER,
        "kserve-lgbserver": versions.LGB_SERVER,
    }


FORMATS: dict[str, ModelFormat] = {
    f.name: f
    for f in (
        ModelFormat(
            "sklearn", "1", "kserve-sklearnserver", ("v1", "v2"),
            "exactly one *.joblib, *.pkl or *.pickle file (at the top of a directory, or the file itself), "
            f"pickled with scikit-learn {versions.SKLEARN_VERSION}",
            (".joblib", ".pkl", ".pickle"), first_class=True,
        ),
        ModelFormat(
            "xgboost", "2", "kserve-xgbserver", ("v1", "v2"),
            "exactly one *.bst, *.json or *.ubj Booster file (Booster.save_model)",
            (".bst", ".json", ".ubj"), first_class=True, extra_arguments=("--nthread=1",),
        ),
        ModelFormat(
            "lightgbm", "4", "kserve-lgbserver", ("v1", "v2"),
            "exactly one *.bst file in LightGBM's text model format (Booster.save_model)",
            (".bst",), first_class=True, extra_arguments=("--nthread=1",),
        ),
        ModelFormat("pmml", "4", "kserve-pmmlserver", ("v1", "v2"), "exactly one *.pmml file", (".pmml",)),
        ModelFormat(
            "tensorflow", "2", "kserve-tensorflow-serving", ("v1",),
            "a SavedModel in a numbered version directory: <dir>/<version>/saved_model.pb",
        ),
        ModelFormat(
            "pytorch", "1", "kserve-torchserve", ("v1", "v2"),
            "TorchServe's layout: <dir>/config/config.properties and <dir>/model-store/*.mar",
        ),
        ModelFormat(
            "onnx", "1", "kserve-tritonserver", ("v2",),
            "a Triton model repository: <dir>/<model name>/<version>/model.onnx (config.pbtxt optional)",
        ),
        ModelFormat(
            "huggingface", "1", "kserve-huggingfaceserver", ("v2", "v1"),
            "a save_pretrained() directory: config.json and *.safetensors or pytorch_model.bin weights",
        ),
    )
}
"""Formats servebox checks, by `format` value."""

SELDON_SERVERS: dict[str, str] = {"sklearn": versions.SELDON_SERVER_IMPLEMENTATION}
"""With serving seldon: format -> the predictor implementation servebox registers for it."""

SELDON_PREPACKAGED = (
    "SKLEARN_SERVER", "XGBOOST_SERVER", "MLFLOW_SERVER", "TENSORFLOW_SERVER", "TRITON_SERVER",
    "HUGGINGFACE_SERVER", "TEMPO_SERVER",
)
"""Seldon Core v1.17.1's own prepackaged servers (helm-charts/seldon-core-operator/values.yaml
`predictor_servers`; there is no LightGBM one). servebox uses none of them: their images
(seldonio/*server:1.17.1, seldonio/mlserver:1.3.5-*, Triton 21.08) are amd64-only, unpinned here,
and on the unmaintained MLServer for V2."""


def server_arguments(fmt: str, model_name: str, model_dir: str = "/mnt/models", http_port: int | str = 8080) -> list[str]:
    """The arguments the format's ClusterServingRuntime gives KServe's own server (first-class formats)."""
    spec = FORMATS[fmt]
    if not spec.first_class:
        raise ValueError(f"format: got {fmt!r}; allowed: {', '.join(n for n, f in FORMATS.items() if f.first_class)}")
    return [f"--model_name={model_name}", f"--model_dir={model_dir}", f"--http_port={http_port}", *spec.extra_arguments]


def served_formats(serving: str, served_runtimes: frozenset[str] = versions.SERVED_RUNTIMES) -> tuple[str, ...]:
    """The formats a stack with this serving stack (kserve or seldon) serves, in table order."""
    if serving == "seldon":
        return tuple(SELDON_SERVERS)
    return tuple(name for name, f in FORMATS.items() if f.runtime in served_runtimes)


def check_format(
    fmt: str,
    serving: str,
    key: str = "format",
    *,
    node_architecture: str | None = None,
    served_runtimes: frozenset[str] = versions.SERVED_RUNTIMES,
) -> list[str]:
    """Problems with serving `fmt` on this serving stack: unknown, not served here, wrong CPU."""
    allowed = f"allowed with serving {serving}: {', '.join(served_formats(serving, served_runtimes))}"
    if fmt not in FORMATS:
        return [
            f"{key}: got {fmt!r}; {allowed}. Fix: set {key} to one of them, or save the model with one of "
            "those frameworks"
        ]
    if serving == "seldon" and fmt not in SELDON_SERVERS:
        return [
            f"{key}: got {fmt!r}; {allowed} (servebox registers one server with Seldon Core, KServe's "
            f"scikit-learn server as {versions.SELDON_SERVER_IMPLEMENTATION}, and none of Seldon's own prepackaged "
            "servers, which are amd64-only and on the unmaintained MLServer). Fix: pulumi config set serving "
            "kserve, or save the model with scikit-learn"
        ]
    spec = FORMATS[fmt]
    if serving != "seldon" and spec.runtime not in served_runtimes:
        facts = versions.DISABLED_RUNTIME_IMAGES[spec.runtime]
        return [
            f"{key}: got {fmt!r}; {allowed}. KServe serves {fmt} with {spec.runtime}, whose image "
            f"{spec.runtime_record.image} runs on {_arch_words(facts.architectures)} and is {facts.size}; servebox "
            "installs that runtime disabled (components/versions.py SERVED_RUNTIMES). Fix: save the model as "
            f"sklearn, xgboost or lightgbm, or enable {spec.runtime} by adding it to SERVED_RUNTIMES (and its "
            "image to the pinned images) on a node that can run it"
        ]
    if node_architecture and node_architecture not in spec.architectures:
        return [
            f"{key}: got {fmt!r}; its runtime {spec.runtime} runs on {_arch_words(spec.architectures)}, and "
            f"this stack's node is {node_architecture}. Fix: choose a machine type of that architecture, "
            "or another format"
        ]
    return []


def check_protocol(fmt: str, protocol: str, key: str = "protocol", serving: str = "kserve") -> list[str]:
    """The protocol must be one the format's runtime declares (ONNX on Triton is V2 only); with
    Seldon Core, V2 only: its executor forwards V1 for its tensorflow protocol alone
    (components/model/seldon.py)."""
    spec = FORMATS.get(fmt)
    if serving == "seldon":
        allowed: tuple[str, ...] = ("v2",)
        where = "serving seldon"
    elif spec is not None:
        allowed, where = spec.protocols, f"format {fmt} ({spec.runtime})"
    else:
        return []
    if protocol in allowed:
        return []
    return [f"{key}: got {protocol!r}; allowed for {where}: {', '.join(allowed)}. Fix: set {key} to {allowed[0]}"]


def check_model_name(name: str, key: str = "name") -> list[str]:
    """An InferenceService name: a DNS-1035 label (KServe's IsvcNameFmt), at most MAX_NAME_LENGTH."""
    if len(name) <= MAX_NAME_LENGTH and _DNS_1035.fullmatch(name):
        return []
    fix = _suggest_name(name)
    return [
        f"{key}: got {name!r}; allowed: lower-case letters, digits and '-', starting with a letter and ending "
        f"with a letter or digit, at most {MAX_NAME_LENGTH} characters. Fix: set {key} to {fix!r}"
    ]


def check_unique_names(names: Sequence[str], key: str = "models") -> list[str]:
    """Each later use of a name already taken is a problem naming both entries."""
    return [duplicate_problem(key, index, first, names[index]) for index, first in duplicates(names).items()]


def duplicates(names: Sequence[str]) -> dict[int, int]:
    """index of each later use of a name -> index of its first use."""
    first: dict[str, int] = {}
    found = {}
    for index, name in enumerate(names):
        if name in first:
            found[index] = first[name]
        else:
            first[name] = index
    return found


def duplicate_problem(key: str, index: int, first: int, name: str) -> str:
    return (
        f"{key}[{index}].name: got {name!r}, which {key}[{first}].name already uses; allowed: a name no other "
        "model has (each model is its own InferenceService). Fix: rename one of them"
    )


def _suggest_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)[:MAX_NAME_LENGTH].rstrip("-")
    return cleaned or "my-model"


def _arch_words(architectures: frozenset[str]) -> str:
    if architectures == versions.AMD64_ONLY:
        return "amd64 only"
    return " and ".join(sorted(architectures))
