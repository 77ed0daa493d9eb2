"""Runs the whole Pulumi program under `pulumi.runtime.set_mocks` and records what it registered.

What a mock run proves: which resources the program asks for, with which inputs, parents, explicit
dependencies, providers and secrets, and which outputs it exports. What it cannot prove: that a real
API server, Helm or kind accepts them, or how long they take; nothing here talks to a cluster.

The run stands where `pulumi up` would: its config is the one the CLI builds (tests/engine.py
`cli_config`: the stack file, Pulumi.yaml's defaults, type checks), and its resource monitor refuses a
duplicate URN and marks secret outputs as the engine does (`EngineMonitor`). tests/ENGINE.md lists
every such stand-in.
"""

from __future__ import annotations

import logging
import re
import runpy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor, _sync_await

from tests.engine import CliConfig, EngineError, cli_config

REPO = Path(__file__).resolve().parent.parent
MAIN = REPO / "__main__.py"
PROJECT = "servebox"

# What `kind get kubeconfig` prints, in shape; the mock Command returns it as stdout.
# Registrations of the latest run_program call, kept even when the program raised.
LAST_REGISTRATIONS: list = []

FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"

# What `sudo cat /etc/rancher/k3s/k3s.yaml` prints on a k3s server, in shape (keys shortened).
FAKE_K3S_KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EK
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVAo=
    client-key-data: S0VZCg==
"""
# Plausible answers of the clouds and the machine, for mock runs of VM targets.
FAKE_PUBLIC_IPV4 = "198.51.100.7"
FAKE_NOW = datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
FAKE_EPHEMERAL_IP = "203.0.113.10"
FAKE_STATIC_IP = "203.0.113.20"
FAKE_GCP_PROJECT = "servebox-test-1"
FAKE_AMI = "ami-0f1e2d3c4b5a69788"
FAKE_BUCKET_SUFFIX = "20261201093040123400000001"
FAKE_IMAGE = "https://www.googleapis.com/compute/v1/projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20261119"
FAKE_SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE"
FAKE_SSH_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nRkFLRQ==\n-----END OPENSSH PRIVATE KEY-----\n"
# What an existing cluster's load balancers and EKS answer, in shape.
FAKE_LB_ADDRESS = "34.120.7.19"
FAKE_EKS_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/5C0FFEE5C0FFEE5C0FFEE5C0FFEE5C0F"
FAKE_OIDC_PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C0FFEE5C0FFEE5C0FFEE5C0FFEE5C0F"
# The smallest config of each VM target's stack, as a user writes it (the project or region is the
# one thing those stacks require).
GCP_STACK = {"target": "gcp", "gcp:project": FAKE_GCP_PROJECT}
AWS_STACK = {"target": "aws", "aws:region": "us-east-1"}
# What a VM target registers to reach k3s on its VM, whichever the cloud (components/cluster/vm.py).
K3S_ACCESS_RESOURCES = {
    "cluster-k3s": "servebox:cluster:K3sAccess",
    "cluster-k3s-kubeconfig": "command:remote:Command",
    "cluster-k3s-host-key": "command:remote:Command",
    "cluster-k3s-provider": "pulumi:providers:kubernetes",
}
FAKE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOSTHOSTHOSTHOSTHOSTHOSTHOSTHOSTHOSTHOST root@servebox-gcp"


_UPLOAD_NAME = re.compile(r"^(.*-upload)-[0-9a-f]{16}(?=-\d+$|$)")


@dataclass
class Registered:
    """One resource the program registered."""

    type: str
    name: str
    custom: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    parent: str | None = None
    """Logical name of the parent resource (None for children of the stack)."""
    depends_on: list[str] = field(default_factory=list)
    """Logical names of the explicit depends_on resources."""
    options: pulumi.ResourceOptions | None = None


@dataclass
class ProgramRun:
    """Everything a run registered, by logical name, and its exported outputs."""

    resources: dict[str, Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(token, arguments) of every data-source call, in order."""
    warnings: list[str] = field(default_factory=list)
    """What the program logged as warnings (`pulumi.log.warn`), as the engine would show them."""

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources.values() if r.type == type_]

    def __getitem__(self, name: str) -> Registered:
        return self.resources[name]

    def upload_name(self, prefix: str = "model", index: int = 0) -> str:
        """The logical name of a model's `index`th uploaded file: `<prefix>-upload-<content key>[-i]`
        (named after the version's content, components/model/served.py)."""
        pattern = re.compile(rf"{re.escape(prefix)}-upload-[0-9a-f]{{16}}" + (f"-{index}" if index else ""))
        [name] = [name for name in self.resources if pattern.fullmatch(name)]
        return name

    def upload(self, prefix: str = "model", index: int = 0) -> Registered:
        return self.resources[self.upload_name(prefix, index)]

    def by_role(self) -> dict[str, Registered]:
        """The resources with each upload named by its role (`<prefix>-upload[-i]`, its content key
        left out): what tests of the whole plan compare, the content keys being asserted apart."""
        return {_UPLOAD_NAME.sub(r"\1", name): resource for name, resource in self.resources.items()}

    def cloud_resources(self) -> dict[str, str]:
        """Type by name of what the target and the store register: all but the Kubernetes objects,
        the platform, the models and the local commands."""
        shared = ("kubernetes:", "servebox:platform", "servebox:model", "command:local")
        return {name: r.type for name, r in self.by_role().items() if not r.type.startswith(shared)}

    def ancestors(self, name: str) -> list[str]:
        chain = []
        parent = self.resources[name].parent
        while parent is not None:
            chain.append(parent)
            parent = self.resources[parent].parent
        return chain

    def waits_on(self, name: str) -> set[str]:
        """Every resource `name` waits for: explicit depends_on, closed over components (a
        dependency on a component is a dependency on all of its descendants) and ancestors."""
        seen: set[str] = set()
        stack = [name, *self.ancestors(name)]
        direct: set[str] = set()
        for resource in stack:
            direct.update(self.resources[resource].depends_on)
        pending = list(direct)
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            pending.extend(r.name for r in self.resources.values() if r.parent == current)
            pending.extend(self.resources[current].depends_on)
        return seen


