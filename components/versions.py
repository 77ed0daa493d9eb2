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
    """A container image pinned by tag (and digest where upstream publishes one).

    `architectures` are the Linux CPU architectures the image is published for at this tag, and
    `architectures_source` the upstream file that says so: scripts/preflight.py refuses a machine
    whose Docker runs another architecture before anything is created.
    """

    repository: str
    tag: str
    architectures: frozenset[str]
    architectures_source: str
    digest: str = ""
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
# What `servebox up` fetches when kind is missing or too old: that release's binary, checked against
# the `.sha256sum` file published beside it (https://github.com/kubernetes-sigs/kind/releases).
KIND_CLI_VERSION = KIND_MIN_CLI_VERSION

# --- Pulumi CLI --------------------------------------------------------------------------------
# What `servebox up` fetches when the CLI is missing or older than servebox needs (servebox/stacks.py
# MINIMUM_CLI): the release of the pinned SDK (requirements.txt pulumi==, so the Automation API talks
# to its own CLI), as goreleaser names it (pulumi/pulumi .goreleaser.yml: archive
# pulumi-v<version>-<os>-<x64|arm64>.tar.gz wrapped in pulumi/, checksums pulumi-<version>-checksums.txt).
PULUMI_CLI_VERSION = "3.272.0"
KIND_NODE = Image(
    "kindest/node",
    f"v{KUBERNETES_VERSION}",
    AMD64_ARM64,
    "kubernetes-sigs/kind hack/release/push-node.sh@v0.32.0: ARCHES=amd64 arm64, one manifest list",
    digest="sha256:3f5c8443c620245e4d355cfe09e96a91ead32ceaa569d3f1ca9edf0cb2fe2ff4",
    source="https://github.com/kubernetes-sigs/kind/releases/tag/v0.32.0",
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
        Image(f"quay.io/jetstack/cert-manager-{part}", CERT_MANAGER_VERSION, AMD64_ARM64, "cert-manager/cert-manager make/containers.mk@v1.17.0: ARCHS = amd64 arm64 s390x ppc64le arm")
        for part in ("controller", "webhook", "cainjector", "startupapicheck")
    ),
)

# --- Istio -------------------------------------------------------------------------------------
ISTIO_VERSION = "1.27.1"
ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"
_ISTIO_SOURCE = "https://istio.io/latest/news/releases/1.27.x/announcing-1.27.1/"
_ISTIO_RULE = "KServe 0.20 pins Istio 1.27.1 (kserve-deps.env); base, istiod and gateway move together."
_ISTIO_ARCHITECTURES = "istio/release-builder release/build.sh@1.27.1: ARCH=linux/amd64,linux/arm64"
ISTIO_BASE = Chart("base", ISTIO_VERSION, ISTIO_REPO, _ISTIO_SOURCE, _ISTIO_RULE)
ISTIOD = Chart(
    "istiod",
    ISTIO_VERSION,
    ISTIO_REPO,
    _ISTIO_SOURCE,
    _ISTIO_RULE,
    (Image("docker.io/istio/pilot", ISTIO_VERSION, AMD64_ARM64, _ISTIO_ARCHITECTURES),),
)
ISTIO_GATEWAY = Chart(
    "gateway",
    ISTIO_VERSION,
    ISTIO_REPO,
    _ISTIO_SOURCE,
    _ISTIO_RULE,
    (Image("docker.io/istio/proxyv2", ISTIO_VERSION, AMD64_ARM64, _ISTIO_ARCHITECTURES),),
)

# --- Knative -----------------------------------------------------------------------------------
KNATIVE_VERSION = "1.21.1"
_KNATIVE_ARCHITECTURES = (
    "knative/operator vendor/knative.dev/hack/release.sh@knative-v1.21.1: KO_FLAGS=--platform=all "
    "over gcr.io/distroless/static:nonroot (.ko.yaml)"
)
KNATIVE_OPERATOR = Chart(
    "knative-operator",
    f"v{KNATIVE_VERSION}",
    repo="https://knative.github.io/operator",
    source="https://github.com/knative/operator/releases/tag/knative-v1.21.1",
    rule="KServe 0.20 pins Knative Operator and Serving 1.21.1 (kserve-deps.env); the operator "
    "installs the Serving and net-istio version named in the KnativeServing CR (same minor).",
    images=tuple(
        Image(
            f"gcr.io/knative-releases/knative.dev/operator/cmd/{part}",
            f"v{KNATIVE_VERSION}",
            AMD64_ARM64,
            _KNATIVE_ARCHITECTURES,
        )
        for part in ("operator", "webhook")
    ),
)

