"""Every upstream version servebox installs, pinned once.

Charts, chart repositories, images and the kind node image live here and nowhere else: components,
templates, scripts and tests read them from this module. Each pin names its upstream source and the
compatibility rule it has to keep. Moving a pin means reading that rule again, and moving the CRD
schema under ../shared/schemas/ that tests validate against (see its README).

The set is KServe v0.20.0's own tested dependency set (kserve/kserve:kserve-deps.env@v0.20.0),
on the newest Kubernetes minor every piece supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AMD64_ARM64 = frozenset({"amd64", "arm64"})
AMD64_ONLY = frozenset({"amd64"})


@dataclass(frozen=True)
class Image:
    """A container image pinned by tag (and digest where upstream publishes one)."""

    repository: str
    tag: str
    digest: str = ""
    architectures: frozenset[str] = AMD64_ARM64
    source: str = ""

    @property
    def ref(self) -> str:
        """The reference to pull: `repository:tag[@digest]`."""
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class Chart:
    """A Helm chart at a pinned version, from a classic repository or an OCI registry."""

    name: str
    """Chart name in `repo`, or a full `oci://` reference when `repo` is empty."""
    version: str
    repo: str = ""
    source: str = ""
    rule: str = ""
    images: tuple[Image, ...] = field(default=())
    """Images the chart pulls at this version: for the architecture preflight and mirror lists."""


# --- Kubernetes --------------------------------------------------------------------------------
# Rule: Istio 1.27 supports Kubernetes 1.29-1.33 (istio.io "announcing-1.27"); KServe 0.20 needs
# >= 1.32 (kserve website quickstart); Knative 1.21 needs >= 1.33. 1.33 is the only minor all agree on.
KUBERNETES_VERSION = "1.33.12"

# kind v0.32.0 release notes: node images are published per kind release and must be pulled by
# digest; use a kind CLI at least as new as the release that built them.
KIND_MIN_CLI_VERSION = "0.32.0"
KIND_NODE = Image(
    "kindest/node",
    f"v{KUBERNETES_VERSION}",
    "sha256:3f5c8443c620245e4d355cfe09e96a91ead32ceaa569d3f1ca9edf0cb2fe2ff4",
    AMD64_ARM64,
    "https://github.com/kubernetes-sigs/kind/releases/tag/v0.32.0",
)

# --- cert-manager ------------------------------------------------------------------------------
CERT_MANAGER_VERSION = "v1.17.0"
CERT_MANAGER = Chart(
    "cert-manager",
    CERT_MANAGER_VERSION,
    repo="https://charts.jetstack.io",
    source="https://github.com/cert-manager/cert-manager/releases/tag/v1.17.0",
    rule="KServe 0.20 pins v1.17.0 (kserve-deps.env) and needs >= 1.15 (crds.enabled exists from 1.15).",
    images=tuple(
        Image(f"quay.io/jetstack/cert-manager-{part}", CERT_MANAGER_VERSION)
        for part in ("controller", "webhook", "cainjector", "startupapicheck")
    ),
)

# --- Istio -------------------------------------------------------------------------------------
ISTIO_VERSION = "1.27.1"
ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"
_ISTIO_SOURCE = "https://istio.io/latest/news/releases/1.27.x/announcing-1.27.1/"
_ISTIO_RULE = "KServe 0.20 pins Istio 1.27.1 (kserve-deps.env); base, istiod and gateway move together."
ISTIO_BASE = Chart("base", ISTIO_VERSION, ISTIO_REPO, _ISTIO_SOURCE, _ISTIO_RULE)
ISTIOD = Chart(
    "istiod", ISTIO_VERSION, ISTIO_REPO, _ISTIO_SOURCE, _ISTIO_RULE, (Image("docker.io/istio/pilot", ISTIO_VERSION),)
)
ISTIO_GATEWAY = Chart(
    "gateway", ISTIO_VERSION, ISTIO_REPO, _ISTIO_SOURCE, _ISTIO_RULE, (Image("docker.io/istio/proxyv2", ISTIO_VERSION),)
)

# --- Knative -----------------------------------------------------------------------------------
KNATIVE_VERSION = "1.21.1"
KNATIVE_OPERATOR = Chart(
    "knative-operator",
    f"v{KNATIVE_VERSION}",
    repo="https://knative.github.io/operator",
    source="https://github.com/knative/operator/releases/tag/knative-v1.21.1",
    rule="KServe 0.20 pins Knative Operator and Serving 1.21.1 (kserve-deps.env); the operator "
    "installs the Serving and net-istio version named in the KnativeServing CR (same minor).",
    images=(
        Image("gcr.io/knative-releases/knative.dev/operator/cmd/operator", f"v{KNATIVE_VERSION}"),
        Image("gcr.io/knative-releases/knative.dev/operator/cmd/webhook", f"v{KNATIVE_VERSION}"),
    ),
)

# --- KServe ------------------------------------------------------------------------------------
KSERVE_VERSION = "v0.20.0"
_KSERVE_SOURCE = "https://github.com/kserve/kserve/releases/tag/v0.20.0"
_KSERVE_RULE = "The three KServe charts move together; KServe 0.20 is tested with the pins above."
KSERVE_CRD = Chart("oci://ghcr.io/kserve/charts/kserve-crd", KSERVE_VERSION, "", _KSERVE_SOURCE, _KSERVE_RULE)
KSERVE_RESOURCES = Chart(
    "oci://ghcr.io/kserve/charts/kserve-resources",
    KSERVE_VERSION,
    "",
    _KSERVE_SOURCE,
    _KSERVE_RULE,
    (
        Image("docker.io/kserve/kserve-controller", KSERVE_VERSION),
        # The init container that copies a model from the store into every predictor pod.
        Image("docker.io/kserve/storage-initializer", KSERVE_VERSION),
        Image("quay.io/brancz/kube-rbac-proxy", "v0.18.0"),
    ),
)
KSERVE_RUNTIME_CONFIGS = Chart(
    "oci://ghcr.io/kserve/charts/kserve-runtime-configs", KSERVE_VERSION, "", _KSERVE_SOURCE, _KSERVE_RULE
)


# --- Model runtime --------------------------------------------------------------------------------
# The sample model is served by MLServer's sklearn runtime through a ServingRuntime servebox
# authors, so that the image and the library the offline tests serve the artifact with are the same
# release. Rule: pickles load only with the scikit-learn and numpy they were written with, so
# SKLEARN_VERSION and NUMPY_VERSION equal what this image installs, and train_mnist.py refuses any
# other. 1.6.1 because its image installs from SeldonIO/MLServer:poetry.lock@1.6.1 with markers that
# hold on x86_64 (scikit-learn 1.5.0, numpy 1.26.4); in the 1.7.x lock the pins carry aarch64-only
# markers, so what the amd64 1.7.x images contain cannot be read from source.
MLSERVER_VERSION = "1.6.1"
MODEL_RUNTIME = Image(
    "docker.io/seldonio/mlserver",
    f"{MLSERVER_VERSION}-sklearn",
    # Built by a plain `docker build` on x86_64 (release.yml@1.6.1): there is no arm64 image, and
    # scripts/preflight.py says so on Apple Silicon before anything is created.
    architectures=AMD64_ONLY,
    source="https://github.com/SeldonIO/MLServer/releases/tag/1.6.1",
)
SKLEARN_VERSION = "1.5.0"
NUMPY_VERSION = "1.26.4"

# --- Model store (kind) ------------------------------------------------------------------------
# MinIO publishes source only since October 2025 (minio/minio#21647); this is the last release with
# an official multi-arch image. Its S3 API listens on the host's loopback only.
MINIO = Image(
    "quay.io/minio/minio",
    "RELEASE.2025-09-07T16-13-09Z",
    architectures=AMD64_ARM64,
    source="https://github.com/minio/minio/releases/tag/RELEASE.2025-09-07T16-13-09Z",
)

# Fills the one required container of the ClusterServingRuntime that the KServe webhook probe
# sends as a dry run; it is never stored and so never pulled. Tag from registry.k8s.io.
PAUSE = Image("registry.k8s.io/pause", "3.10")


def charts() -> tuple[Chart, ...]:
    """Every chart the platform installs."""
    return (
        CERT_MANAGER,
        ISTIO_BASE,
        ISTIOD,
        ISTIO_GATEWAY,
        KNATIVE_OPERATOR,
        KSERVE_CRD,
        KSERVE_RESOURCES,
        KSERVE_RUNTIME_CONFIGS,
    )


def images() -> tuple[Image, ...]:
    """The images a kind stack pulls by tag, for the architecture preflight and for mirroring.

    Knative's own images are not here: the operator pulls them by digest from its bundled
    manifests (gcr.io/knative-releases, multi-arch for every release).
    """
    return (KIND_NODE, *(image for chart in charts() for image in chart.images), MINIO, MODEL_RUNTIME)


def summary() -> dict[str, str]:
    """The `versions` stack output: what this stack runs, by component."""
    return {
        "kubernetes": KUBERNETES_VERSION,
        "kind_node_image": KIND_NODE.ref,
        "cert_manager": CERT_MANAGER_VERSION,
        "istio": ISTIO_VERSION,
        "knative_serving": KNATIVE_VERSION,
        "kserve": KSERVE_VERSION,
        "model_runtime": MODEL_RUNTIME.ref,
        "scikit_learn": SKLEARN_VERSION,
        "minio": MINIO.ref,
    }
