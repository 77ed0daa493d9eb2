"""The aws target: one Ubuntu 24.04 EC2 instance running k3s, and a way in to it.

Creates (in the stack's region, on the aws provider given once): the network (the region's default
VPC and one of its default subnets, or a VPC, public subnet, internet gateway and route of the
stack's own), a security group that opens HTTP to `modelCidrs` and SSH and the Kubernetes API to
`adminCidrs` and nothing else, an IAM role with no policy of its own (the store grants it read
access to the model bucket) and its instance profile, an EC2 key pair from an ED25519 key, the
instance, and an Elastic IP on request. The same cloud-init as on GCP installs the pinned k3s
(components/cluster/vm.py), plus the TTL: a systemd timer that powers the instance off at its
expiry, which terminates it.
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components import versions
from components.cluster import vm as shared
from components.config import AwsSettings, NetworkMode, VmSettings, aws_architecture
from components.naming import component_type

# Clear of k3s's own ranges (pods 10.42.0.0/16, services 10.43.0.0/16): a VPC there would put the
# VPC's DNS resolver (its base + 2, 10.42.0.2) inside the node's pod subnet, where flannel routes it.
VPC_RANGE = "10.60.0.0/16"
SUBNET_RANGE = "10.60.1.0/24"
EXPIRY_TAG = "servebox:expires-at"
INSTANCE_RESOURCE = (component_type("cluster", "AwsVmCluster"), "aws:ec2/instance:Instance", "cluster-vm")
"""(parent type, type, name) of the instance in the stack: what scripts/refresh_targets.py refreshes."""

ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    },
    sort_keys=True,
)
"""Only EC2 may assume the node role: the instance profile hands it to the VM, and nothing else."""


def burstable(instance_type: str) -> bool:
    """T-family types run on CPU credits."""
    return instance_type.startswith("t")


def market_options(vm: VmSettings) -> aws.ec2.InstanceInstanceMarketOptionsArgs | None:
    """Spot on request; an interruption terminates, as the TTL does (vmTerminationAction is delete)."""
    if not vm.spot:
        return None
    return aws.ec2.InstanceInstanceMarketOptionsArgs(
        market_type="spot",
        spot_options=aws.ec2.InstanceInstanceMarketOptionsSpotOptionsArgs(
            instance_interruption_behavior="terminate", spot_instance_type="one-time"
        ),
    )


@dataclass(frozen=True)
class AwsVmClusterArgs(shared.VmClusterArgs):
    """Inputs of the AWS VM target: the shared VM args, the AWS settings and the stack's tags."""

    aws: AwsSettings
    tags: dict[str, str]
    """Tags naming the project and the stack (naming.aws_tags)."""