# --- KServe ------------------------------------------------------------------------------------
KSERVE_VERSION = "v0.20.0"
_KSERVE_SOURCE = "https://github.com/kserve/kserve/releases/tag/v0.20.0"
_KSERVE_RULE = "The three KServe charts move together; KServe 0.20 is tested with the pins above."


def _kserve_workflow(workflow: str, platforms: str = "linux/amd64,linux/arm64/v8") -> str:
    return f"kserve/kserve .github/workflows/{workflow}@{KSERVE_VERSION}: platforms {platforms}"


KSERVE_CRD = Chart("oci://ghcr.io/kserve/charts/kserve-crd", KSERVE_VERSION, "", _KSERVE_SOURCE, _KSERVE_RULE)
KSERVE_RESOURCES = Chart(
    "oci://ghcr.io/kserve/charts/kserve-resources",
    KSERVE_VERSION,
    "",
    _KSERVE_SOURCE,
    _KSERVE_RULE,
    (
        Image(
            "docker.io/kserve/kserve-controller",
            KSERVE_VERSION,
            AMD64_ARM64,
            _kserve_workflow(
                "kserve-controller-docker-publish.yml",
                "linux/amd64,linux/arm/v7,linux/arm64/v8,linux/ppc64le,linux/s390x",
            ),
        ),
        # The init container that copies a model from the store into every predictor pod.
        Image(
            "docker.io/kserve/storage-initializer",
            KSERVE_VERSION,
            AMD64_ARM64,
            _kserve_workflow("storage-initializer-docker-publisher.yml"),
        ),
        Image("quay.io/brancz/kube-rbac-proxy", "v0.18.0", AMD64_ARM64, "brancz/kube-rbac-proxy scripts/publish.sh@v0.18.0: CPU_ARCHS=amd64 arm64 arm ppc64le s390x"),
    ),
)


@dataclass(frozen=True)
class ServingRuntime:
    """A ClusterServingRuntime that kserve-runtime-configs installs at KSERVE_VERSION.

    The chart renders every runtime it knows; `disabled` in its values only sets the object's
    `spec.disabled`, so each one is installed either way. servebox serves the runtimes in
    SERVED_RUNTIMES, turns the rest off, and pins every image so that none is a moving tag.
    """

    name: str
    """The ClusterServingRuntime's name (what an InferenceService's `runtime` names)."""
    values_key: str
    """Its block under `kserve.servingruntime` in the chart's values.yaml."""
    image: str
    """repository:tag it runs, as the chart renders it with servebox's values."""
    tag_override: str = ""
    """Set in the chart values where the chart's own default tag is not a release (`latest`)."""
    formats: tuple[str, ...] = ()
    """Model formats it serves (its supportedModelFormats)."""


def _kserve_image(server: str) -> str:
    # The chart's default tag for KServe's own servers is the chart version (`tag | default .Values.kserve.version`).
    return f"kserve/{server}:{KSERVE_VERSION}"


# The vLLM release KServe v0.20.0 builds on (python/kserve/pyproject.toml `llm` extra and
# python/huggingface_server.Dockerfile VLLM_VERSION, both 0.24.0); vLLM tags its images v<version>.
# The chart's values leave this runtime at `vllm/vllm-openai:latest`, which servebox never installs.
VLLM_TAG = "v0.24.0"

