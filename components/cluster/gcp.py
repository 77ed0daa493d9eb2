"""The gcp target: one Shielded Ubuntu 24.04 VM on Compute Engine running k3s, and a way in to it.

Creates (all in the stack's project, zone and region, on the gcp provider given once): the network
(the project's default VPC, or a VPC and subnet of the stack's own), firewall rules that open HTTP
to `modelCidrs` and SSH and the Kubernetes API to `adminCidrs`, and a rule that denies this VM
everything else (so the network's own allow rules, a default network's included, do not reach it), an external IP
(ephemeral, or a reserved static one), a dedicated service account with no role of its own (the
store grants it read access to the model bucket), an ED25519 SSH key, and the VM. Its cloud-init
installs the pinned k3s (components/cluster/vm.py); a TTL through `max_run_duration` ends it.
https://cloud.google.com/compute/docs/instances/limit-vm-runtime
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_tls as tls

from components import versions
from components.cluster import vm as shared
from components.config import GcpSettings, NetworkMode, VmSettings, gcp_architecture
from components.naming import component_type

# Caps the VM's tokens to reading Cloud Storage: whatever roles the service account is ever given,
# a token from this VM cannot write a bucket or call another API. The only API the node calls is
# Cloud Storage (KServe's storage initializer), and only to read; cloud-platform would let future
# IAM grants through, which is the opposite of least privilege.
STORAGE_READ_ONLY_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
SUBNET_RANGE = "10.128.64.0/24"
EXPIRY_LABEL = "servebox-expires-at"
VM_RESOURCE = (component_type("cluster", "GcpVmCluster"), "gcp:compute/instance:Instance", "cluster-vm")
"""(parent type, type, name) of the VM in the stack: what scripts/refresh_targets.py refreshes."""
NETWORK_TAG = "servebox"
# Firewall rules add up, and a project's default network carries stock allow rules for every
# instance at priority 65534 (default-allow-ssh from 0.0.0.0/0, default-allow-internal from
# 10.128.0.0/9, -rdp, -icmp). A deny-all rule for this VM's tag at a higher priority than those
# shuts them out on whatever network the VM sits on; the stack's allow rules sit above it.
# https://cloud.google.com/firewall/docs/firewalls#default_firewall_rules
ALLOW_PRIORITY = 1000
DENY_OTHERS_PRIORITY = 65000


def scheduling(vm: VmSettings) -> gcp.compute.InstanceSchedulingArgs:
    """Spot or standard capacity, and the TTL: the cloud stops or deletes the VM after vmTtlHours."""
    action = vm.termination_action.value.upper()
    ttl = (
        gcp.compute.InstanceSchedulingMaxRunDurationArgs(seconds=vm.ttl_hours * 3600) if vm.ttl_hours else None
    )
    if vm.spot:
        # Spot capacity can neither live-migrate nor restart by itself: TERMINATE and no restart.
        return gcp.compute.InstanceSchedulingArgs(
            provisioning_model="SPOT",
            preemptible=True,
            automatic_restart=False,
            on_host_maintenance="TERMINATE",
            instance_termination_action=action,
            max_run_duration=ttl,
        )
    # Standard capacity live-migrates (e2 refuses TERMINATE unless preemptible) and restarts after a
    # host error; a run duration takes both (its restrictions: stop or delete, 30 s to 120 days, not
    # legacy preemptible; https://cloud.google.com/compute/docs/instances/limit-vm-runtime).
    return gcp.compute.InstanceSchedulingArgs(
        provisioning_model="STANDARD",
        automatic_restart=True,
        on_host_maintenance="MIGRATE",
        instance_termination_action=action if ttl else None,
        max_run_duration=ttl,
    )


def _nat_ip(interfaces: Sequence[gcp.compute.outputs.InstanceNetworkInterface]) -> str:
    """The external IPv4 of the VM's one interface (its one access config: ephemeral or static)."""
    configs = interfaces[0].access_configs
    assert configs and configs[0].nat_ip, "the VM's interface has no external IPv4"
    return configs[0].nat_ip


def boot_disk_type(machine_type: str) -> str:
    """pd-balanced, or hyperdisk-balanced on the series that take no Persistent Disk (c4, c4a, n4, ...)."""
    series = machine_type.split("-", 1)[0]
    return "hyperdisk-balanced" if series in versions.GCP_HYPERDISK_ONLY_SERIES else "pd-balanced"


def instance_metadata(ssh_public_key: str, user_data: str) -> dict[str, str]:
    """The VM's metadata: the cloud-init user-data and SSH by this stack's key only.

    Project-wide SSH keys are blocked and OS Login is off, so the one key that opens the VM is the
    instance's own; the serial console stays closed. Nothing here is secret: every pod on the node
    can read the metadata server.
    """
    return {
        "user-data": user_data,
        "ssh-keys": f"{shared.SSH_USER}:{ssh_public_key.strip()} servebox",
        "block-project-ssh-keys": "TRUE",
        "enable-oslogin": "FALSE",
        "serial-port-enable": "FALSE",
    }


@dataclass(frozen=True)
class GcpVmClusterArgs(shared.VmClusterArgs):
    """Inputs of the GCP VM target: the shared VM args, the VM's service account, the GCP settings
    and the stack's labels."""

    service_account_id: str
    """Account id of the VM's service account (naming.gcp_service_account_id)."""
    gcp: GcpSettings
    labels: dict[str, str]
    """Labels naming the project and the stack (naming.cloud_labels)."""


