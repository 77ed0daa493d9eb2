"""What every VM target (gcp, aws) shares: k3s by cloud-init, the exposure, SSH, the kubeconfig, the TTL.

A VM target creates one VM whose first boot installs a pinned, checksum-verified k3s
(manifests/vm/), opens HTTP to `modelCidrs` and SSH and the Kubernetes API to `adminCidrs`, and hands
this module the VM's external IP and the SSH key. `K3sAccess` then waits over SSH for cloud-init
and the API, reads the kubeconfig (a secret, never logged), points it at the external IP and builds
the one Kubernetes provider. The platform above runs unchanged: the gateway is a LoadBalancer that
k3s's ServiceLB serves on port 80 of the node.
https://docs.k3s.io/installation/airgap
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s
import pulumi_tls as tls
import yaml

from components import versions
from components.cluster.base import IngressExposure
from components.cluster.kind import STORE_NODE_PORT
from components.config import VmSettings
from components.manifests import MANIFESTS_DIR, render
from components.naming import component_type

SSH_USER = "ubuntu"
"""The default user of Canonical's Ubuntu images on both clouds."""
SSH_PORT = 22
KUBE_API_PORT = 6443
HTTP_PORT = 80
EXPOSURE = IngressExposure(service_type="LoadBalancer")
"""The gateway as a LoadBalancer: ServiceLB binds its ports on the node, the cloud's NAT does the rest."""

VM_MANIFESTS = MANIFESTS_DIR / "vm"
SCRIPTS_ON_THE_VM = ("install-k3s.sh", "k3s-config.sh")
"""Files cloud-init writes under /usr/local/lib/servebox/, from manifests/vm/."""
WAIT_FOR_K3S = VM_MANIFESTS / "wait-for-k3s.sh"
TTL_UNIT = "servebox-ttl"
"""systemd units of the in-VM TTL (aws)."""


@dataclass(frozen=True)
class IngressRule:
    """One firewall (GCP) or security-group (AWS) rule: TCP ports open to some sources."""

    role: str
    """Short name, part of the cloud resource's name."""
    ports: tuple[int, ...]
    cidrs: tuple[str, ...]
    description: str


def ingress_rules(vm: VmSettings) -> tuple[IngressRule, ...]:
    """Everything a VM accepts from outside; every other port stays closed."""
    admin = (SSH_PORT, KUBE_API_PORT, *((STORE_NODE_PORT,) if vm.store_api else ()))
    what = "SSH and the Kubernetes API" + (" and MinIO's S3 API (a shared workshop's store)" if vm.store_api else "")
    return (
        IngressRule("model", (HTTP_PORT,), vm.model_cidrs, "the model over HTTP (Istio gateway via k3s ServiceLB)"),
        IngressRule("admin", admin, vm.admin_cidrs, what),
    )


