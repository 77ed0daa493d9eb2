"""The whole program under mocks: which resources exist, their parents, install order, providers,
secrets and outputs, for Knative mode (the default) and Standard mode.

A mock run cannot prove that Helm, the charts or the API server accept any of it; see docs/tests.md.
"""

from __future__ import annotations

import pytest

from components import outputs, versions
from tests.harness import FAKE_KUBECONFIG, ProgramRun, run_program, secret_value

RELEASE = "kubernetes:helm.sh/v3:Release"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
NAMESPACE = "kubernetes:core/v1:Namespace"
COMMAND = "command:local:Command"

KNATIVE_RESOURCES = {
    "cluster": "servebox:cluster:KindCluster",
    "cluster-cluster": COMMAND,
    "cluster-provider": "pulumi:providers:kubernetes",
    "platform": "servebox:platform:Platform",
    "platform-cert-manager": "servebox:platform:CertManager",
    "platform-cert-manager-namespace": NAMESPACE,
    "platform-cert-manager-release": RELEASE,
    "platform-istio": "servebox:platform:Istio",
    "platform-istio-namespace": NAMESPACE,
    "platform-istio-base": RELEASE,
    "platform-istio-istiod": RELEASE,
    "platform-istio-gateway": RELEASE,
    "platform-istio-ingress-class": "kubernetes:networking.k8s.io/v1:IngressClass",
    "platform-knative": "servebox:platform:Knative",
    "platform-knative-operator-namespace": NAMESPACE,
    "platform-knative-operator": RELEASE,
    "platform-knative-serving-namespace": NAMESPACE,
    "platform-knative-serving": "kubernetes:operator.knative.dev/v1beta1:KnativeServing",
    "platform-kserve": "servebox:platform:KServe",
    "platform-kserve-namespace": NAMESPACE,
    "platform-kserve-crd": RELEASE,
    "platform-kserve-resources": RELEASE,
    "platform-kserve-webhook-ready": COMMAND,
    "platform-kserve-runtime-configs": RELEASE,
    "store": "servebox:storage:MinioStore",
    "store-namespace": NAMESPACE,
    "store-root-password": "random:index/randomPassword:RandomPassword",
    "store-root-credentials": "kubernetes:core/v1:Secret",
    "store-data": "kubernetes:core/v1:PersistentVolumeClaim",
    "store-server": "kubernetes:apps/v1:Deployment",
    "store-service": "kubernetes:core/v1:Service",
    "store-deny-all": NETWORK_POLICY,
    "store-allow-readers": NETWORK_POLICY,
    "store-provider": "pulumi:providers:minio",
    "store-bucket": "minio:index/s3Bucket:S3Bucket",
    "store-reader-policy": "minio:index/iamPolicy:IamPolicy",
    "store-reader-secret": "random:index/randomPassword:RandomPassword",
    "store-reader": "minio:index/iamUser:IamUser",
    "store-reader-policy-attachment": "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
    "model": "servebox:model:Models",
    "model-namespace": NAMESPACE,
    "model-deny-all": NETWORK_POLICY,
    "model-allow-requests": NETWORK_POLICY,
    "model-allow-model-download": NETWORK_POLICY,
    "model-upload": "minio:index/s3Object:S3Object",
    "model-storage-credentials": "kubernetes:core/v1:Secret",
    "model-service-account": "kubernetes:core/v1:ServiceAccount",
    "model-isvc": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "model-smoke-test": COMMAND,
}
STANDARD_RESOURCES = {
    name: type_ for name, type_ in KNATIVE_RESOURCES.items() if not name.startswith("platform-knative")
}
TOP_LEVEL = {"cluster", "platform", "store", "model"}


@pytest.fixture(scope="module")
def knative() -> ProgramRun:
    return run_program()


@pytest.fixture(scope="module")
def standard() -> ProgramRun:
    return run_program({"deploymentMode": "standard"})


def test_knative_mode_registers_exactly_these_resources(knative):
    assert {name: r.type for name, r in knative.by_role().items()} == KNATIVE_RESOURCES


def test_standard_mode_registers_no_knative(standard):
    assert {name: r.type for name, r in standard.by_role().items()} == STANDARD_RESOURCES


def test_every_child_is_parented_to_its_component(knative):
    components = {name for name, type_ in KNATIVE_RESOURCES.items() if type_.startswith("servebox:")}
    for name, resource in knative.resources.items():
        if name in TOP_LEVEL:
            assert resource.parent is None
            continue
        # The parent is the component whose name is the longest prefix of the child's name.
        expected = max((c for c in components if name.startswith(c + "-")), key=len)
        assert resource.parent == expected, name