class GcpVmCluster(shared.VmClusterComponent):
    """One VM with k3s; meets the VmCluster contract (components/cluster/base.py)."""

    def __init__(self, name: str, args: GcpVmClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(VM_RESOURCE[0], name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.gcp

        network: pulumi.Input[str] = "default"
        subnetwork: pulumi.Input[str] | None = None
        if settings.network is NetworkMode.CREATE:
            created = gcp.compute.Network(
                f"{name}-network", name=args.base_name, auto_create_subnetworks=False, opts=child
            )
            subnet = gcp.compute.Subnetwork(
                f"{name}-subnet",
                name=args.base_name,
                network=created.id,
                region=settings.region,
                ip_cidr_range=SUBNET_RANGE,
                opts=child,
            )
            network, subnetwork = created.id, subnet.id

        def firewall(role: str, priority: int, source_ranges: Sequence[str], description: str, **rule) -> gcp.compute.Firewall:
            return gcp.compute.Firewall(
                f"{name}-{role}",
                name=f"{args.base_name}-{role}",
                network=network,
                direction="INGRESS",
                priority=priority,
                source_ranges=list(source_ranges),
                target_tags=[args.base_name],
                description=f"servebox: {description}",
                opts=child,
                **rule,
            )

        firewalls = [
            firewall(
                f"allow-{rule.role}",
                ALLOW_PRIORITY,
                rule.cidrs,
                rule.description,
                allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[str(port) for port in rule.ports])],
            )
            for rule in shared.ingress_rules(args.vm)
        ]
        firewalls.append(
            firewall(
                "deny-others",
                DENY_OTHERS_PRIORITY,
                ["0.0.0.0/0"],
                "everything the rules above do not allow, whatever else the network allows",
                denies=[gcp.compute.FirewallDenyArgs(protocol="all")],
            )
        )

        address = (
            gcp.compute.Address(
                f"{name}-address",
                name=args.base_name,
                region=settings.region,
                address_type="EXTERNAL",
                labels=args.labels,
                opts=child,
            )
            if settings.static_ip
            else None
        )
        account = gcp.serviceaccount.Account(
            f"{name}-node-identity",
            account_id=args.service_account_id,
            display_name=f"servebox VM {args.base_name}",
            description="Runs the servebox VM; reads the stack's model bucket and nothing else.",
            opts=child,
        )
        ssh_key = tls.PrivateKey(f"{name}-ssh-key", algorithm="ED25519", opts=child)
        arch = gcp_architecture(settings.machine_type)
        image = gcp.compute.get_image_output(
            family=versions.GCP_IMAGE_FAMILIES[arch], project=versions.GCP_IMAGE_PROJECT, opts=pulumi.InvokeOptions(parent=self)
        )
        expiry = shared.expiry(args.created_at, args.vm.ttl_hours)
        instance = gcp.compute.Instance(
            f"{name}-vm",
            name=args.base_name,
            zone=settings.zone,
            machine_type=settings.machine_type,
            tags=[args.base_name, NETWORK_TAG],
            labels={**args.labels, EXPIRY_LABEL: shared.expiry_label(expiry)},
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                auto_delete=True,
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(
                    image=image.self_link, size=settings.disk_size_gb, type=boot_disk_type(settings.machine_type)
                ),
            ),
            network_interfaces=[
                gcp.compute.InstanceNetworkInterfaceArgs(
                    network=network,
                    subnetwork=subnetwork,
                    access_configs=[
                        gcp.compute.InstanceNetworkInterfaceAccessConfigArgs(
                            nat_ip=address.address if address else None
                        )
                    ],
                )
            ],
            service_account=gcp.compute.InstanceServiceAccountArgs(email=account.email, scopes=[STORAGE_READ_ONLY_SCOPE]),
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True
            ),
            metadata=ssh_key.public_key_openssh.apply(
                lambda public_key: instance_metadata(public_key, shared.render_cloud_init("gcp"))
            ),
            scheduling=scheduling(args.vm),
            # A VM the TTL or Spot stopped is started again by the next `up`.
            desired_status="RUNNING",
            allow_stopping_for_update=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=firewalls,
                # The image is resolved from the family when the VM is created and kept: a newer
                # image never replaces a running VM. The expiry label is written once, at creation.
                ignore_changes=["bootDisk.initializeParams.image", f'labels["{EXPIRY_LABEL}"]'],
            ),
        )
        external_ip = instance.network_interfaces.apply(_nat_ip)
        access = shared.K3sAccess(
            f"{name}-k3s",
            shared.K3sAccessArgs(
                external_ip=external_ip,
                private_key=ssh_key.private_key_openssh,
                instance=instance,
                context_name=args.context_name,
                timeout_seconds=args.timeout_seconds,
            ),
            opts=child,
        )

        self._expose(
            access,
            external_ip=external_ip,
            context_name=args.context_name,
            node_identity=account.email,
            ssh_key=ssh_key,
            expires_at=instance.labels.apply(
                lambda labels: shared.expires_at_from_label((labels or {}).get(EXPIRY_LABEL, "never"))
            ),
        )