def render_cloud_init(cloud: str, shutdown_at: datetime | None = None) -> str:
    """The VM's user-data: manifests/vm/cloud-init.yaml.tmpl with the k3s pins and the scripts.

    `shutdown_at` adds the in-VM TTL (a systemd timer on that absolute UTC time, enabled before
    k3s is installed), for clouds without a run-duration limit of their own (aws).
    """
    text = render(
        "vm/cloud-init.yaml.tmpl",
        cloud=cloud,
        k3s_version=versions.K3S.version,
        k3s_sha256_amd64=versions.K3S.binary_sha256["amd64"],
        k3s_sha256_arm64=versions.K3S.binary_sha256["arm64"],
        install_sh_sha256=versions.K3S.install_script_sha256,
    )
    document = yaml.safe_load(text)
    for entry in document["write_files"]:
        name = Path(entry["path"]).name
        if name in SCRIPTS_ON_THE_VM:
            entry["content"] = (VM_MANIFESTS / name).read_text()
    if shutdown_at is not None:
        at = shutdown_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        document["write_files"] += [
            {
                "path": f"/etc/systemd/system/{TTL_UNIT}.timer",
                "owner": "root:root",
                "permissions": "0644",
                "content": render("vm/servebox-ttl.timer.tmpl", at=at),
            },
            {
                "path": f"/etc/systemd/system/{TTL_UNIT}.service",
                "owner": "root:root",
                "permissions": "0644",
                "content": (VM_MANIFESTS / f"{TTL_UNIT}.service").read_text(),
            },
        ]
        # Armed before anything else runs, so that even a failed install ends on time.
        document["runcmd"][:0] = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", f"{TTL_UNIT}.timer"]]
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    return header + yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, width=120)


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (the scripts) as literal blocks, so the user-data reads like the files."""


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def expiry(created: datetime, ttl_hours: int) -> datetime | None:
    """When the TTL ends a VM started at `created`; None without a TTL."""
    return created.replace(second=0, microsecond=0) + timedelta(hours=ttl_hours) if ttl_hours else None


def expiry_label(at: datetime | None) -> str:
    """`expires_at` in the characters cloud labels allow (lower-case, digits, '-'): 2026-12-02t03-41z."""
    return at.strftime("%Y-%m-%dt%H-%Mz") if at else "never"


def expires_at_iso(at: datetime | None) -> str | None:
    """`expires_at` as the outputs give it: ISO 8601 in UTC (2026-12-02T03:41:00Z); None without a TTL."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def expires_at_from_label(label: str) -> str | None:
    """The ISO 8601 form of an expiry label, for the `expires_at` output; None for `never`."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})t(\d{2})-(\d{2})z", label)
    return f"{match[1]}T{match[2]}:{match[3]}:00Z" if match else None


def kubeconfig_for(raw: str, external_ip: str, name: str) -> str:
    """k3s's kubeconfig pointed at the external IP, its cluster, user and context renamed to `name`.

    k3s writes `https://127.0.0.1:6443` and names everything `default`
    (https://docs.k3s.io/cluster-access); the certificate names the external IP (tls-san).
    """
    config = yaml.safe_load(raw)
    if not isinstance(config, dict) or len(config.get("clusters") or []) != 1:
        raise ValueError("the VM's /etc/rancher/k3s/k3s.yaml is not k3s's one-cluster kubeconfig")
    (cluster,), (user,), (context,) = config["clusters"], config["users"], config["contexts"]
    cluster["name"], user["name"], context["name"] = name, name, name
    cluster["cluster"]["server"] = f"https://{external_ip}:{KUBE_API_PORT}"
    context["context"] = {**context["context"], "cluster": name, "user": name}
    config["current-context"] = name
    return yaml.safe_dump(config, sort_keys=False)


def ssh_command(stack: str) -> str:
    """The `ssh` output: scripts/ssh.sh writes the key from the stack's secret output (mode 0600) and
    pins the host key the program read at first contact."""
    return f"scripts/ssh.sh {stack}"


@dataclass(frozen=True)
class K3sAccessArgs:
    """Inputs of the way in to a VM's k3s."""

    external_ip: pulumi.Input[str]
    """The VM's public IPv4 address (SSH, the API, the model)."""
    private_key: pulumi.Input[str]
    """OpenSSH private key of SSH_USER (secret)."""
    instance: pulumi.CustomResource
    """The VM; reading starts once it exists."""
    context_name: str
    """Name of the cluster, user and context in the kubeconfig."""
    timeout_seconds: int
    """How long cloud-init, k3s and the first SSH connection may take together."""
    also_after: pulumi.Resource | None = None
    """What else must exist before SSH can reach the VM (an Elastic IP's association)."""


class K3sAccess(pulumi.ComponentResource):
    """Waits for the VM's k3s over SSH, then exposes its kubeconfig and one Kubernetes provider."""

    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig pointed at the external IP; always a secret."""
    host_key: pulumi.Output[str]
    """The VM's SSH host key (ed25519), as read at first contact, for a pinned known_hosts."""
    provider: k8s.Provider

    def __init__(self, name: str, args: K3sAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("cluster", "K3sAccess"), name, None, opts)
        connection = command.remote.ConnectionArgs(
            host=args.external_ip,
            user=SSH_USER,
            private_key=args.private_key,
            # A new VM refuses connections until sshd starts; retry for about as long as boot takes.
            dial_error_limit=max(10, args.timeout_seconds // 10),
            per_dial_timeout=10,
        )
        read = command.remote.Command(
            f"{name}-kubeconfig",
            connection=connection,
            create=WAIT_FOR_K3S.read_text(),
            # Read again whenever the VM or its address changes (a new VM, a new ephemeral IP).
            triggers=[args.external_ip, args.instance.id],
            # stdout is the admin kubeconfig: never in the logs, encrypted in the state.
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[r for r in (args.instance, args.also_after) if r is not None],
                additional_secret_outputs=["stdout"],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{args.timeout_seconds}s"),
            ),
        )
        host_key = command.remote.Command(
            f"{name}-host-key",
            connection=connection,
            create="cat /etc/ssh/ssh_host_ed25519_key.pub",
            triggers=[args.external_ip, args.instance.id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read]),
        )
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(read.stdout, args.external_ip).apply(
                lambda values: kubeconfig_for(values[0], values[1], args.context_name)
            )
        )
        self.host_key = host_key.stdout.apply(lambda text: text.strip())
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # One cluster per VM: a new VM (the TTL deleted the old one) replaces the provider and so
            # recreates everything in it; a new address of the same VM (a restart) only updates it.
            cluster_identifier=args.instance.id,
            # When the TTL has deleted the VM, destroy and refresh drop what lived in it instead of failing.
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read]),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig, "host_key": self.host_key})