# Every runtime of kserve-runtime-configs v0.20.0 (values.yaml and files/runtimes/ at the tag).
KSERVE_RUNTIMES: tuple[ServingRuntime, ...] = (
    ServingRuntime("kserve-sklearnserver", "sklearnserver", _kserve_image("sklearnserver"), formats=("sklearn",)),
    ServingRuntime("kserve-xgbserver", "xgbserver", _kserve_image("xgbserver"), formats=("xgboost",)),
    ServingRuntime("kserve-lgbserver", "lgbserver", _kserve_image("lgbserver"), formats=("lightgbm",)),
    ServingRuntime("kserve-mlserver", "mlserver", "docker.io/seldonio/mlserver:1.5.0"),
    ServingRuntime("kserve-tensorflow-serving", "tensorflow", "tensorflow/serving:2.6.2"),
    ServingRuntime("kserve-torchserve", "torchserve", "pytorch/torchserve-kfs:0.9.0"),
    ServingRuntime("kserve-tritonserver", "tritonserver", "nvcr.io/nvidia/tritonserver:23.05-py3"),
    ServingRuntime("kserve-pmmlserver", "pmmlserver", _kserve_image("pmmlserver")),
    ServingRuntime("kserve-predictiveserver", "predictiveserver", _kserve_image("predictiveserver")),
    ServingRuntime("kserve-paddleserver", "paddleserver", _kserve_image("paddleserver")),
    ServingRuntime("kserve-autogluonserver", "autogluonserver", _kserve_image("autogluonserver")),
    # Two runtimes, one switch: the multinode runtime reads huggingfaceserver's `disabled` too.
    ServingRuntime("kserve-huggingfaceserver", "huggingfaceserver", _kserve_image("huggingfaceserver")),
    ServingRuntime(
        "kserve-huggingfaceserver-multinode", "huggingfaceserver", f"{_kserve_image('huggingfaceserver')}-gpu"
    ),
    ServingRuntime("kserve-vllmserver", "vllmserver", f"vllm/vllm-openai:{VLLM_TAG}", tag_override=VLLM_TAG),
)

# Rule: serve only runtimes that are KServe's own CPU servers at KSERVE_VERSION, built for amd64
# and arm64, on maintained libraries. MLServer is unmaintained (Seldon is in liquidation,
# SeldonIO/MLServer#2404) and amd64-only; the GPU, Java and TensorFlow 2.6 runtimes do not fit a
# laptop-sized node.
SERVED_RUNTIMES = frozenset({"kserve-sklearnserver", "kserve-xgbserver", "kserve-lgbserver"})

KSERVE_RUNTIME_CONFIGS = Chart(
    "oci://ghcr.io/kserve/charts/kserve-runtime-configs",
    KSERVE_VERSION,
    "",
    _KSERVE_SOURCE,
    _KSERVE_RULE,
    # Pulled only when a model names them; listed for mirrors and the architecture preflight.
    (
        Image(
            "docker.io/kserve/sklearnserver",
            KSERVE_VERSION,
            AMD64_ARM64,
            _kserve_workflow("sklearnserver-docker-publish.yml"),
        ),
        Image("docker.io/kserve/xgbserver", KSERVE_VERSION, AMD64_ARM64, _kserve_workflow("xgbserver-docker-publisher.yml")),
        Image("docker.io/kserve/lgbserver", KSERVE_VERSION, AMD64_ARM64, _kserve_workflow("lightgbm-docker-publish.yml")),
    ),
)

