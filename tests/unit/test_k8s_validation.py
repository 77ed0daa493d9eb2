"""The manifest validation helper accepts valid objects and, above all, can fail."""

from __future__ import annotations

import copy
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests import k8s_validation as kv

# Explicit here so these tests prove the helper, whatever the project pins.
K8S = "1.33.4"


def check(obj: dict[str, Any]) -> None:
    kv.validate(obj, kubernetes_version=K8S)


def ingress_class(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "servebox"},
        "spec": {"controller": "example.com/ingress-controller", **spec},
    }


def inference_service() -> dict[str, Any]:
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "iris", "namespace": "models", "labels": {"app": "servebox"}},
        "spec": {
            "predictor": {
                "minReplicas": 1,
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "storageUri": "gs://bucket/iris",
                    "protocolVersion": "v2",
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "256Mi"},
                        "limits": {"cpu": 1, "memory": "1Gi"},  # int-or-string quantities
                    },
                },
            }
        },
    }


def knative_serving() -> dict[str, Any]:
    return {
        "apiVersion": "operator.knative.dev/v1beta1",
        "kind": "KnativeServing",
        "metadata": {"name": "knative-serving", "namespace": "knative-serving"},
        "spec": {
            "config": {"domain": {"example.com": ""}, "network": {"ingress-class": "x"}},
            "workloads": [{"name": "activator", "replicas": 2}],
        },
    }


def deployment(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


def invalid_message(obj: dict[str, Any]) -> str:
    with pytest.raises(kv.ManifestInvalid) as info:
        check(obj)
    return str(info.value)


# ----------------------------------------------------------------- settings


def test_schemas_dir_comes_from_env_var_else_repo_sibling() -> None:
    repo = Path(kv.__file__).resolve().parent.parent
    assert kv._schemas_dir_from_env({}) == repo.parent / "shared" / "schemas"
    assert kv._schemas_dir_from_env({kv.SCHEMAS_ENV: "/x/schemas"}) == Path("/x/schemas")


def test_default_kubernetes_version_comes_from_components_versions(monkeypatch) -> None:
    fake = types.ModuleType("components.versions")
    fake.KUBERNETES_VERSION = "1.33.4"
    monkeypatch.setitem(sys.modules, "components.versions", fake)
    kv.validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    fake.KUBERNETES_VERSION = "1.99.0"  # never silently validated against another minor
    with pytest.raises(ValueError, match="no schemas for Kubernetes 1.99"):
        kv.validate({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})


# ----------------------------------------------------------------- built-in kinds


def test_valid_builtin_objects_pass() -> None:
    check(ingress_class())
    check({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "models"}})
    check(deployment("nginx:1.27.2"))


def test_builtin_unknown_field_is_rejected_with_its_path() -> None:
    message = invalid_message(ingress_class(controllerName="typo"))
    assert "IngressClass 'servebox'" in message
    assert "$.spec.controllerName: unknown field" in message


def test_builtin_group_with_unknown_kind_is_rejected() -> None:
    obj = deployment("nginx:1.27.2") | {"kind": "Deploymnet"}
    assert "not a built-in kind of Kubernetes 1.33" in invalid_message(obj)


# ----------------------------------------------------------------- custom resources


def test_valid_custom_resources_pass() -> None:
    check(inference_service())
    check(knative_serving())


def test_custom_resource_unknown_field_names_the_path() -> None:
    obj = inference_service()
    model = obj["spec"]["predictor"]["model"]
    model["storageURI"] = model.pop("storageUri")
    message = invalid_message(obj)
    assert "inferenceservice_v1beta1.json" in message
    assert "$.spec.predictor.model.storageURI: unknown field" in message


def test_custom_resource_unknown_top_level_spec_field_is_rejected() -> None:
    obj = knative_serving()
    obj["spec"]["domain"] = "example.com"  # belongs under spec.config.domain
    assert "$.spec.domain: unknown field" in invalid_message(obj)


def test_custom_resource_wrong_type_is_rejected() -> None:
    obj = inference_service()
    obj["spec"]["predictor"]["minReplicas"] = "1"
    assert "$.spec.predictor.minReplicas: '1' is not of type 'integer'" in invalid_message(obj)


def test_int_or_string_quantity_pattern_is_checked() -> None:
    obj = inference_service()
    obj["spec"]["predictor"]["model"]["resources"]["limits"]["cpu"] = "lots"
    assert "$.spec.predictor.model.resources.limits.cpu" in invalid_message(obj)


def test_preserve_unknown_fields_node_is_open_but_declared_children_are_not() -> None:
    # In the InferenceService schema only `status` preserves unknown fields.
    obj = inference_service()
    obj["status"] = {"anythingGoes": {"nested": [1, "two"]}}
    check(obj)
    # Like the API server's pruning, a declared child object of that node is still closed.
    obj["status"] = {"address": {"url": "http://x", "bogus": True}}
    assert "$.status.address.bogus: unknown field" in invalid_message(obj)


