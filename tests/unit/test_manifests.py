"""Every Kubernetes object servebox authors is valid for the pinned versions, and every image is pinned.

Core kinds go through kubernetes-validate (strict) at the pinned Kubernetes minor; custom resources
through the upstream CRD schemas at the pinned tags (../shared/schemas, or SERVEBOX_SCHEMAS_DIR),
unknown fields rejected. What this cannot prove: that the operators act on the objects as hoped.
"""

from __future__ import annotations

import pytest
import yaml

from components import manifests, versions
from components.cluster.base import IngressExposure
from components.cluster.kind import GATEWAY_HTTP_NODE_PORT, STORE_NODE_PORT, KindClusterArgs, render_kind_config
from components.config import DeploymentMode
from components.platform import cert_manager, istio, knative, kserve
from tests.harness import run_program
from tests.k8s_validation import assert_pinned_images, validate


def test_knative_serving_matches_the_operator_crd():
    validate(knative.knative_serving("127.0.0.1.sslip.io"))


def test_knative_serving_names_every_serving_deployment_with_small_requests():
    spec = knative.knative_serving("10.0.0.7.sslip.io")["spec"]
    assert spec["config"]["domain"] == {"10.0.0.7.sslip.io": ""}
    assert [w["name"] for w in spec["workloads"]] == [
        "activator",
        "autoscaler",
        "autoscaler-hpa",
        "controller",
        "webhook",
        "net-istio-controller",
        "net-istio-webhook",
    ]
    for workload in spec["workloads"]:
        (resources,) = workload["resources"]
        assert resources["requests"] == {"cpu": "5m", "memory": "32Mi"}


def test_ingress_class_is_a_valid_networking_v1_object():
    validate(istio.ingress_class())
    assert istio.ingress_class()["spec"] == {"controller": "istio.io/ingress-controller"}


def test_webhook_probe_object_matches_the_kserve_crd():
    (probe,) = yaml.safe_load_all(kserve.webhook_probe_manifest())
    validate(probe)
    assert probe["spec"]["disabled"] is True
    assert "name" not in probe["metadata"]  # generateName: a dry run never collides with anything


def test_namespaces_the_program_creates_are_valid():
    run = run_program()
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        validate({"apiVersion": "v1", "kind": "Namespace", "metadata": namespace.inputs["metadata"]})
    ingress_class = run["platform-istio-ingress-class"].inputs
    validate({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", **ingress_class})


def test_kind_config_maps_the_host_port_to_the_gateway_nodeport_on_loopback_only():
    config = yaml.safe_load(render_kind_config(KindClusterArgs(cluster_name="servebox-dev", host_port=9000, store_host_port=9001)))
    assert config == {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": "servebox-dev",
        "nodes": [
            {
                "role": "control-plane",
                "image": versions.KIND_NODE.ref,
                "extraPortMappings": [
                    {
                        "containerPort": GATEWAY_HTTP_NODE_PORT,
                        "hostPort": 9000,
                        "listenAddress": "127.0.0.1",
                        "protocol": "TCP",
                    },
                    {
                        "containerPort": STORE_NODE_PORT,
                        "hostPort": 9001,
                        "listenAddress": "127.0.0.1",
                        "protocol": "TCP",
                    },
                ],
            }
        ],
    }


def test_templates_refuse_missing_and_unused_variables():
    with pytest.raises(manifests.TemplateMismatch, match=r"kind/cluster.yaml.tmpl: template variables"):
        manifests.render("kind/cluster.yaml.tmpl", name="x")
    with pytest.raises(manifests.TemplateMismatch):
        manifests.render("kserve/webhook-probe.yaml", image="a:1", extra="b")


def test_every_template_opens_with_a_comment_naming_its_renderer():
    for template in sorted(manifests.MANIFESTS_DIR.rglob("*.yaml*")):
        lines = template.read_text().splitlines()
        # cloud-init requires its `#cloud-config` marker on the first line; the comment follows it.
        first = lines[1] if lines[0] == "#cloud-config" else lines[0]
        assert first.startswith("# "), template
        assert "components/" in "\n".join(lines[:4]), template


@pytest.mark.parametrize("image", versions.images(), ids=lambda image: image.repository)
def test_every_pinned_image_has_a_tag_and_architectures(image):
    assert_pinned_images({"image": image.ref})
    assert image.architectures


def test_kind_node_image_is_pinned_by_digest_to_the_kubernetes_version():
    assert versions.KIND_NODE.tag == f"v{versions.KUBERNETES_VERSION}"
    assert versions.KIND_NODE.digest.startswith("sha256:") and len(versions.KIND_NODE.digest) == 71


def test_every_chart_has_a_version_and_a_source():
    for chart in versions.charts():
        assert chart.version, chart.name
        assert chart.source.startswith("https://"), chart.name
        assert chart.rule, chart.name
        assert chart.repo.startswith("https://") or chart.name.startswith("oci://"), chart.name


def test_no_unpinned_image_anywhere_in_what_the_program_sends():
    for mode in ("knative", "standard"):
        for resource in run_program({"deploymentMode": mode}).resources.values():
            assert_pinned_images(resource.inputs)


def test_chart_values_name_no_image_of_their_own():
    # Images come from the pinned chart versions; values that named one would be a second pin.
    values = [
        cert_manager.chart_values(),
        istio.base_values(),
        istio.istiod_values(),
        istio.gateway_values(IngressExposure("NodePort", 31080)),
        knative.operator_values(),
        kserve.resources_values(DeploymentMode.KNATIVE, "127.0.0.1.sslip.io"),
        kserve.runtime_configs_values(),
    ]
    assert "image" not in yaml.safe_dump(values).replace("imagePull", "")