def secret_value(value: Any) -> Any:
    """The plain value inside a secret input as mocks see it; fails when `value` is not secret."""
    from pulumi.runtime import rpc

    assert isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig, (
        f"expected a secret, got {value!r:.80}"
    )
    return value["value"]


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that keep every registration and answer like the providers would, in shape."""

    def __init__(self, load_balancer_address: str = FAKE_LB_ADDRESS) -> None:
        self.registrations: list[pulumi.runtime.MockResourceArgs] = []
        self.calls: list[pulumi.runtime.MockCallArgs] = []
        self.load_balancer_address = load_balancer_address

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.registrations.append(args)
        state = dict(args.inputs)
        if args.typ == "command:local:Command":
            if args.name.endswith("-address"):
                stdout = self.load_balancer_address + "\n"  # what cluster_probe prints
            else:
                stdout = FAKE_KUBECONFIG if args.name.endswith("-cluster") else ""
            state.setdefault("stdout", stdout)
            state.setdefault("stderr", "")
        if args.typ == "command:remote:Command":
            state.setdefault("stdout", FAKE_K3S_KUBECONFIG if args.name.endswith("-kubeconfig") else FAKE_HOST_KEY + "\n")
            state.setdefault("stderr", "")
        if args.typ == "tls:index/privateKey:PrivateKey":
            state.update(publicKeyOpenssh=FAKE_SSH_PUBLIC_KEY + "\n", privateKeyOpenssh=FAKE_SSH_PRIVATE_KEY)
        if args.typ == "gcp:compute/address:Address":
            state["address"] = FAKE_STATIC_IP
        if args.typ == "gcp:serviceaccount/account:Account":
            state["email"] = f"{args.inputs['accountId']}@{FAKE_GCP_PROJECT}.iam.gserviceaccount.com"
        if args.typ == "aws:ec2/instance:Instance":
            state["publicIp"] = FAKE_EPHEMERAL_IP
        if args.typ == "aws:ec2/eip:Eip":
            state.update(publicIp=FAKE_STATIC_IP, allocationId="eipalloc-0123456789")
        if args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::123456789012:role/{args.inputs['name']}"
        if args.typ == "aws:s3/bucket:Bucket":
            bucket = args.inputs["bucketPrefix"] + FAKE_BUCKET_SUFFIX
            state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}")
            return [bucket, state]
        if args.typ == "gcp:compute/instance:Instance":
            interfaces = [dict(interface) for interface in state["networkInterfaces"]]
            configs = [dict(config) for config in interfaces[0]["accessConfigs"]]
            configs[0].setdefault("natIp", FAKE_EPHEMERAL_IP)
            interfaces[0]["accessConfigs"] = configs
            state["networkInterfaces"] = interfaces
            state["creationTimestamp"] = "2026-12-01T01:30:40.000-08:00"
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "p" * int(args.inputs["length"])
        if args.typ == "kubernetes:helm.sh/v3:Release":
            state.setdefault("status", {"status": "deployed", "name": args.inputs.get("name")})
        return [f"{args.name}-id", state]

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.calls.append(args)
        if args.token == "aws:eks/getCluster:getCluster":
            return {"name": args.args["name"], "identities": [{"oidcs": [{"issuer": FAKE_EKS_ISSUER}]}], "id": args.args["name"]}
        if args.token == "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider":
            return {"arn": FAKE_OIDC_PROVIDER_ARN, "url": args.args["url"], "id": FAKE_OIDC_PROVIDER_ARN}
        if args.token == "aws:ssm/getParameter:getParameter":
            return {"name": args.args["name"], "value": FAKE_AMI, "type": "String", "arn": "arn:aws:ssm:us-east-1::parameter"}
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": "vpc-0default", "cidrBlock": "172.31.0.0/16", "default": True}
        if args.token == "aws:ec2/getSubnets:getSubnets":
            return {"ids": ["subnet-0bbbb", "subnet-0aaaa"], "id": "us-east-1"}
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ["us-east-1a", "us-east-1b"], "id": "us-east-1"}
        if args.token == "gcp:compute/getImage:getImage":
            return {"selfLink": FAKE_IMAGE, "name": FAKE_IMAGE.rsplit("/", 1)[1], "family": args.args.get("family")}
        return {}


_STACK_TYPE = "pulumi:pulumi:Stack"


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _contains_secret(value: Any) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_secret(item) for item in value)
    return False


def _annotate_secrets(outputs: dict[str, Any], inputs: dict[str, Any]) -> None:
    """annotateSecrets (sdk/go/common/resource/plugin/provider_plugin.go): an output whose input of the
    same key holds a secret is a secret (objects recurse, so one secret field taints only its own path)."""
    for key, given in inputs.items():
        if key not in outputs:
            continue
        if isinstance(outputs[key], dict) and not _is_secret(outputs[key]) and isinstance(given, dict) and not _is_secret(given):
            _annotate_secrets(outputs[key], given)
        elif not _is_secret(outputs[key]) and _contains_secret(given):
            outputs[key] = _secret(outputs[key])


class EngineMonitor(MockMonitor):
    """The SDK's mock monitor, with what the engine does and mocks do not:

    - URNs as the engine builds them (pkg/resource/deploy/deployment.go `generateURN`: the parent's
      whole qualified type, none for children of the stack), and a second resource with one URN
      refused (pkg/resource/deploy/step_generator.go `generateURN`, diag GetDuplicateResourceURNError);
    - outputs named in additionalSecretOutputs, and outputs whose input was secret, returned as
      secrets (pkg/resource/deploy/step_executor.go, provider_plugin.go `annotateSecrets`).
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.refusals: list[str] = []
        # The SDK calls the monitor from executor threads, so two registrations can run at once:
        # each URN is claimed under a lock, as the engine's step generator sees them one by one.
        self._claimed: set[str] = set()
        self._claiming = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            qualified = parent.split("::")[2]
            if qualified != _STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):  # noqa: N802 (the gRPC method's name)
        if request.type != _STACK_TYPE:
            urn = self.make_urn(request.parent, request.type, request.name)
            with self._claiming:
                duplicate = urn in self._claimed
                self._claimed.add(urn)
            if duplicate:
                message = f"Duplicate resource URN '{urn}'; try giving it a unique name"
                self.refusals.append(message)
                raise EngineError(message)
        response = super().RegisterResource(request)
        if request.type == _STACK_TYPE:
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = rpc.deserialize_properties(response.object)
        _annotate_secrets(outputs, inputs)
        for key in request.additionalSecretOutputs:
            if key in outputs and not _is_secret(outputs[key]):
                outputs[key] = _secret(outputs[key])
        registration = self.resources[response.urn]
        self.resources[response.urn] = registration._replace(state=outputs)
        return type(response)(urn=response.urn, id=response.id, object=_sync_await(rpc.serialize_properties(outputs, {})))