class AwsVmCluster(shared.VmClusterComponent):
    """One EC2 instance with k3s; meets the VmCluster contract (components/cluster/base.py)."""

    def __init__(self, name: str, args: AwsVmClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(INSTANCE_RESOURCE[0], name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        tags = {**args.tags, "Name": args.base_name}

        if args.aws.network is NetworkMode.CREATE:
            vpc = aws.ec2.Vpc(
                f"{name}-vpc", cidr_block=VPC_RANGE, enable_dns_hostnames=True, enable_dns_support=True, tags=tags, opts=child
            )
            gateway = aws.ec2.InternetGateway(f"{name}-gateway", vpc_id=vpc.id, tags=tags, opts=child)
            zone = aws.get_availability_zones_output(state="available", opts=invoke).names[0]
            subnet = aws.ec2.Subnet(
                f"{name}-subnet",
                vpc_id=vpc.id,
                cidr_block=SUBNET_RANGE,
                availability_zone=zone,
                map_public_ip_on_launch=True,
                tags=tags,
                opts=child,
            )
            routes = aws.ec2.RouteTable(
                f"{name}-routes",
                vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
                tags=tags,
                opts=child,
            )
            route_association = aws.ec2.RouteTableAssociation(
                f"{name}-routes-subnet", subnet_id=subnet.id, route_table_id=routes.id, opts=child
            )
            vpc_id, subnet_id, network_ready = vpc.id, subnet.id, [route_association]
        else:
            default_vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
            subnets = aws.ec2.get_subnets_output(
                filters=[
                    # The _output form of an invoke resolves the Output inside its arguments.
                    aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[default_vpc.id]),  # type: ignore[list-item]  # see above
                    aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
                ],
                opts=invoke,
            )
            vpc_id, subnet_id, network_ready = default_vpc.id, subnets.ids.apply(lambda ids: sorted(ids)[0]), []

        group = aws.ec2.SecurityGroup(
            f"{name}-firewall",
            name=args.base_name,
            description="servebox: the model over HTTP, SSH and the Kubernetes API from the configured CIDRs only",
            vpc_id=vpc_id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=port, to_port=port, cidr_blocks=list(rule.cidrs), description=rule.description
                )
                for rule in shared.ingress_rules(args.vm)
                for port in rule.ports
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"], description="image pulls, S3, k3s downloads"
                )
            ],
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-node-identity",
            name=args.base_name,
            description="Runs the servebox instance; reads the stack's model bucket and nothing else.",
            assume_role_policy=ASSUME_ROLE_POLICY,
            tags=tags,
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-instance-profile", name=args.base_name, role=role.name, tags=tags, opts=child)
        ssh_key = tls.PrivateKey(f"{name}-ssh-key", algorithm="ED25519", opts=child)
        key_pair = aws.ec2.KeyPair(f"{name}-key-pair", key_name=args.base_name, public_key=ssh_key.public_key_openssh, tags=tags, opts=child)
        arch = aws_architecture(args.aws.instance_type)
        ami = aws.ssm.get_parameter_output(name=versions.AWS_AMI_PARAMETERS[arch], opts=invoke)
        expiry = shared.expiry(args.created_at, args.vm.ttl_hours)
        instance = aws.ec2.Instance(
            f"{name}-vm",
            ami=ami.value,
            instance_type=args.aws.instance_type,
            subnet_id=subnet_id,
            vpc_security_group_ids=[group.id],
            associate_public_ip_address=True,
            key_name=key_pair.key_name,
            iam_instance_profile=profile.name,
            user_data=shared.render_cloud_init("aws", expiry),
            # IMDSv2 only, and a hop limit of 2: the pod's request to the metadata service crosses one
            # more hop (the node's bridge) than the node's own, and KServe's storage initializer must
            # reach the role from its pod. The cost is that every pod on the node can; the role can
            # read one bucket and nothing else.
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=2
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=args.aws.disk_size_gb, encrypted=True, delete_on_termination=True
            ),
            # T-family: unlimited credits on purpose. The install bursts on both vCPUs for minutes,
            # which standard credits would throttle to the 30% baseline; idle time afterwards repays
            # the burst, and only CPU sustained above the baseline bills surplus credits.
            credit_specification=aws.ec2.InstanceCreditSpecificationArgs(cpu_credits="unlimited")
            if burstable(args.aws.instance_type)
            else None,
            # The TTL's poweroff from inside (and any other shutdown) ends the instance, not just stops it.
            instance_initiated_shutdown_behavior="terminate",
            instance_market_options=market_options(args.vm),
            tags={**tags, EXPIRY_TAG: shared.expires_at_iso(expiry) or "never"},
            volume_tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[group, *network_ready],
                # The AMI is resolved when the instance is created and kept: a newer AMI never
                # replaces a running instance. The user-data (and in it the TTL's time) and the
                # expiry tag are the ones it was created with; cloud-init reads user-data once anyway.
                ignore_changes=["ami", "userData", f'tags["{EXPIRY_TAG}"]'],
            ),
        )
        if args.aws.elastic_ip:
            address = aws.ec2.Eip(f"{name}-address", domain="vpc", tags=tags, opts=child)
            association = aws.ec2.EipAssociation(
                f"{name}-address-association", instance_id=instance.id, allocation_id=address.allocation_id, opts=child
            )
            external_ip = pulumi.Output.all(address.public_ip, association.id).apply(lambda values: values[0])
            reachable: pulumi.Resource | None = association
        else:
            external_ip = instance.public_ip
            reachable = None
        access = shared.K3sAccess(
            f"{name}-k3s",
            shared.K3sAccessArgs(
                external_ip=external_ip,
                private_key=ssh_key.private_key_openssh,
                instance=instance,
                context_name=args.context_name,
                timeout_seconds=args.timeout_seconds,
                also_after=reachable,
            ),
            opts=child,
        )

        self._expose(
            access,
            external_ip=external_ip,
            context_name=args.context_name,
            node_identity=role.name,
            ssh_key=ssh_key,
            expires_at=instance.tags.apply(
                lambda current: None if (current or {}).get(EXPIRY_TAG, "never") == "never" else (current or {})[EXPIRY_TAG]
            ),
        )
