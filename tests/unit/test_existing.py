"""The existing target under mocks: per store and identity, the exact resources (and none that makes a
cluster or a VM), the Workload Identity member and the IRSA trust policy exactly, the platform parts
turned off registering nothing of theirs, the kubeconfig a secret everywhere; and its bad configs,
each with its exact message.

The kubeconfig files are real files in tmp_path, read by the program as a user's would be. Not
proven here: that GKE's Workload Identity or EKS's pod identity webhook hand the predictor its
token, that a cloud load balancer comes up, or that a cluster's own cert-manager, Istio or Knative
is compatible beyond what the presence probe checks (tests/unit/test_cluster_probe.py).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from components import outputs
from components.config import ConfigError
from components.storage.s3 import irsa_trust_policy
from tests import harness
from tests.engine import project_settings
from tests.harness import (
    FAKE_EKS_ISSUER,
    FAKE_LB_ADDRESS,
    FAKE_OIDC_PROVIDER_ARN,
    ProgramRun,
    run_program,
    secret_value,
)

GKE = "gke_servebox-test-1_us-central1_team"
EKS = "arn:aws:eks:eu-west-1:123456789012:cluster/team"
LAB = "lab"
HERE = f"{harness.FAKE_PUBLIC_IPV4}/32"

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {"name": GKE, "cluster": {"server": "https://34.70.1.2", "certificate-authority-data": "Q0EK"}},
        {"name": EKS, "cluster": {"server": "https://5C0FFEE.gr7.eu-west-1.eks.amazonaws.com"}},
        {"name": LAB, "cluster": {"server": "https://10.0.0.5:6443"}},
        {"name": "empty", "cluster": {}},
    ],
    "contexts": [
        {"name": GKE, "context": {"cluster": GKE, "user": "gke"}},
        {"name": EKS, "context": {"cluster": EKS, "user": "eks"}},
        {"name": LAB, "context": {"cluster": LAB, "user": "lab"}},
        {"name": "broken", "context": {"cluster": "empty", "user": "lab"}},
    ],
    "current-context": LAB,
    "users": [
        {"name": "gke", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin"}}},
        {
            "name": "eks",
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": "aws",
                    "args": ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "team"],
                }
            },
        },
        {"name": "lab", "user": {"token": "not-a-real-token"}},
    ],
}
KUBECONFIG_TEXT = yaml.safe_dump(KUBECONFIG, sort_keys=False)

# Resources no existing stack may have: the ones that make clusters, VMs and their networks.
CLUSTER_MAKING_TYPES = ("gcp:compute/", "aws:ec2/", "tls:", "command:remote:", "servebox:cluster:K3sAccess")


@pytest.fixture(scope="module")
def kubeconfig_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(KUBECONFIG_TEXT)
    return path


def existing(kubeconfig_file: Path, context: str = LAB, **config: str) -> dict[str, str]:
    return {"target": "existing", "kubeconfigPath": str(kubeconfig_file), "kubeContext": context, **config}


@pytest.fixture(scope="module")
def minio_run(kubeconfig_file: Path) -> ProgramRun:
    return run_program(existing(kubeconfig_file), stack="team")


@pytest.fixture(scope="module")
def gcs_run(kubeconfig_file: Path) -> ProgramRun:
    return run_program(existing(kubeconfig_file, GKE, store="gcs", **{"gcp:region": "us-central1"}), stack="team")


@pytest.fixture(scope="module")
def s3_run(kubeconfig_file: Path) -> ProgramRun:
    return run_program(existing(kubeconfig_file, EKS, store="s3"), stack="team", load_balancer_address="a1b2-77.elb.eu-west-1.amazonaws.com")


def _no_cluster_making(run: ProgramRun) -> None:
    made = [f"{name} ({r.type})" for name, r in run.resources.items() if r.type.startswith(CLUSTER_MAKING_TYPES)]
    assert made == []
    assert not [n for n, r in run.resources.items() if r.type == "command:local:Command" and "kind" in str(r.inputs.get("create"))]


# --- what each store and identity creates ------------------------------------------------------


def test_minio_on_any_cluster_creates_only_the_provider_and_what_lives_in_the_cluster(minio_run: ProgramRun):
    _no_cluster_making(minio_run)
    assert minio_run["cluster"].type == "servebox:cluster:ExistingCluster"
    assert [n for n, r in minio_run.resources.items() if r.parent == "cluster"] == ["cluster-provider"]
    assert not [r for r in minio_run.resources.values() if r.type.startswith(("gcp:", "aws:", "pulumi:providers:gcp", "pulumi:providers:aws"))]
    service = minio_run["store-service"].inputs["spec"]
    assert service["type"] == "LoadBalancer"
    assert service["loadBalancerSourceRanges"] == [HERE]
    assert [p["port"] for p in service["ports"]] == [9000]
    address = minio_run["store-address"]
    assert shlex.split(address.inputs["create"])[1:] == [
        "-m", "components.platform.cluster_probe", "address", "--service", "model-store/minio", "--from-status", "--timeout", "900",
    ]
    assert {"store-server", "store-service"} <= set(address.depends_on)
    provider = minio_run["store-provider"]
    assert provider.inputs["minioServer"] == f"{FAKE_LB_ADDRESS}:9000"
    # The predictor still reads with keys through the in-cluster Service, never the load balancer.
    secret = minio_run["model-storage-credentials"]
    assert secret.inputs["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == "minio.model-store.svc.cluster.local:9000"


def test_minio_admin_cidrs_are_the_load_balancers_source_ranges(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, adminCidrs="203.0.113.0/24,198.51.100.9/32"), stack="team")
    assert run["store-service"].inputs["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24", "198.51.100.9/32"]


def test_gcs_on_gke_binds_exactly_the_predictor_service_account_through_workload_identity(gcs_run: ProgramRun):
    _no_cluster_making(gcs_run)
    gsa = gcs_run["store-reader-account"]
    assert gsa.type == "gcp:serviceaccount/account:Account"
    assert gsa.inputs["accountId"] == "servebox-team-reader"
    binding = gcs_run["store-workload-identity-mnist-predictor"]
    assert binding.type == "gcp:serviceaccount/iAMMember:IAMMember"
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == "serviceAccount:servebox-test-1.svc.id.goog[models/mnist-predictor]"
    grant = gcs_run["store-reader"]
    assert grant.inputs["role"] == "roles/storage.objectViewer"
    assert grant.inputs["member"] == f"serviceAccount:servebox-team-reader@{harness.FAKE_GCP_PROJECT}.iam.gserviceaccount.com"
    assert grant.inputs["bucket"] == "servebox-test-1-servebox-team-models"
    # The only IAM grants: one on the bucket, one on the service account; nothing project-wide.
    iam = sorted(n for n, r in gcs_run.resources.items() if "IAM" in r.type)
    assert iam == ["store-reader", "store-workload-identity-mnist-predictor"]
    account = gcs_run["model-service-account"].inputs
    assert account["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": f"servebox-team-reader@{harness.FAKE_GCP_PROJECT}.iam.gserviceaccount.com"
    }
    assert account["automountServiceAccountToken"] is False
    assert "model-storage-credentials" not in gcs_run.resources
    assert {"store-reader", "store-workload-identity-mnist-predictor"} <= set(gcs_run.upload("model").depends_on)
    provider = gcs_run["gcp"].inputs
    assert (provider["project"], provider["region"]) == (harness.FAKE_GCP_PROJECT, "us-central1")
    assert gcs_run.outputs[outputs.MODEL_URI].startswith("gs://servebox-test-1-servebox-team-models/mnist/")


def test_s3_on_eks_trusts_only_the_predictor_service_account_through_the_clusters_oidc_provider(s3_run: ProgramRun):
    _no_cluster_making(s3_run)
    role = s3_run["store-reader-role"]
    assert role.inputs["name"] == "servebox-team-predictor"
    issuer = FAKE_EKS_ISSUER.removeprefix("https://")
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": FAKE_OIDC_PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": "system:serviceaccount:models:mnist-predictor",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    read = s3_run["store-reader"]
    assert read.inputs["role"] == "servebox-team-predictor"
    bucket = "servebox-team-models-" + harness.FAKE_BUCKET_SUFFIX
    assert json.loads(read.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }
    assert s3_run["model-service-account"].inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/servebox-team-predictor",
        "serving.kserve.io/s3-region": "eu-west-1",
    }
    assert "model-storage-credentials" not in s3_run.resources
    assert s3_run["aws"].inputs["region"] == "eu-west-1"


def test_s3_looks_up_the_oidc_provider_of_the_cluster_the_kubeconfig_names(s3_run: ProgramRun):
    assert s3_run.calls == [
        ("aws:eks/getCluster:getCluster", {"name": "team"}),
        ("aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider", {"url": FAKE_EKS_ISSUER}),
    ]


def test_irsa_trust_policy_names_the_service_account_and_sts_only():
    policy = json.loads(irsa_trust_policy("arn:aws:iam::1:oidc-provider/x/id/Y", "x/id/Y", (("ns", "sa"),)))
    assert policy["Statement"][0]["Condition"] == {
        "StringEquals": {"x/id/Y:sub": "system:serviceaccount:ns:sa", "x/id/Y:aud": "sts.amazonaws.com"}
    }
    several = json.loads(irsa_trust_policy("arn:aws:iam::1:oidc-provider/x/id/Y", "x/id/Y", (("ns", "a"), ("ns", "b"))))
    assert several["Statement"][0]["Condition"]["StringEquals"]["x/id/Y:sub"] == [
        "system:serviceaccount:ns:a",
        "system:serviceaccount:ns:b",
    ]


def test_a_load_balancer_host_name_means_the_host_header_path(s3_run: ProgramRun):
    host = "mnist.models.servebox.internal"
    assert s3_run.outputs[outputs.HOST_HEADER] == host
    assert s3_run.outputs[outputs.INGRESS_ADDRESS] == "a1b2-77.elb.eu-west-1.amazonaws.com:80"
    curl = shlex.split(s3_run.outputs[outputs.CURL])
    assert [curl[i + 1] for i, word in enumerate(curl) if word == "-H"] == [
        "x-api-key: $SERVEBOX_API_KEY",  # modelAuth auto: an existing cluster's gateway may face the internet
        "Content-Type: application/json",
        f"Host: {host}",
    ]
    assert "http://a1b2-77.elb.eu-west-1.amazonaws.com/v2/models/mnist/infer" in curl
    smoke = shlex.split(s3_run["model-smoke-test"].inputs["create"])
    assert smoke[smoke.index("--url") + 1] == "http://a1b2-77.elb.eu-west-1.amazonaws.com/v2/models/mnist/infer"
    assert smoke[smoke.index("--host-header") + 1] == host
    assert s3_run["platform-knative-serving"].inputs["spec"]["config"]["domain"] == {"servebox.internal": ""}


def test_a_load_balancer_ip_gives_sslip_hosts_and_the_address_probe_gates_the_model(minio_run: ProgramRun):
    domain = f"{FAKE_LB_ADDRESS}.sslip.io"
    assert minio_run.outputs[outputs.ENDPOINT] == f"http://mnist.models.{domain}"
    assert minio_run["platform-knative-serving"].inputs["spec"]["config"]["domain"] == {domain: ""}
    probe = minio_run["platform-ingress-address"]
    assert shlex.split(probe.inputs["create"])[1:] == [
        "-m", "components.platform.cluster_probe", "address", "--service", "istio-system/istio-ingressgateway",
        "--from-status", "--timeout", "900",
    ]
    assert probe.depends_on == ["platform-istio-gateway"]
    assert secret_value(probe.inputs["environment"])["SERVEBOX_KUBECONFIG"].startswith("apiVersion: v1")
    # Helm does not wait on the cloud's load balancer; the probe does, and says what to check.
    assert minio_run["platform-istio-gateway"].inputs["skipAwait"] is True
    assert minio_run["platform-istio-gateway"].inputs["values"]["service"] == {"type": "LoadBalancer"}
    assert "platform-ingress-address" in minio_run.waits_on("model-smoke-test")


def test_a_configured_ingress_address_and_domain_are_used_as_given(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, ingressAddress="models.example.com", ingressDomain="ml.example.com"), stack="team")
    assert run.outputs[outputs.HOST_HEADER] == "mnist.models.ml.example.com"
    assert run.outputs[outputs.INGRESS_ADDRESS] == "models.example.com:80"
    probe = shlex.split(run["platform-ingress-address"].inputs["create"])
    assert "--from-status" not in probe  # it only waits for the gateway to serve
    assert run["platform-kserve-resources"].inputs["values"]["kserve"]["controller"]["gateway"]["domain"] == "ml.example.com"


def test_kubeconfig_is_a_secret_in_the_provider_the_probes_and_the_output(minio_run: ProgramRun):
    provider = minio_run["cluster-provider"].inputs
    text = secret_value(provider["kubeconfig"])
    assert yaml.safe_load(text)["current-context"] == LAB
    assert provider["context"] == LAB
    assert provider["clusterIdentifier"] == "https://10.0.0.5:6443"
    assert "deleteUnreachable" not in provider  # an unreachable cluster of the user's is an error, not gone
    assert outputs.KUBECONFIG in minio_run.secret_outputs
    assert yaml.safe_load(minio_run.outputs[outputs.KUBECONFIG])["current-context"] == LAB
    assert minio_run.outputs[outputs.KUBE_CONTEXT] == LAB
    for name in ("platform-kserve-webhook-ready", "platform-ingress-address", "store-address"):
        assert "kind: Config" in secret_value(minio_run[name].inputs["environment"])["SERVEBOX_KUBECONFIG"]
    assert (minio_run.outputs[outputs.SSH], minio_run.outputs[outputs.EXPIRES_AT]) == (None, None)


def test_only_the_chosen_context_its_cluster_and_its_user_leave_the_kubeconfig(minio_run: ProgramRun):
    kept = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": LAB, "cluster": {"server": "https://10.0.0.5:6443"}}],
        "contexts": [{"name": LAB, "context": {"cluster": LAB, "user": "lab"}}],
        "current-context": LAB,
        "users": [{"name": "lab", "user": {"token": "not-a-real-token"}}],
    }
    assert yaml.safe_load(secret_value(minio_run["cluster-provider"].inputs["kubeconfig"])) == kept
    assert yaml.safe_load(minio_run.outputs[outputs.KUBECONFIG]) == kept
    for name in ("platform-kserve-webhook-ready", "platform-ingress-address", "store-address"):
        assert yaml.safe_load(secret_value(minio_run[name].inputs["environment"])["SERVEBOX_KUBECONFIG"]) == kept


def test_another_context_chosen_keeps_only_its_own_entries(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, GKE, store="gcs", **{"gcp:region": "us-central1"}), stack="team")
    kept = yaml.safe_load(run.outputs[outputs.KUBECONFIG])
    assert [c["name"] for c in kept["clusters"]] == [GKE] and [u["name"] for u in kept["users"]] == ["gke"]
    assert [c["name"] for c in kept["contexts"]] == [GKE] and kept["current-context"] == GKE
    assert "not-a-real-token" not in run.outputs[outputs.KUBECONFIG]


def test_a_kubeconfig_given_as_a_secret_value_is_used_with_its_current_context():
    run = run_program({"target": "existing", "kubeconfig": KUBECONFIG_TEXT}, stack="team", secret_keys=("kubeconfig",))
    assert run["cluster-provider"].inputs["context"] == LAB
    assert outputs.KUBECONFIG in run.secret_outputs


# --- platform parts the cluster already has ------------------------------------------------------


def _component_resources(run: ProgramRun, prefix: str) -> list[str]:
    return sorted(n for n in run.resources if n == prefix or n.startswith(prefix + "-"))


def test_a_part_turned_off_registers_nothing_of_it_and_is_checked_before_what_needs_it(kubeconfig_file: Path):
    run = run_program(
        existing(kubeconfig_file, installCertManager="false", installIstio="false", installKnative="false", ingressDomain="ml.example.com"),
        stack="team",
    )
    assert _component_resources(run, "platform-cert-manager") == ["platform-cert-manager-present"]
    assert _component_resources(run, "platform-istio") == ["platform-istio-present"]
    assert _component_resources(run, "platform-knative") == ["platform-knative-present"]
    assert not [r for r in run.resources.values() if r.type in ("kubernetes:operator.knative.dev/v1beta1:KnativeServing",)]
    probe = "-m components.platform.cluster_probe"
    assert run["platform-cert-manager-present"].inputs["create"].endswith(f"{probe} present --part cert-manager")
    assert run["platform-istio-present"].inputs["create"].endswith(f"{probe} present --part istio")
    assert run["platform-knative-present"].inputs["create"].endswith(f"{probe} present --part knative --domain ml.example.com")
    assert run["platform-knative-present"].depends_on == ["platform-istio-present"]
    address = shlex.split(run["platform-ingress-address"].inputs["create"])
    assert address[address.index("--missing-key") + 1] == "installIstio"
    assert run["platform-ingress-address"].depends_on == ["platform-istio-present"]
    resources = run["platform-kserve-resources"].depends_on
    assert {"platform-cert-manager-present", "platform-istio-present", "platform-knative-present"} <= set(resources)
    assert run.outputs[outputs.HOST_HEADER] == "mnist.models.ml.example.com"


def test_istio_turned_off_in_standard_mode_also_checks_its_ingress_class(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, installIstio="false", deploymentMode="standard"), stack="team")
    assert run["platform-istio-present"].inputs["create"].endswith("present --part istio --ingress-class")
    assert "platform-knative-present" not in run.resources


def test_seldon_on_an_existing_cluster_waits_on_the_checked_parts(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, serving="seldon", installCertManager="false", installIstio="false"), stack="team")
    assert {"platform-cert-manager-present", "platform-istio-present"} <= set(run["platform-seldon-operator"].depends_on)


# --- scale knobs ----------------------------------------------------------------------------------


def test_scale_metric_and_target_reach_the_predictor(kubeconfig_file: Path):
    run = run_program(existing(kubeconfig_file, modelScaleMetric="rps", modelScaleTarget="25", modelMaxReplicas="5"), stack="team")
    predictor = run["model-isvc"].inputs["spec"]["predictor"]
    assert (predictor["scaleMetric"], predictor["scaleTarget"], predictor["maxReplicas"]) == ("rps", 25, 5)


def test_scale_knobs_left_at_auto_leave_the_autoscalers_defaults(minio_run: ProgramRun):
    predictor = minio_run["model-isvc"].inputs["spec"]["predictor"]
    assert "scaleMetric" not in predictor and "scaleTarget" not in predictor


# --- bad configs, each with its exact message, before any resource -------------------------------


def problems(raw: dict[str, str], secret_keys: frozenset[str] = frozenset(), **provider: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        project_settings(
            "team", {**raw, **provider}, environ={}, secret_keys=secret_keys, public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4
        )
    return error.value.problems


def test_neither_kubeconfig_nor_path_is_refused():
    assert problems({"target": "existing"}) == [
        "kubeconfigPath: not set, and kubeconfig is not set either; allowed: on target existing, a kubeconfig file "
        "with its context, or the whole kubeconfig as a secret value. Fix: pulumi config set kubeconfigPath "
        "~/.kube/config && pulumi config set kubeContext <context> (or: pulumi config set --secret kubeconfig "
        '"$(cat <file>)")'
    ]


def test_both_kubeconfig_and_path_are_refused(kubeconfig_file: Path):
    assert problems({**existing(kubeconfig_file), "kubeconfig": KUBECONFIG_TEXT}, frozenset({"kubeconfig"})) == [
        "kubeconfig: set together with kubeconfigPath; allowed: one of them (a kubeconfig file with kubeContext, "
        "or the whole kubeconfig as a secret value). Fix: pulumi config rm kubeconfig"
    ]


def test_a_path_that_does_not_exist_is_refused(tmp_path: Path):
    missing = tmp_path / "nope" / "config"
    assert problems({"target": "existing", "kubeconfigPath": str(missing), "kubeContext": LAB}) == [
        f"kubeconfigPath: got '{missing}', but there is no file at {missing}; allowed: the path of a kubeconfig "
        "file on this machine. Fix: pulumi config set kubeconfigPath ~/.kube/config"
    ]


@pytest.mark.parametrize(
    "text, reason",
    [
        ("apiVersion: v1\nkind: Config\ncontexts: [unclosed\n", "it is not YAML (line 4)"),
        ("just a sentence\n", "it is YAML but not a kubeconfig (no `kind: Config` with a `contexts` list)"),
        ("kind: Pod\ncontexts: []\n", "it is YAML but not a kubeconfig (no `kind: Config` with a `contexts` list)"),
    ],
)
def test_a_file_that_does_not_parse_as_a_kubeconfig_is_refused(tmp_path: Path, text: str, reason: str):
    path = tmp_path / "config"
    path.write_text(text)
    assert problems({"target": "existing", "kubeconfigPath": str(path), "kubeContext": LAB}) == [
        f"kubeconfigPath: got '{path}', but {reason}; allowed: a kubeconfig file. Fix: pulumi config set kubeconfigPath ~/.kube/config"
    ]


def test_a_context_that_is_not_in_the_file_is_refused(kubeconfig_file: Path):
    assert problems(existing(kubeconfig_file, "staging")) == [
        f"kubeContext: got 'staging', but the kubeconfig (kubeconfigPath) has no such context; allowed: one of its "
        f"contexts ({GKE}, {EKS}, lab, broken). Fix: pulumi config set kubeContext {GKE}"
    ]


def test_a_path_without_its_context_is_refused(kubeconfig_file: Path):
    assert problems({"target": "existing", "kubeconfigPath": str(kubeconfig_file)}) == [
        "kubeContext: not set; allowed: with kubeconfigPath, the name of one of the file's contexts "
        "(kubectl config get-contexts). Fix: pulumi config set kubeContext <context>"
    ]


def test_a_context_whose_cluster_has_no_server_is_refused(kubeconfig_file: Path):
    assert problems(existing(kubeconfig_file, "broken")) == [
        "kubeContext: got 'broken', but context 'broken' names cluster 'empty', which has no server in the file; "
        "allowed: a context whose cluster has a server. Fix: kubectl config view --minify (then pulumi config set kubeContext <context>)"
    ]


def test_a_kubeconfig_value_in_plain_text_is_refused_without_echoing_it():
    found = problems({"target": "existing", "kubeconfig": KUBECONFIG_TEXT})
    assert found == [
        "kubeconfig: set in plain text; allowed: a secret value (it holds the cluster's credentials). "
        'Fix: pulumi config set --secret kubeconfig "$(cat <file>)"'
    ]
    assert "not-a-real-token" not in found[0]


def test_a_secret_kubeconfig_that_does_not_parse_is_refused_without_echoing_it():
    assert problems({"target": "existing", "kubeconfig": "token: hunter2\n"}, frozenset({"kubeconfig"})) == [
        "kubeconfig: got a secret value, but it is YAML but not a kubeconfig (no `kind: Config` with a `contexts` "
        'list); allowed: a kubeconfig file. Fix: pulumi config set --secret kubeconfig "$(cat ~/.kube/config)"'
    ]


@pytest.mark.parametrize(
    "context, store, message",
    [
        (
            EKS,
            "gcs",
            f"store: got 'gcs', but context '{EKS}' is an EKS cluster; allowed: s3 or minio there (gcs is read "
            "keyless through GKE's Workload Identity). Fix: pulumi config set store s3",
        ),
        (
            GKE,
            "s3",
            f"store: got 's3', but context '{GKE}' is a GKE cluster; allowed: gcs or minio there (s3 is read keyless "
            "through EKS's IAM roles for service accounts). Fix: pulumi config set store gcs",
        ),
        (
            LAB,
            "gcs",
            "store: got 'gcs', but context 'lab' is neither GKE nor EKS by its kubeconfig entry; allowed: minio there "
            "(gcs is read keyless through GKE's Workload Identity). Fix: pulumi config set store minio",
        ),
        (
            LAB,
            "s3",
            "store: got 's3', but context 'lab' is neither GKE nor EKS by its kubeconfig entry; allowed: minio there "
            "(s3 is read keyless through EKS's IAM roles for service accounts). Fix: pulumi config set store minio",
        ),
    ],
)
def test_a_store_that_does_not_fit_the_cluster_is_refused(kubeconfig_file: Path, context: str, store: str, message: str):
    assert problems(existing(kubeconfig_file, context, store=store), **{"gcp:region": "us-central1"}) == [message]


def test_gcs_needs_the_buckets_region(kubeconfig_file: Path):
    assert problems(existing(kubeconfig_file, GKE, store="gcs")) == [
        "gcp:region: not set; allowed: the region to keep the bucket in, the GKE cluster's (such as us-central1; "
        "or one of GOOGLE_REGION, GCLOUD_REGION, CLOUDSDK_COMPUTE_REGION in the environment). "
        "Fix: pulumi config set gcp:region us-central1"
    ]


@pytest.mark.parametrize("address", ["http://203.0.113.7", "203.0.113.7:80", "Models.Example.com", "gw/path", "1.2.3"])
def test_an_ingress_address_that_is_not_a_host_or_ip_is_refused(kubeconfig_file: Path, address: str):
    assert problems(existing(kubeconfig_file, ingressAddress=address)) == [
        f"ingressAddress: got {address!r}; allowed: empty (read from the gateway's load balancer), or an IP address "
        "or DNS name without scheme, port or path, such as 203.0.113.7 or models.example.com. "
        "Fix: pulumi config set ingressAddress ''"
    ]


def test_an_ipv6_ingress_address_is_accepted(kubeconfig_file: Path):
    settings = project_settings(
        "team", existing(kubeconfig_file, ingressAddress="2001:db8::7"), public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4
    )
    assert settings.existing is not None and settings.existing.ingress_address == "2001:db8::7"


def test_knative_turned_off_needs_the_clusters_domain(kubeconfig_file: Path):
    assert problems(existing(kubeconfig_file, installKnative="false")) == [
        "ingressDomain: not set, but installKnative is false; allowed: the domain the cluster's Knative Serving gives "
        "services (kubectl -n knative-serving get configmap config-domain -o yaml). Fix: pulumi config set ingressDomain <domain>"
    ]


def test_existing_only_keys_are_refused_on_other_targets():
    assert problems({"kubeconfigPath": "~/.kube/config"}) == [
        "kubeconfigPath: got '~/.kube/config', but it applies to target existing only and this stack's target is "
        "kind; allowed: unset on kind stacks. Fix: pulumi config rm kubeconfigPath"
    ]


def test_admin_cidrs_mean_nothing_to_a_keyless_store(kubeconfig_file: Path):
    assert problems(existing(kubeconfig_file, GKE, store="gcs", adminCidrs="203.0.113.0/24"), **{"gcp:region": "us-central1"}) == [
        "adminCidrs: got '203.0.113.0/24', but on existing clusters it guards MinIO's load balancer and this stack's "
        "store is gcs; allowed: unset with store gcs. Fix: pulumi config rm adminCidrs"
    ]


@pytest.mark.parametrize("cidrs", ["0.0.0.0/0", "0.0.0.0/1,128.0.0.0/1"])
def test_a_world_open_minio_is_refused_however_the_world_is_split(kubeconfig_file: Path, cidrs: str):
    assert problems(existing(kubeconfig_file, adminCidrs=cidrs)) == [
        f"adminCidrs: got '{cidrs}', networks that together hold 3,702,258,688 public addresses; allowed: networks "
        "that together hold at most 16,777,216 (a /8) (it would open MinIO's S3 API to the whole internet). "
        "Fix: pulumi config set adminCidrs auto"
    ]


def test_concurrency_scaling_needs_knative():
    assert problems({"deploymentMode": "standard", "modelScaleMetric": "concurrency"}) == [
        "modelScaleMetric: got 'concurrency'; allowed: auto, cpu or memory with deploymentMode standard (concurrency "
        "and rps are Knative's autoscaler). Fix: pulumi config set modelScaleMetric cpu"
    ]


def test_a_bad_config_registers_no_resource(kubeconfig_file: Path):
    with pytest.raises(Exception, match="kubeContext: got 'staging'"):
        run_program(existing(kubeconfig_file, "staging"), stack="team")
    assert harness.LAST_REGISTRATIONS == []