# --- Seldon Core v1 (serving: seldon) -----------------------------------------------------------
# Rule: v1.17.1 is the last Apache-2.0 release (v1.18.x is BSL 1.1: LICENSE@v1.18.2). Every object
# its chart renders uses an API Kubernetes 1.33 serves (apiextensions/v1 CRDs, admissionregistration/v1
# webhook, apps/v1, rbac/v1, cert-manager.io/v1), and the operator's VirtualService and
# DestinationRule are networking.istio.io/v1alpha3, which Istio 1.27 still serves. The SeldonDeployment
# CRD is byte-identical at v1.17.1 and v1.18.2 (../shared/schemas/README.md).
SELDON_VERSION = "1.17.1"
_SELDON_SOURCE = "https://github.com/SeldonIO/seldon-core/releases/tag/v1.17.1"
# Neither Makefile nor workflow at the tag builds for more than the build machine's platform.
_SELDON_ARCHITECTURES = (
    "SeldonIO/seldon-core operator/Makefile and executor/Makefile@v1.17.1: a plain `docker build`, "
    "no --platform (amd64 only, as far as the build files show)"
)
SELDON_EXECUTOR = Image(
    "docker.io/seldonio/seldon-core-executor", SELDON_VERSION, AMD64_ONLY, _SELDON_ARCHITECTURES
)
SELDON_CORE_OPERATOR = Chart(
    "seldon-core-operator",
    SELDON_VERSION,
    repo="https://storage.googleapis.com/seldon-charts",
    source=_SELDON_SOURCE,
    rule="The last Apache-2.0 release of Seldon Core v1; needs Istio's CRDs and, with "
    "certManager.enabled, cert-manager for its webhook certificate.",
    images=(
        Image("docker.io/seldonio/seldon-core-operator", SELDON_VERSION, AMD64_ONLY, _SELDON_ARCHITECTURES),
        # Injected into every SeldonDeployment's pod as its service orchestrator.
        SELDON_EXECUTOR,
    ),
)
SELDON_SERVER_IMPLEMENTATION = "KSERVE_SKLEARN_SERVER"
"""The name servebox registers KServe's sklearn server under in the chart's predictor_servers."""


# --- Model runtime -----------------------------------------------------------------------------
# The sample model is served by KServe's own scikit-learn server, the `kserve-sklearnserver`
# ClusterServingRuntime above, with V1 and V2 on one port. Rule: a pickle loads only with the
# libraries that wrote it, so these equal what that image installs, and train_mnist.py refuses any
# other. The image is python:3.11-slim-bookworm with kserve/kserve python/sklearnserver/uv.lock
# synced into it (python/sklearn.Dockerfile@v0.20.0); that lock resolves, for Python 3.11:
SKLEARN_SERVER = KSERVE_RUNTIME_CONFIGS.images[0]
SKLEARN_SERVER_RUNTIME = next(r for r in KSERVE_RUNTIMES if r.name == "kserve-sklearnserver")
SKLEARN_VERSION = "1.5.2"
NUMPY_VERSION = "2.4.4"
JOBLIB_VERSION = "1.5.3"
SKLEARN_SERVER_PYTHON = "3.11"

# --- Users' own models: the other runtimes' facts ---------------------------------------------
# Facts only, for the format check of users' own models (components/model/formats.py): the
# framework releases inside KServe's xgbserver and lgbserver images, which a saved model must
# load in (kserve/kserve python/xgbserver/uv.lock and python/lgbserver/uv.lock at v0.20.0; the
# lgbserver image also carries scikit-learn 1.6.1 through lightgbm[scikit-learn]), and the
# architectures of the images of runtimes servebox installs disabled.
XGBOOST_VERSION = "2.1.4"
LIGHTGBM_VERSION = "4.6.0"
XGB_SERVER = KSERVE_RUNTIME_CONFIGS.images[1]
LGB_SERVER = KSERVE_RUNTIME_CONFIGS.images[2]


@dataclass(frozen=True)
class RuntimeImageFacts:
    """What enabling a runtime would pull: its image's architectures and rough size."""

    architectures: frozenset[str]
    source: str
    size: str
    """A rough size, as "<image> is ..." completes it (nothing is pulled here to measure it)."""