def test_every_kubernetes_resource_uses_the_cluster_provider(knative):
    cluster_provider = "urn:pulumi:kind::servebox::servebox:cluster:KindCluster$pulumi:providers:kubernetes::cluster-provider::"
    store_provider = "urn:pulumi:kind::servebox::servebox:storage:MinioStore$pulumi:providers:minio::store-provider::"
    for resource in knative.resources.values():
        if resource.type.startswith("kubernetes:"):
            assert (resource.provider or "").startswith(cluster_provider), resource.name
        if resource.type.startswith("minio:"):
            assert (resource.provider or "").startswith(store_provider), resource.name
    # The Kubernetes provider is given once per top-level component; no child names one itself,
    # except the store's objects, which deliberately go to the MinIO provider.
    for name in ("platform", "store", "model"):
        assert [provider._name for provider in knative[name].options.providers] == ["cluster-provider"]
    for resource in knative.resources.values():
        if resource.parent and resource.options is not None and not resource.type.startswith("minio:"):
            assert resource.options.provider is None, resource.name


PLATFORM_WAITS_KNATIVE = {
    "platform-istio-istiod": {"platform-istio-base"},
    "platform-istio-gateway": {"platform-istio-istiod", "platform-istio-base"},
    "platform-knative-serving": {"platform-knative-operator", "platform-istio-base"},
    "platform-kserve-resources": {
        "platform-kserve-crd",
        "platform-cert-manager-release",
        "platform-istio-base",
        "platform-knative-serving",
        "platform-knative-operator",
    },
    "platform-kserve-webhook-ready": {
        "platform-kserve-resources",
        "platform-kserve-crd",
        "platform-cert-manager-release",
        "platform-istio-base",
        "platform-knative-serving",
        "platform-knative-operator",
    },
}


@pytest.mark.parametrize("name, expected", PLATFORM_WAITS_KNATIVE.items())
def test_install_order_in_knative_mode(knative, name, expected):
    waits = {w for w in knative.waits_on(name) if knative[w].type in (RELEASE, COMMAND) or "serving" in w}
    assert waits == expected


def test_runtimes_wait_for_the_webhook_probe(knative):
    assert knative["platform-kserve-runtime-configs"].depends_on == ["platform-kserve-webhook-ready"]
    assert "platform-kserve-resources" in knative.waits_on("platform-kserve-runtime-configs")


@pytest.mark.parametrize(
    "name",
    [
        "platform-cert-manager-release",
        "platform-istio-base",
        "platform-knative-operator",
        "platform-kserve-crd",
        "platform-istio-ingress-class",
    ],
)
def test_independent_installs_wait_for_nothing(knative, name):
    # cert-manager does not wait for Istio, the operator not for Istio, KServe's CRDs for nothing.
    assert knative.waits_on(name) == set()


def test_knative_serving_does_not_wait_for_istiod_or_the_gateway(knative):
    waits = knative.waits_on("platform-knative-serving")
    assert "platform-istio-istiod" not in waits and "platform-istio-gateway" not in waits


def test_kserve_does_not_wait_for_the_gateway(knative):
    assert "platform-istio-gateway" not in knative.waits_on("platform-kserve-runtime-configs")


def test_standard_mode_kserve_waits_for_cert_manager_and_istio_crds_only(standard):
    waits = {w for w in standard.waits_on("platform-kserve-resources") if standard[w].type == RELEASE}
    assert waits == {"platform-kserve-crd", "platform-cert-manager-release", "platform-istio-base"}


def test_releases_are_pinned_named_and_awaited(knative):
    expected = {
        "platform-cert-manager-release": ("cert-manager", versions.CERT_MANAGER, "cert-manager"),
        "platform-istio-base": ("istio-base", versions.ISTIO_BASE, "istio-system"),
        "platform-istio-istiod": ("istiod", versions.ISTIOD, "istio-system"),
        "platform-istio-gateway": ("istio-ingressgateway", versions.ISTIO_GATEWAY, "istio-system"),
        "platform-knative-operator": ("knative-operator", versions.KNATIVE_OPERATOR, "knative-operator"),
        "platform-kserve-crd": ("kserve-crd", versions.KSERVE_CRD, "kserve"),
        "platform-kserve-resources": ("kserve-resources", versions.KSERVE_RESOURCES, "kserve"),
        "platform-kserve-runtime-configs": ("kserve-runtime-configs", versions.KSERVE_RUNTIME_CONFIGS, "kserve"),
    }
    releases = {r.name: r for r in knative.of_type(RELEASE)}
    assert set(releases) == set(expected)
    for name, (release_name, chart, namespace) in expected.items():
        inputs = releases[name].inputs
        assert inputs["name"] == release_name
        assert inputs["chart"] == chart.name
        assert inputs["version"] == chart.version and chart.version
        assert inputs.get("repositoryOpts", {}).get("repo", "") == chart.repo
        assert inputs["namespace"] == namespace
        assert inputs["timeout"] == 900
        assert inputs["atomic"] is True
        assert inputs.get("skipAwait") in (None, False)
        assert inputs["createNamespace"] is False


def test_namespaces_are_owned_by_the_stack(knative):
    names = sorted(r.inputs["metadata"]["name"] for r in knative.of_type(NAMESPACE))
    assert names == ["cert-manager", "istio-system", "knative-operator", "knative-serving", "kserve", "model-store", "models"]
    for namespace in knative.of_type(NAMESPACE):
        assert namespace.inputs["metadata"]["labels"]["app.kubernetes.io/part-of"] == "servebox"