@dataclass(frozen=True)
class VmClusterArgs:
    """What both VM targets' args hold: the VM's names, its TTL and access settings, when it is
    created, and how long it may take."""

    base_name: str
    """Name of the VM and of the resources around it (naming.vm_name)."""
    context_name: str
    """Cluster, user and context name in the kubeconfig."""
    vm: VmSettings
    created_at: datetime
    """Now, as the program sees it: the expiry is this plus vmTtlHours when the VM is created."""
    timeout_seconds: int
    """How long the VM may take to boot, install k3s and answer."""


class VmClusterComponent(pulumi.ComponentResource):
    """What a VM target's component exposes (the VmCluster contract, components/cluster/base.py),
    set once by `_expose` after the target has created its VM and a K3sAccess to it."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    context: pulumi.Output[str]
    ingress_address: pulumi.Output[str]
    ingress_port: pulumi.Output[int]
    exposure: IngressExposure
    node_identity: pulumi.Output[str]
    """The cloud principal the VM runs as: what a store grants read access to."""
    ssh_private_key: pulumi.Output[str]
    """The SSH key's private half (secret); scripts/ssh.sh writes it to a 0600 file."""
    ssh_host_key: pulumi.Output[str]
    """The VM's SSH host key as read at first contact."""
    expires_at: pulumi.Output[str | None]
    """When the TTL ends the VM (ISO 8601, UTC), or None without a TTL."""

    def _expose(
        self,
        access: K3sAccess,
        *,
        external_ip: pulumi.Output[str],
        context_name: str,
        node_identity: pulumi.Output[str],
        ssh_key: tls.PrivateKey,
        expires_at: pulumi.Output[str | None],
    ) -> None:
        self.provider = access.provider
        self.kubeconfig = access.kubeconfig
        self.context = pulumi.Output.from_input(context_name)
        self.ingress_address = external_ip
        self.ingress_port = pulumi.Output.from_input(HTTP_PORT)
        self.exposure = EXPOSURE
        self.node_identity = node_identity
        self.ssh_private_key = pulumi.Output.secret(ssh_key.private_key_openssh)
        self.ssh_host_key = access.host_key
        self.expires_at = expires_at
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "ingress_address": self.ingress_address,
                "node_identity": self.node_identity,
                "expires_at": self.expires_at,
            }
        )