_UNVERIFIED = "[not verifiable offline: no registry manifest was read]"
DISABLED_RUNTIME_IMAGES: dict[str, RuntimeImageFacts] = {
    "kserve-pmmlserver": RuntimeImageFacts(
        AMD64_ARM64, _kserve_workflow("pmml-docker-publish.yml"), "a Python image with a Java runtime (JPMML) in it"
    ),
    "kserve-huggingfaceserver": RuntimeImageFacts(
        AMD64_ONLY,
        _kserve_workflow("huggingface-docker-publish.yml", "linux/amd64"),
        "several GB (PyTorch, CUDA libraries and vLLM)",
    ),
    "kserve-tensorflow-serving": RuntimeImageFacts(
        AMD64_ONLY,
        f"tensorflow/serving publishes amd64 images only {_UNVERIFIED}",
        "a few hundred MB, with TensorFlow Serving 2.6.2 from 2021",
    ),
    "kserve-torchserve": RuntimeImageFacts(
        AMD64_ONLY, f"pytorch/torchserve-kfs is built for amd64 only {_UNVERIFIED}", "GB-sized (PyTorch)"
    ),
    "kserve-tritonserver": RuntimeImageFacts(
        AMD64_ARM64,
        f"NGC publishes tritonserver -py3 images for amd64 and arm64 {_UNVERIFIED}",
        "over 10 GB (CUDA and every Triton backend)",
    ),
    "kserve-mlserver": RuntimeImageFacts(
        AMD64_ONLY, "SeldonIO/MLServer, unmaintained since 2026 (SeldonIO/MLServer#2404)", "GB-sized (every MLServer runtime)"
    ),
}


# --- VM targets: k3s and the OS image ---------------------------------------------------------
# Rule: the same Kubernetes minor as the kind node (1.33, KUBERNETES_VERSION's rule) and at least
# v1.33.4+k3s1, which stops k3s replacing GCE's metadata-server resolver with 8.8.8.8
# (k3s-io/k3s#12692, 1.33 backport #12702) so that pods resolve metadata.google.internal. v1.33.7+k3s1
# is the newest 1.33 release in k3s-io/docs docs/release-notes/v1.33.X.md (stored copy @143463bb).
# The binaries are checked against these sha256s (from the release's sha256sum-<arch>.txt, as quoted
# by andrewrothstein/ansible-k3s defaults/main.yml); install.sh is k3s's own, pinned by tag and
# sha256 (9ca7930c… is the same file at v1.33.4, v1.33.12 and v1.33.13 in three independent pins, so
# unchanged across the branch), and runs with INSTALL_K3S_SKIP_DOWNLOAD=true.


@dataclass(frozen=True)
class K3sRelease:
    """A k3s release and the checksums every download of it is held to."""

    version: str
    binary_sha256: dict[str, str]
    """sha256 of the release binary, by Debian architecture (amd64: `k3s`, arm64: `k3s-arm64`)."""
    install_script_sha256: str
    source: str

    @property
    def kubernetes_version(self) -> str:
        return self.version.split("+", 1)[0].lstrip("v")


K3S = K3sRelease(
    version="v1.33.7+k3s1",
    binary_sha256={
        "amd64": "8cb5e74c409635f73856d1956ca9b2402df3c72524b894299a891d3f05da399d",
        "arm64": "4648225a3c5617c68f01b8dd2d7cb46ec12903d52dc568c9fab7eaf5296c7306",
    },
    install_script_sha256="9ca7930c31179d83bc13de20078fd8ad3e1ee00875b31f39a7e524ca4ef7d9de",
    source="https://github.com/k3s-io/k3s/releases/tag/v1.33.7%2Bk3s1",
)

# Ubuntu 24.04 LTS, Canonical's GCE image families (project ubuntu-os-cloud), by architecture. The
# family is resolved to one image when the VM is created and kept (components/cluster/gcp.py).
GCP_IMAGE_PROJECT = "ubuntu-os-cloud"
GCP_IMAGE_FAMILIES = {"amd64": "ubuntu-2404-lts-amd64", "arm64": "ubuntu-2404-lts-arm64"}
# Compute Engine's Arm machine series (Ampere Altra: t2a; Google Axion: c4a, n4a).
GCP_ARM_SERIES = frozenset({"t2a", "c4a", "n4a"})
# Machine series that take no Persistent Disk, only Hyperdisk: their boot disk is hyperdisk-balanced
# instead of pd-balanced, which the API refuses on them (terraform-provider-google #20247 for c4a;
# linux-kdevops/kdevops #77 for c4, c4a, n4; nextflow-io/nextflow #6614 for c4, c4a, c4d, n4, n4a,
# n4d: "They only support ... hyperdisk-balanced, hyperdisk-balanced-high-availability,
# hyperdisk-throughput"; c3 and c3d still take Persistent Disk).
GCP_HYPERDISK_ONLY_SERIES = frozenset({"c4", "c4a", "c4d", "n4", "n4a", "n4d"})