def test_gateway_is_a_nodeport_behind_the_kind_port_mapping(knative):
    values = knative["platform-istio-gateway"].inputs["values"]
    assert values["service"]["type"] == "NodePort"
    http = next(p for p in values["service"]["ports"] if p["name"] == "http2")
    assert http["nodePort"] == 31080
    assert [p["name"] for p in values["service"]["ports"]] == ["status-port", "http2", "https"]
    assert values["autoscaling"] == {"enabled": False}


def test_knative_serving_uses_the_sslip_domain_and_is_awaited(knative):
    serving = knative["platform-knative-serving"].inputs
    assert serving["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert serving["spec"]["config"]["domain"] == {"127.0.0.1.sslip.io": ""}
    assert serving["spec"]["version"] == versions.KNATIVE_VERSION
    assert "index.docker.io" in serving["spec"]["config"]["deployment"]["registries-skipping-tag-resolving"]
    timeouts = knative["platform-knative-serving"].options.custom_timeouts
    assert (timeouts.create, timeouts.update) == ("900s", "900s")


@pytest.mark.parametrize("run, mode", [("knative", "Knative"), ("standard", "Standard")])
def test_kserve_mode_and_domain(request, run, mode):
    values = request.getfixturevalue(run)["platform-kserve-resources"].inputs["values"]
    controller = values["kserve"]["controller"]
    assert controller["deploymentMode"] == mode
    assert controller["gateway"]["domain"] == "127.0.0.1.sslip.io"
    assert controller["gateway"]["ingressGateway"]["className"] == "istio"


def test_runtime_configs_enable_the_serving_runtimes(knative):
    values = knative["platform-kserve-runtime-configs"].inputs["values"]
    assert values["kserve"]["servingruntime"]["enabled"] is True


def test_webhook_probe_gets_the_kubeconfig_as_a_secret_and_the_probe_object_on_stdin(knative):
    probe = knative["platform-kserve-webhook-ready"].inputs
    assert probe["create"].endswith(
        "-m components.platform.webhook_probe --plural clusterservingruntimes "
        "--service kserve/kserve-webhook-server-service --timeout 900"
    )
    assert "kind: ClusterServingRuntime" in probe["stdin"]
    assert secret_value(probe["environment"]) == {"SERVEBOX_KUBECONFIG": FAKE_KUBECONFIG}


def test_kind_cluster_command(knative):
    cluster = knative["cluster-cluster"]
    assert cluster.inputs["create"] == (
        "kind create cluster --name servebox-kind --config - --wait 5m 1>&2 && kind get kubeconfig --name servebox-kind"
    )
    assert cluster.inputs["update"] == "kind get kubeconfig --name servebox-kind"
    assert cluster.inputs["delete"] == "kind delete cluster --name servebox-kind"
    assert cluster.inputs["logging"] == "stderr"
    assert "name: servebox-kind" in cluster.inputs["stdin"]
    assert "triggers" in cluster.options.replace_on_changes
    assert cluster.options.delete_before_replace is True
    assert cluster.options.additional_secret_outputs == ["stdout"]
    assert knative["cluster-provider"].inputs["deleteUnreachable"] == "true"


def test_outputs_are_exactly_the_contract(knative):
    assert list(knative.outputs) == list(outputs.ALL_OUTPUTS)
    assert knative.outputs[outputs.TARGET] == "kind"
    assert knative.outputs[outputs.SERVING] == "kserve"
    assert knative.outputs[outputs.DEPLOYMENT_MODE] == "knative"
    assert knative.outputs[outputs.INGRESS_ADDRESS] == "127.0.0.1:8080"
    assert knative.outputs[outputs.KUBE_CONTEXT] == "kind-servebox-kind"
    assert knative.outputs[outputs.KUBECONFIG] == FAKE_KUBECONFIG
    assert knative.outputs[outputs.VERSIONS] == versions.summary()


def test_only_the_kubeconfig_is_secret_on_kind(knative):
    assert outputs.SECRET_OUTPUTS == {"kubeconfig", "ssh_private_key", "api_key"}
    assert knative.secret_outputs == {"kubeconfig"}
    assert knative.outputs[outputs.API_KEY] is None  # modelAuth auto: no key on kind's loopback


def test_vm_outputs_are_null_on_kind(knative):
    for name in (outputs.SSH, outputs.SSH_PRIVATE_KEY, outputs.SSH_HOST_KEY, outputs.EXPIRES_AT):
        assert knative.outputs[name] is None, name


def test_host_port_and_stack_name_flow_into_cluster_and_outputs():
    run = run_program({"kindHostPort": "9091"}, stack="Team.Alice")
    assert run.outputs[outputs.INGRESS_ADDRESS] == "127.0.0.1:9091"
    assert run.outputs[outputs.KUBE_CONTEXT] == "kind-servebox-team-alice"
    assert "hostPort: 9091" in run["cluster-cluster"].inputs["stdin"]
