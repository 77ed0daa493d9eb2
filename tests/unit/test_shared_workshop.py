"""A shared workshop under mocks: one stack, every attendee a corner of their own (components/
workshop.py). Per attendee the exact resources; their isolation evaluated: the NetworkPolicies
(tests/netpolicy.py) over cross-attendee flows (all denied) and their own (all allowed), and the
RBAC rules for their ServiceAccount (an evaluator of the API's RBAC semantics, below); each with a
counter-check that the property goes when its rule does. The store keys' isolation is proven by
a real S3 server in tests/model/test_shared_store.py. What no test here proves: a cluster
enforcing them (the network plugin, the API server's authorizer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from components import outputs
from components.config import ConfigError
from tests import harness
from tests.firewalls import Packet, aws_reaches, gcp_reaches
from tests.harness import ProgramRun, run_program
from tests.netpolicy import Flow, Pod, allows, policies_of
from tests.unit.test_existing import kubeconfig_file  # noqa: F401  (a fixture)

ROSTER = "ada,bob"
GATEWAY = Pod("istio-system", {"app": "istio-ingressgateway", "istio": "ingressgateway"}, "10.244.0.10")
ACTIVATOR = Pod("knative-serving", {"app": "activator"}, "10.244.0.11")
DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, "10.244.0.2")
STORE = Pod("model-store", {"app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "store"}, "10.244.0.30")


def predictor(attendee: str, ip: str) -> Pod:
    return Pod(f"ws-{attendee}", {"serving.kserve.io/inferenceservice": "mnist", "component": "predictor"}, ip)


ADA, BOB = predictor("ada", "10.244.1.20"), predictor("bob", "10.244.2.20")
ADA_SHELL = Pod("ws-ada", {"app": "notebook"}, "10.244.1.99")
"""Whatever an attendee runs in their namespace themselves."""


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program({"attendees": ROSTER}, stack="kind")


def test_each_attendee_gets_exactly_their_corner(run: ProgramRun) -> None:
    corner = {name.removeprefix("attendee-ada"): r.type for name, r in run.by_role().items() if name.startswith("attendee-ada")}
    assert corner == {
        "": "servebox:workshop:Attendee",
        "-store-reader-policy": "minio:index/iamPolicy:IamPolicy",
        "-store-reader-secret": "random:index/randomPassword:RandomPassword",
        "-store-reader": "minio:index/iamUser:IamUser",
        "-store-reader-policy-attachment": "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
        "-store-allow-s3": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "-model": "servebox:model:Models",
        "-model-namespace": "kubernetes:core/v1:Namespace",
        "-model-deny-all": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "-model-allow-requests": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "-model-allow-model-download": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "-model-upload": "minio:index/s3Object:S3Object",
        "-model-storage-credentials": "kubernetes:core/v1:Secret",
        "-model-service-account": "kubernetes:core/v1:ServiceAccount",
        "-model-isvc": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "-model-smoke-test": "command:local:Command",
        "-quota": "kubernetes:core/v1:ResourceQuota",
        "-limits": "kubernetes:core/v1:LimitRange",
        "-account": "kubernetes:core/v1:ServiceAccount",
        "-role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "-role-binding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    }
    # The organiser's own sample stays where it was: the platform's proof at the end of up.
    assert run["model-isvc"].inputs["metadata"]["namespace"] == "models"


def test_the_namespace_quota_and_limits(run: ProgramRun) -> None:
    namespace = run["attendee-ada-model-namespace"].inputs["metadata"]
    assert namespace["name"] == "ws-ada"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert run["attendee-ada-quota"].inputs["spec"]["hard"] == {
        "requests.cpu": "1", "requests.memory": "2Gi", "pods": "8", "services": "24"
    }
    [limits] = run["attendee-ada-limits"].inputs["spec"]["limits"]
    assert limits == {"type": "Container", "default": {"cpu": "1", "memory": "512Mi"}, "defaultRequest": {"cpu": "25m", "memory": "64Mi"}}
    assert "attendee-ada-model-namespace" in run["attendee-ada-quota"].depends_on
    custom = run_program({"attendees": "ada", "attendeeCpu": "500m", "attendeeMemory": "1Gi"}, stack="kind")
    assert custom["attendee-ada-quota"].inputs["spec"]["hard"]["requests.cpu"] == "500m"


def test_each_attendee_serves_their_sample_from_their_prefix_with_their_own_keys(run: ProgramRun) -> None:
    ada = run["attendee-ada-model-isvc"].inputs
    assert ada["metadata"]["namespace"] == "ws-ada"
    assert ada["spec"]["predictor"]["model"]["storageUri"].startswith("s3://servebox-kind-models/ada/mnist/")
    assert run.upload("attendee-ada-model").inputs["objectName"].startswith("ada/mnist/")
    assert run["attendee-ada-store-reader"].inputs["name"] == "servebox-kind-models-ada-reader"
    attendees = run.outputs[outputs.ATTENDEES]
    assert set(attendees) == {"ada", "bob"}
    assert list(attendees["ada"]["models"]) == ["mnist"]
    assert {k: v for k, v in attendees["ada"].items() if k not in ("curl", "models")} == {
        "namespace": "ws-ada",
        "service_account": "attendee",
        "endpoint": "http://mnist.ws-ada.127.0.0.1.sslip.io:8080",
        "host_header": "mnist.ws-ada.127.0.0.1.sslip.io",
    }
    assert "Host: mnist.ws-ada.127.0.0.1.sslip.io" in attendees["ada"]["curl"]
    assert run_program({}, stack="kind").outputs[outputs.ATTENDEES] is None


OWN_FLOWS = [
    Flow(GATEWAY, ADA, 8012, why="requests reach ada's model (Knative's queue-proxy)"),
    Flow(ACTIVATOR, ADA, 8012, why="a scaled-to-zero model's first request"),
    Flow(ADA, STORE, 9000, why="ada's storage initializer downloads her model"),
    Flow(ADA, DNS, 53, "UDP", why="name lookups"),
]
CROSS_FLOWS = [
    Flow(ADA, BOB, 8012, why="ada's predictor to bob's"),
    Flow(ADA, BOB, 8080, why="ada's predictor to bob's server port"),
    Flow(ADA_SHELL, BOB, 8012, why="anything ada runs, to bob's model"),
    Flow(BOB, ADA, 8080, why="bob to ada"),
    Flow(ADA, Pod("ws-bob", {"app": "notebook"}, "10.244.2.99"), 8888, why="ada to whatever bob runs"),
]


@pytest.mark.parametrize("flow", OWN_FLOWS, ids=lambda f: f.why)
def test_an_attendees_own_flows_are_allowed(run: ProgramRun, flow: Flow) -> None:
    assert allows(policies_of(run), flow)


@pytest.mark.parametrize("flow", CROSS_FLOWS, ids=lambda f: f.why)
def test_every_cross_attendee_flow_is_denied_and_would_not_be_without_their_policies(run: ProgramRun, flow: Flow) -> None:
    policies = policies_of(run)
    assert not allows(policies, flow)
    without = [p for p in policies if p["namespace"] not in ("ws-ada", "ws-bob")]
    assert allows(without, flow), "the denial must come from the attendees' own NetworkPolicies"


def test_the_store_takes_an_attendees_pods_only_through_their_own_policy(run: ProgramRun) -> None:
    """Anything an attendee runs may call the S3 API (their keys read their prefix only:
    tests/model/test_shared_store.py); only through the policy that is theirs."""
    policies = policies_of(run)
    without_ada = [p for p in policies if p["name"] != "attendee-ada-store-allow-s3"]
    assert allows(policies, Flow(ADA, STORE, 9000)) and not allows(without_ada, Flow(ADA, STORE, 9000))
    assert allows(without_ada, Flow(BOB, STORE, 9000))  # removing ada touches no one else


# --- RBAC, as the API server's RBAC authorizer decides (kubernetes.io/docs/reference/access-authn-authz/rbac/):
# a RoleBinding grants its Role's rules to its subjects in the binding's namespace only; a rule
# matches when its apiGroups, resources and verbs each hold the request's (or "*"); nothing is
# allowed unless a rule allows it. Cluster-scoped resources need a ClusterRoleBinding.


def can(run: ProgramRun, account: tuple[str, str], verb: str, group: str, resource: str, namespace: str | None) -> bool:
    """Whether ServiceAccount (namespace, name) may `verb` `resource` of `group` in `namespace`
    (None: cluster-scoped), given every Role, ClusterRole and binding the run registered."""
    roles = {(r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs["rules"]
             for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")}
    cluster_roles = {r.inputs["metadata"]["name"]: r.inputs.get("rules") or []
                     for r in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")}

    def subject_is_account(subject: Mapping[str, Any]) -> bool:
        return subject["kind"] == "ServiceAccount" and (subject["namespace"], subject["name"]) == account

    def allowed_by(rules: list[Mapping[str, Any]]) -> bool:
        return any(
            any(g in ("*", group) for g in rule["apiGroups"]) and any(r in ("*", resource) for r in rule["resources"])
            and any(v in ("*", verb) for v in rule["verbs"])
            for rule in rules
        )

    for binding in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"):
        where = binding.inputs["metadata"]["namespace"]
        if where != namespace or not any(subject_is_account(s) for s in binding.inputs["subjects"]):
            continue
        ref = binding.inputs["roleRef"]
        rules = roles.get((where, ref["name"]), []) if ref["kind"] == "Role" else cluster_roles.get(ref["name"], [])
        if allowed_by(rules):
            return True
    for binding in run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"):
        if any(subject_is_account(s) for s in binding.inputs["subjects"]) and allowed_by(cluster_roles.get(binding.inputs["roleRef"]["name"], [])):
            return True
    return False


ADA_ACCOUNT = ("ws-ada", "attendee")


@pytest.mark.parametrize(
    ("verb", "group", "resource", "namespace", "expected"),
    [
        ("create", "serving.kserve.io", "inferenceservices", "ws-ada", True),
        ("delete", "serving.kserve.io", "inferenceservices", "ws-ada", True),
        ("get", "", "pods/log", "ws-ada", True),
        ("list", "serving.knative.dev", "revisions", "ws-ada", True),
        ("create", "serving.kserve.io", "inferenceservices", "ws-bob", False),
        ("get", "", "pods/log", "ws-bob", False),
        ("get", "", "secrets", "ws-ada", False),
        ("list", "", "secrets", "model-store", False),
        ("get", "", "secrets", "istio-system", False),
        ("delete", "networking.k8s.io", "networkpolicies", "ws-ada", False),
        ("update", "", "resourcequotas", "ws-ada", False),
        ("create", "rbac.authorization.k8s.io", "rolebindings", "ws-ada", False),
        ("create", "", "pods", "ws-ada", False),
        ("list", "", "namespaces", None, False),
        ("create", "serving.kserve.io", "clusterservingruntimes", None, False),
    ],
)
def test_an_attendees_account_reaches_their_namespace_only(run: ProgramRun, verb, group, resource, namespace, expected) -> None:
    assert can(run, ADA_ACCOUNT, verb, group, resource, namespace) is expected


def test_without_its_binding_the_account_can_do_nothing(run: ProgramRun) -> None:
    assert can(run, ADA_ACCOUNT, "create", "serving.kserve.io", "inferenceservices", "ws-ada")
    unbound = ProgramRun({n: r for n, r in run.resources.items() if n != "attendee-ada-role-binding"}, run.outputs, run.secret_outputs)
    assert not can(unbound, ADA_ACCOUNT, "create", "serving.kserve.io", "inferenceservices", "ws-ada")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"attendees": "ada,Bob,x_y"}, "attendees: got 'ada,Bob,x_y'; allowed: comma-separated ids, each lower-case letters, "
         "digits and -, starting with a letter, at most 20 characters ('Bob', 'x_y' is not). Fix: pulumi config set attendees "
         "'user01,user02'"),
        ({"attendees": "ada,bob,ada"}, "attendees: got 'ada,bob,ada'; allowed: each id once (ada repeats). Fix: pulumi config "
         "set attendees 'ada,bob'"),
        ({"attendees": "ada", "attendeeCpu": "lots"}, "attendeeCpu: got 'lots'; allowed: "),
        ({"attendees": "ada", "modelNamespace": "ws-ada"}, "modelNamespace: got 'ws-ada', an attendee's namespace; allowed: "
         "another name. Fix: pulumi config set modelNamespace models"),
    ],
)
def test_bad_workshop_config_is_refused_before_any_resource(config: dict, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        run_program(config, stack="kind")
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


THIRTY = ",".join(f"u{i:02d}" for i in range(30))


@pytest.mark.parametrize(
    ("stack", "key", "given", "smallest", "shape"),
    [
        (harness.GCP_STACK, "gcpMachineType", "e2-standard-2", "e2-standard-8", "2000m, 8 GiB"),
        (harness.AWS_STACK, "awsInstanceType", "t3.large", "t3.2xlarge", "2000m, 8 GiB"),
    ],
)
def test_a_machine_that_cannot_hold_the_class_is_refused_naming_the_smallest_that_can(stack, key, given, smallest, shape) -> None:
    with pytest.raises(ConfigError) as refused:
        run_program({**stack, "attendees": THIRTY}, stack="ws")
    assert refused.value.problems == [
        f"{key}: got {given!r}; allowed: a machine type with room for 4155m CPU and 12.1 GiB requested by k3s, the platform "
        f"and 31 model pods at once (the stack's and 30 attendees') ({given}: {shape}); the smallest that holds them is "
        f"{smallest}. Fix: pulumi config set {key} {smallest}"
    ]


def test_on_a_vm_the_store_is_minio_on_the_vm_its_api_open_to_admin_cidrs_only() -> None:
    run = run_program({**harness.GCP_STACK, "attendees": "ada,bob", "modelCidrs": "192.0.2.0/24"}, stack="ws")
    types = set(run.cloud_resources().values())
    assert "gcp:storage/bucket:Bucket" not in types and "minio:index/s3Bucket:S3Bucket" in types
    assert run["store-provider"].inputs["minioServer"] == f"{harness.FAKE_EPHEMERAL_IP}:31900"
    assert run["store-service"].inputs["spec"]["type"] == "NodePort"
    rules = [{**r.inputs, "name": r.name} for r in run.of_type("gcp:compute/firewall:Firewall")]
    tags = run["cluster-vm"].inputs["tags"]
    admin, stranger = harness.FAKE_PUBLIC_IPV4, "203.0.113.99"
    reached = {(src, port) for src in (admin, stranger, "192.0.2.10") for port in (22, 80, 6443, 9000, 31900)
               if gcp_reaches(rules, tags, Packet(src, "tcp", port))}
    assert reached == {(admin, 22), (admin, 6443), (admin, 31900), ("192.0.2.10", 80)}
    aws = run_program({**harness.AWS_STACK, "attendees": "ada"}, stack="ws")
    ingress = aws["cluster-firewall"].inputs["ingress"]
    assert aws_reaches(ingress, Packet(admin, "tcp", 31900)) and not aws_reaches(ingress, Packet(stranger, "tcp", 31900))


def test_the_organiser_serves_an_attendees_own_model_in_their_namespace_from_their_prefix(tmp_path) -> None:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(2).normal(size=(40, 3))
    path = tmp_path / "churn.joblib"
    joblib.dump(LogisticRegression().fit(X, X[:, 0] > 0), path)
    run = run_program({"attendees": ROSTER, "models": [{"name": "churn", "path": str(path), "attendee": "ada"}]}, stack="kind")
    isvc = run["attendee-ada-model-churn-isvc"].inputs
    assert isvc["metadata"]["namespace"] == "ws-ada"
    assert isvc["spec"]["predictor"]["model"]["storageUri"].startswith("s3://servebox-kind-models/ada/churn/")
    assert not [n for n in run.resources if n.startswith(("model-churn", "attendee-bob-model-churn"))]
    assert run["model-isvc"].inputs["metadata"]["namespace"] == "models"  # the stack's own sample stays
    assert list(run.outputs[outputs.MODELS]) == ["mnist"]  # the stack's own models only
    assert list(run.outputs[outputs.ATTENDEES]["ada"]["models"]) == ["mnist", "churn"]
    with pytest.raises(ConfigError) as refused:
        run_program({"attendees": ROSTER, "models": [{"name": "churn", "path": str(path), "attendee": "eve"}]}, stack="kind")
    assert refused.value.problems == [
        "models[0].attendee: got 'eve'; allowed: one of the attendees (ada, bob). Fix: pulumi config rm --path "
        "'models[0].attendee' (or add eve to attendees)"
    ]
    with pytest.raises(ConfigError) as refused:
        run_program({"attendees": ROSTER, "models": [{"name": "mnist", "path": str(path), "attendee": "ada"}]}, stack="kind")
    assert refused.value.problems[0].startswith("models[0].name: got 'mnist', which the sample model (modelName) already uses in ada's")


def test_adding_an_attendee_touches_only_their_objects(run: ProgramRun) -> None:
    grown = run_program({"attendees": f"{ROSTER},cy"}, stack="kind")
    added = set(grown.resources) - set(run.resources)
    assert added and all(name.startswith("attendee-cy") for name in added)
    assert set(run.resources) <= set(grown.resources)
    changed = [name for name, r in run.resources.items() if grown[name].inputs != r.inputs]
    assert changed == []  # nothing shared lists the attendees: no one else's object changes


def test_on_gke_each_attendee_reads_their_prefix_as_a_google_account_of_their_own(kubeconfig_file) -> None:  # noqa: F811
    from tests.unit.test_existing import GKE, existing

    run = run_program(existing(kubeconfig_file, GKE, store="gcs", attendees=ROSTER, **{"gcp:region": "us-central1"}), stack="ws")
    account = run["attendee-ada-store-reader-account"].inputs
    assert 6 <= len(account["accountId"]) <= 30 and "ada" in account["accountId"]
    assert account["accountId"] != run["attendee-bob-store-reader-account"].inputs["accountId"]
    binding = run["attendee-ada-store-workload-identity-mnist-predictor"].inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"].endswith("[ws-ada/mnist-predictor]")
    grant = run["attendee-ada-store-reader"].inputs
    assert grant["role"] == "roles/storage.objectViewer"
    bucket = run["store-bucket"].inputs["name"]
    assert grant["condition"]["expression"] == f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/ada/")'
    assert run["attendee-ada-store-lister"].inputs["role"] == "roles/storage.legacyBucketReader"
    sa = run["attendee-ada-model-service-account"].inputs["metadata"]
    assert sa["namespace"] == "ws-ada" and "iam.gke.io/gcp-service-account" in sa["annotations"]
    assert sa["annotations"] != run["model-service-account"].inputs["metadata"]["annotations"]  # not the stack's reader
    # The stack's own reader binds the stack's own predictors only.
    assert not [n for n in run.resources if n.startswith("store-workload-identity-") and "ws-" in run[n].inputs["member"]]


def test_on_eks_each_attendee_assumes_a_role_of_their_own_limited_to_their_prefix(kubeconfig_file) -> None:  # noqa: F811
    import json as jsonlib

    from tests.unit.test_existing import EKS, existing

    run = run_program(existing(kubeconfig_file, EKS, store="s3", attendees=ROSTER), stack="ws")
    role = run["attendee-ada-store-reader-role"].inputs
    trust = jsonlib.loads(role["assumeRolePolicy"])
    subjects = [v for st in trust["Statement"] for cond in st["Condition"].values() for k, v in cond.items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:ws-ada:mnist-predictor"]
    policy = jsonlib.loads(run["attendee-ada-store-reader"].inputs["policy"])
    listing = [st for st in policy["Statement"] if st["Action"] == ["s3:ListBucket"]]
    assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": ["ada/*"]}}
    assert [st["Resource"] for st in policy["Statement"] if st["Action"] == ["s3:GetObject"]][0][0].endswith("/ada/*")
    sa = run["attendee-ada-model-service-account"].inputs["metadata"]["annotations"]
    assert sa["eks.amazonaws.com/role-arn"] != run["model-service-account"].inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