# Ubuntu 24.04 LTS on EC2: Canonical's public SSM parameters name the current gp3 AMI per
# architecture (https://documentation.ubuntu.com/aws/aws-how-to/instances/find-ubuntu-images/). It is
# resolved when the instance is created and kept (components/cluster/aws.py).
AWS_AMI_PARAMETERS = {
    arch: f"/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
    for arch in ("amd64", "arm64")
}

# --- Model store (kind) ------------------------------------------------------------------------
# MinIO publishes source only since October 2025 (minio/minio#21647); this is the last release with
# an official multi-arch image. Its S3 API listens on the host's loopback only.
MINIO = Image(
    "quay.io/minio/minio",
    "RELEASE.2025-09-07T16-13-09Z",
    AMD64_ARM64,
    (
        "minio/minio Dockerfile.release@RELEASE.2025-09-07T16-13-09Z: built per TARGETARCH from "
        "dl.min.io linux-${TARGETARCH}, and buildscripts/cross-compile.sh builds linux/arm64; the image "
        "list itself is published outside the repository"
    ),
    source="https://github.com/minio/minio/releases/tag/RELEASE.2025-09-07T16-13-09Z",
)

# Fills the one required container of the ClusterServingRuntime that the KServe webhook probe
# sends as a dry run; it is never stored and so never pulled. Tag from registry.k8s.io.
PAUSE = Image("registry.k8s.io/pause", "3.10", AMD64_ARM64, "kubernetes/kubernetes build/pause/Makefile (TAG 3.10): ALL_ARCH.linux = amd64 arm arm64 ppc64le s390x")


def charts(serving: str = "kserve") -> tuple[Chart, ...]:
    """Every chart the platform installs for `serving` (kserve or seldon)."""
    common = (CERT_MANAGER, ISTIO_BASE, ISTIOD, ISTIO_GATEWAY)
    if serving == "seldon":
        return (*common, SELDON_CORE_OPERATOR)
    return (*common, KNATIVE_OPERATOR, KSERVE_CRD, KSERVE_RESOURCES, KSERVE_RUNTIME_CONFIGS)


def images(serving: str = "kserve") -> tuple[Image, ...]:
    """The images a kind stack pulls by tag, for the architecture preflight and for mirroring.

    That is every chart's images (the served runtimes' too: a model of that format pulls its
    image), MinIO and the node image; with Seldon, KServe's sklearn server and storage initializer
    as well, which serve and fetch the model there too. Knative's own images are not here: the
    operator pulls them by digest from its bundled manifests (gcr.io/knative-releases, multi-arch).
    """
    model = (SKLEARN_SERVER, KSERVE_RESOURCES.images[1]) if serving == "seldon" else ()
    return (KIND_NODE, *(image for chart in charts(serving) for image in chart.images), *model, MINIO)


def summary(on_vm: bool = False, serving: str = "kserve") -> dict[str, str]:
    """The `versions` stack output: what this stack runs, by component (k3s on VMs, kind's node
    locally; Seldon Core or Knative and KServe)."""
    cluster = {"k3s": K3S.version} if on_vm else {"kind_node_image": KIND_NODE.ref}
    stack = (
        {"seldon_core": SELDON_VERSION}
        if serving == "seldon"
        else {"knative_serving": KNATIVE_VERSION, "kserve": KSERVE_VERSION}
    )
    return {
        "kubernetes": K3S.kubernetes_version if on_vm else KUBERNETES_VERSION,
        **cluster,
        "cert_manager": CERT_MANAGER_VERSION,
        "istio": ISTIO_VERSION,
        **stack,
        "model_runtime": SKLEARN_SERVER.ref,
        "scikit_learn": SKLEARN_VERSION,
        **({} if on_vm else {"minio": MINIO.ref}),
    }