def run_program(
    config: dict[str, Any] | None = None,
    stack: str = "kind",
    *,
    public_ipv4: Callable[[], str] | None = None,
    secret_keys: tuple[str, ...] = (),
    load_balancer_address: str = FAKE_LB_ADDRESS,
    from_stack_file: bool = True,
    main: Path = MAIN,
) -> ProgramRun:
    """Run __main__.py under mocks as `pulumi up --stack STACK` would, after `config` was set on the
    stack: stacks/Pulumi.<stack>.yaml (when the repository ships one and `from_stack_file`: else the
    stack starts empty, as after `pulumi stack init`), then `config` (project keys
    without the prefix; other namespaces' keys, such as `gcp:project`, with theirs; `secret_keys`
    among them set with --secret), merged with Pulumi.yaml's defaults and type-checked as the CLI
    does (tests/engine.py `cli_config`; its EngineError where the CLI would refuse the stack).
    The program's one seam to the machine (components/host.py) answers FAKE_PUBLIC_IPV4 and
    FAKE_NOW, or `public_ipv4` when given; `load_balancer_address` is what the address probes print
    (an existing cluster's load balancer). `main` is the program (tests of the harness run their own)."""
    from components import host

    built = cli_config(stack, config, secret_keys=secret_keys, from_stack_file=from_stack_file)
    saved = (host.public_ipv4, host.now)
    host.public_ipv4 = public_ipv4 or (lambda: FAKE_PUBLIC_IPV4)
    host.now = lambda: FAKE_NOW
    try:
        return _run(built, stack, load_balancer_address, main)
    finally:
        host.public_ipv4, host.now = saved