def test_custom_resource_metadata_and_type_meta_are_checked() -> None:
    obj = inference_service()
    obj["metadata"]["labels"]["replicas"] = 3
    obj["metadata"]["nmae"] = "typo"
    message = invalid_message(obj)
    assert "$.metadata.labels.replicas: 3 is not of type 'string'" in message
    assert "$.metadata.nmae: unknown field" in message

    wrong_case = inference_service() | {"kind": "Inferenceservice"}
    assert "$.kind: 'Inferenceservice' is not one of ['InferenceService']" in invalid_message(
        wrong_case
    )


SCHEMA_FILES = sorted(kv.SCHEMAS_DIR.glob("*/*.json")) if kv.SCHEMAS_DIR.is_dir() else []


@pytest.mark.parametrize("schema_file", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_loads_and_rejects_unknown_spec_fields(schema_file: Path) -> None:
    group = schema_file.parent.name
    kind = kv._readme_kinds(str(kv.SCHEMAS_DIR))[f"{group}/{schema_file.name}"]
    version = schema_file.stem.rsplit("_", 1)[1]
    obj = {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": {"name": "x"},
           "spec": {"notAField": 1}}
    assert "$.spec.notAField: unknown field" in invalid_message(obj)


def test_missing_schema_dir_skips_naming_path_and_env_var(monkeypatch, tmp_path) -> None:
    missing = tmp_path / "no-such-schemas"
    monkeypatch.setattr(kv, "SCHEMAS_DIR", missing)
    with pytest.raises(pytest.skip.Exception) as info:
        check(inference_service())
    assert str(missing) in str(info.value)
    assert kv.SCHEMAS_ENV in str(info.value)


def test_missing_schema_file_is_a_failure_naming_the_file(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(kv, "SCHEMAS_DIR", tmp_path)
    expected = tmp_path / "serving.kserve.io" / "inferenceservice_v1beta1.json"
    assert str(expected) in invalid_message(inference_service())


def test_kind_neither_builtin_nor_with_schema_fails() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    message = invalid_message(obj)
    assert "not a Kubernetes 1.33 built-in kind and has no CRD schema" in message
    assert "example.com/widget_v1.json" in message


def test_validate_all_reports_every_failure_and_never_hides_one_behind_a_skip(
    monkeypatch, tmp_path
) -> None:
    bad = [ingress_class(a=1), ingress_class(b=2)]
    with pytest.raises(kv.ManifestInvalid) as info:
        kv.validate_all(bad, kubernetes_version=K8S)
    assert "$.spec.a:" in str(info.value) and "$.spec.b:" in str(info.value)

    monkeypatch.setattr(kv, "SCHEMAS_DIR", tmp_path / "absent")
    with pytest.raises(kv.ManifestInvalid):
        kv.validate_all([inference_service(), ingress_class(a=1)], kubernetes_version=K8S)
    with pytest.raises(pytest.skip.Exception):
        kv.validate_all([inference_service(), ingress_class()], kubernetes_version=K8S)


# ----------------------------------------------------------------- images and YAML


@pytest.mark.parametrize(
    "image",
    ["foo:latest", "foo", "registry.local:5000/foo", "foo:", "foo@sha256:abc"],
)
def test_unpinned_images_are_flagged(image: str) -> None:
    with pytest.raises(kv.ManifestInvalid) as info:
        kv.assert_pinned_images(deployment(image))
    assert "$.spec.template.spec.containers[0].image" in str(info.value)


@pytest.mark.parametrize(
    "image",
    ["foo:1.2.3", "registry.local:5000/team/foo:2024-01-01", "foo@sha256:" + "a" * 64,
     "foo:latest@sha256:" + "0" * 64],
)
def test_pinned_images_pass(image: str) -> None:
    kv.assert_pinned_images(deployment(image))


def test_images_are_found_anywhere_in_the_object() -> None:
    obj = inference_service()
    obj["spec"]["predictor"]["containers"] = [{"name": "c", "image": "x/y:latest"}]
    with pytest.raises(kv.ManifestInvalid, match=r"\$\.spec\.predictor\.containers\[0\]\.image"):
        kv.assert_pinned_images(obj)


def test_load_yaml_documents() -> None:
    docs = kv.load_yaml_documents("---\napiVersion: v1\nkind: Namespace\n---\n\n---\na: 1\n")
    assert docs == [{"apiVersion": "v1", "kind": "Namespace"}, {"a": 1}]
    with pytest.raises(kv.ManifestInvalid, match="document 0 is a list"):
        kv.load_yaml_documents("- 1\n")


def test_inputs_are_not_mutated() -> None:
    obj = inference_service()
    before = copy.deepcopy(obj)
    check(obj)
    kv.assert_pinned_images(obj)
    assert obj == before