def _run(config: CliConfig, stack: str, load_balancer_address: str, main: Path) -> ProgramRun:
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    mocks = RecordingMocks(load_balancer_address)
    monitor = EngineMonitor(mocks)
    global LAST_REGISTRATIONS
    LAST_REGISTRATIONS = mocks.registrations
    engine_log = _EngineLog()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, logger=engine_log.logger, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))

    options: dict[str, tuple[str, pulumi.ResourceOptions]] = {}

    same_names: list[str] = []

    def record(args: pulumi.ResourceTransformationArgs):
        if args.name in options:
            same_names.append(args.name)
        options[args.name] = (args.type_, args.opts)
        return None

    pulumi.runtime.register_stack_transformation(record)
    exported: dict[str, pulumi.Output] = {}

    @pulumi.runtime.test
    def program():
        runpy.run_path(str(main), run_name="__main__")
        root = runtime_settings.get_root_resource()
        exported.update({key: pulumi.Output.from_input(value) for key, value in root.outputs.items()})
        return pulumi.Output.all(*exported.values())

    try:
        program()
    finally:
        if monitor.refusals:  # the engine stops the update at the first one, whatever the program did next
            raise EngineError(monitor.refusals[0])
    # This harness addresses resources by logical name; two of one name (legal for the engine when
    # type or parent differ) would hide one of them from every assertion.
    assert not same_names, f"two resources named {same_names[0]!r}: the harness cannot tell them apart"
    values = {key: _sync_await(output.future()) for key, output in exported.items()}
    secrets = {key for key, output in exported.items() if _sync_await(output.is_secret())}

    by_name: dict[str, Registered] = {}
    for name, (type_, opts) in options.items():
        parent = opts.parent
        depends = opts.depends_on if isinstance(opts.depends_on, list) else ([opts.depends_on] if opts.depends_on else [])
        by_name[name] = Registered(
            type=type_,
            name=name,
            custom=False,
            parent=parent._name if parent is not None and parent._name in options else None,  # type: ignore[union-attr]
            depends_on=[d._name for d in depends],  # type: ignore[union-attr]
            options=opts,
        )
    for registration in mocks.registrations:
        entry = by_name[registration.name]
        entry.custom = bool(registration.custom)
        entry.inputs = registration.inputs
        entry.provider = registration.provider
    return ProgramRun(
        by_name, values, secrets, [(call.token, dict(call.args)) for call in mocks.calls], engine_log.warnings
    )


class _EngineLog(logging.Handler):
    """The mock engine's log (the SDK's MockEngine writes `pulumi.log` calls to a logger): kept per run."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.warnings: list[str] = []
        self.logger = logging.Logger(f"servebox-engine-{id(self)}", logging.DEBUG)
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())
