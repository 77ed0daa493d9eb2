"""The model store on kind: MinIO in the cluster, a private bucket and a read-only identity.

MinIO runs as a Deployment with a persistent volume and generated root credentials (Pulumi
secrets). Its S3 API is a NodePort that the kind config publishes on the host's loopback, so the
bucket, the reader identity and every uploaded object are Pulumi resources of the MinIO provider:
tracked, replaced when their content changes and deleted by destroy, from where the user stands.
The predictor gets a separate user whose policy can list and read that one bucket, nothing more.

On an existing cluster there is no host port to map: the S3 API gets a LoadBalancer Service whose
`loadBalancerSourceRanges` admit adminCidrs only (this machine's address by default), and Pulumi
uploads through the address an address probe reads from its status. The API never answers without
credentials (the bucket is private, anonymous access is off), and outside those ranges it does not
answer at all.
https://min.io/docs/minio/linux/administration/identity-access-management/policy-based-access-control.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_minio as minio
import pulumi_random as random

from components import kube, network_policy, versions
from components.cluster.kind import STORE_NODE_PORT
from components.naming import component_type, standard_labels
from components.platform.readiness import service_address
from components.storage.base import PredictorCredentials, PrefixStore, StoredObject, prefix_read_policy

NAMESPACE = "model-store"
SERVICE = "minio"
API_PORT = 9000
SERVER_UID = 10001
"""MinIO's image runs as any uid; one above the range of a node's own users."""
SCRATCH = "/tmp"
# What checkov asks of the Deployment that MinIO, or servebox's way of running it, cannot give;
# each with its reason, on the object itself (tests/unit/test_checkov.py).
CHECKOV_WAIVERS = {
    "checkov.io/skip1": "CKV_K8S_43=the image is pinned by its release tag in components/versions.py; "
    "its digest cannot be resolved offline, and the tag of a MinIO release is never moved",
    "checkov.io/skip2": "CKV_K8S_35=MinIO reads its root credentials from MINIO_ROOT_USER and "
    "MINIO_ROOT_PASSWORD; they come from a Secret, are random, and only this pod sees them",
    "checkov.io/skip3": "CKV_K8S_15=IfNotPresent, not Always: the tag is immutable, and kind clusters "
    "load images ahead or sit behind Docker Hub's rate limit",
}
ROOT_USER = "servebox-admin"
# MinIO ignores the region, but S3 clients sign requests with one and must agree on it.
REGION = "us-east-1"
# The server container's resources (one replica). Part of the platform footprint on kind, which
# scripts/bench_footprint.py reads from here.
SERVER_RESOURCES = {
    "requests": {"cpu": "25m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def read_only_policy(bucket: str) -> str:
    """An IAM policy that lists and reads `bucket` and nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": [f"arn:aws:s3:::{bucket}"]},
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
            ],
        },
        sort_keys=True,
    )


def storage_annotations(endpoint: str) -> dict[str, str]:
    """How KServe's storage initializer reaches MinIO (S3 API, plain HTTP inside the cluster)."""
    return {
        "serving.kserve.io/s3-endpoint": endpoint,
        "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-verifyssl": "0",
        "serving.kserve.io/s3-region": REGION,
    }


def storage_environment(endpoint: str) -> dict[str, str]:
    """The environment KServe's storage initializer reads MinIO with (beside the key pair): what
    KServe's injector derives from storage_annotations (pkg/credentials/s3/utils.go@v0.20.0)."""
    return {
        "S3_USE_HTTPS": "0",
        "S3_ENDPOINT": endpoint,
        "AWS_ENDPOINT_URL": f"http://{endpoint}",
        "S3_VERIFY_SSL": "0",
        "AWS_DEFAULT_REGION": REGION,
    }


@dataclass(frozen=True)
class MinioLoadBalancer:
    """How an existing cluster exposes MinIO's S3 API to the machine running Pulumi."""

    source_ranges: tuple[str, ...]
    """The CIDRs the load balancer admits (adminCidrs)."""
    kubeconfig: pulumi.Input[str]
    """Secret kubeconfig for the address probe."""
    timeout_seconds: int
    """How long the load balancer may take to get an address."""


@dataclass(frozen=True)
class MinioStoreArgs:
    """Inputs of the MinIO model store."""

    bucket: str
    """Bucket name (3-63 lower-case characters); unique per stack."""
    reader_namespace: str
    """The namespace whose pods (the predictors' storage initializers) may reach the S3 API."""
    host_port: int | None = None
    """kind: the port on 127.0.0.1 mapped to the S3 API's NodePort by the kind config."""
    load_balancer: MinioLoadBalancer | None = None
    """Existing clusters: the S3 API behind a load balancer for adminCidrs only."""
    node_address: pulumi.Input[str] | None = None
    """A VM (a shared workshop's store): its address, where the firewall opens the S3 API's
    NodePort to adminCidrs; the connection arrives from the node, which the namespace admits."""
    storage_size: str = "2Gi"
    """Size of MinIO's persistent volume."""
    network_policies: bool = True
    """Deny every flow in and out of the namespace but the S3 API's readers and uploads."""


class MinioStore(pulumi.ComponentResource):
    """MinIO with a private bucket and a read-only identity for the predictor."""

    bucket: pulumi.Output[str]
    """The private bucket models are stored in."""
    endpoint_in_cluster: str
    """host:port of the S3 API from inside the cluster (what KServe's storage initializer calls)."""
    reader_access_key: pulumi.Output[str]
    """Access key of the read-only identity."""
    reader_secret_key: pulumi.Output[str]
    """Secret key of the read-only identity; a Pulumi secret."""
    predictor_credentials: PredictorCredentials
    """The read-only identity as the predictor's Secret (the store contract, storage/base.py)."""
    service_account_annotations: None = None
    """Keys, not a cloud identity: nothing goes on the ServiceAccount itself."""
    predictor_egress: tuple[network_policy.Rule, ...]
    """The S3 API's pods, and nothing else of this namespace."""

    def __init__(self, name: str, args: MinioStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("storage", "MinioStore"), name, None, opts)
        if sum(way is not None for way in (args.host_port, args.load_balancer, args.node_address)) != 1:
            raise ValueError("MinioStoreArgs takes exactly one of host_port (kind), node_address (a VM) and load_balancer")
        child = pulumi.ResourceOptions(parent=self)
        labels = standard_labels("minio", versions.MINIO.tag)
        ns = kube.namespace(f"{name}-namespace", NAMESPACE, labels, child, enforce=kube.RESTRICTED)
        root_password = random.RandomPassword(f"{name}-root-password", length=32, special=False, opts=child)
        # Secret on our side too, not only because the random provider marks it so.
        root_secret: pulumi.Output[str] = pulumi.Output.secret(root_password.result)
        root = k8s.core.v1.Secret(
            f"{name}-root-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=ns.metadata.name, labels=labels),
            string_data={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": root_secret},
            opts=child,
        )
        data = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                namespace=ns.metadata.name,
                labels=labels,
                # kind's local-path class binds a claim only once a pod uses it, and the pod comes
                # after the claim: waiting for Bound here would wait for ever. The Deployment's
                # readiness covers the volume.
                annotations={"pulumi.com/skipAwait": "true"},
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": args.storage_size}),
            ),
            opts=child,
        )
        selector = {"app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": name}
        server = k8s.apps.v1.Deployment(
            f"{name}-server",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace=ns.metadata.name, labels=labels, annotations=CHECKOV_WAIVERS),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                # One writer on a ReadWriteOnce volume: stop the old pod before starting a new one.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**labels, **selector}),
                    spec=k8s.core.v1.PodSpecArgs(
                        # Pod Security "restricted": a high non-root uid, the runtime's seccomp
                        # profile, no API token (MinIO never calls the API server).
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_user=SERVER_UID,
                            run_as_group=SERVER_UID,
                            fs_group=SERVER_UID,
                            run_as_non_root=True,
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                        ),
                        automount_service_account_token=False,
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="minio",
                                image=versions.MINIO.ref,
                                # The certs directory MinIO creates at start goes to the scratch
                                # volume: the root filesystem is read-only.
                                args=["server", "/data", "--certs-dir", f"{SCRATCH}/certs"],
                                env_from=[k8s.core.v1.EnvFromSourceArgs(
                                    secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=root.metadata.name)
                                )],
                                ports=[k8s.core.v1.ContainerPortArgs(name="s3", container_port=API_PORT)],
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/minio/health/ready", port=API_PORT),
                                    period_seconds=5,
                                ),
                                liveness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(path="/minio/health/live", port=API_PORT),
                                    period_seconds=20,
                                ),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests=SERVER_RESOURCES["requests"], limits=SERVER_RESOURCES["limits"]
                                ),
                                security_context=k8s.core.v1.SecurityContextArgs(
                                    run_as_user=SERVER_UID,
                                    run_as_non_root=True,
                                    allow_privilege_escalation=False,
                                    read_only_root_filesystem=True,
                                    capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                                ),
                                env=[k8s.core.v1.EnvVarArgs(name="HOME", value=SCRATCH)],
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data"),
                                    k8s.core.v1.VolumeMountArgs(name="scratch", mount_path=SCRATCH),
                                ],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="data",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                                    claim_name=data.metadata.name
                                ),
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="scratch", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi")
                            ),
                        ],
                    ),
                ),
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SERVICE, namespace=ns.metadata.name, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="NodePort",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="s3", port=API_PORT, target_port=API_PORT, node_port=STORE_NODE_PORT)],
            )
            if args.load_balancer is None
            else k8s.core.v1.ServiceSpecArgs(
                type="LoadBalancer",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="s3", port=API_PORT, target_port=API_PORT)],
                load_balancer_source_ranges=list(args.load_balancer.source_ranges),
                # The client's address survives to the pod, where the NetworkPolicy admits
                # adminCidrs; a balancer that proxies (EKS's classic ELB) hides it (docs/security.md).
                external_traffic_policy="Local",
            ),
            opts=child,
        )
        self.predictor_egress = ({"to": [network_policy.pods(NAMESPACE, selector)], "ports": network_policy.tcp(API_PORT)},)
        self._namespace, self._selector, self._network_policies_on = ns, selector, args.network_policies
        if args.network_policies:
            self._network_policies(name, ns, selector, args, child)
        if args.node_address is not None:
            api: pulumi.Input[str] = pulumi.Output.concat(args.node_address, f":{STORE_NODE_PORT}")
        elif args.load_balancer is None:
            api = f"127.0.0.1:{args.host_port}"
        else:
            address = service_address(
                f"{name}-address",
                service=f"{NAMESPACE}/{SERVICE}",
                from_status=True,
                kubeconfig=args.load_balancer.kubeconfig,
                timeout_seconds=args.load_balancer.timeout_seconds,
                opts=kube.after(child, server, service),
            )
            api = address.stdout.apply(lambda text: f"{text.strip()}:{API_PORT}")
        # Talks to MinIO through the host port (kind) or its load balancer; exists only once the
        # server is Ready behind its Service.
        self._provider = minio.Provider(
            f"{name}-provider",
            minio_server=api,
            minio_user=ROOT_USER,
            minio_password=root_secret,
            minio_region=REGION,
            minio_ssl=False,
            opts=kube.after(child, server, service),
        )
        in_store = pulumi.ResourceOptions(parent=self, provider=self._provider)
        bucket = minio.S3Bucket(f"{name}-bucket", bucket=args.bucket, acl="private", force_destroy=True, opts=in_store)
        policy = minio.IamPolicy(f"{name}-reader-policy", name=f"{args.bucket}-read", policy=read_only_policy(args.bucket), opts=in_store)
        reader_secret = random.RandomPassword(f"{name}-reader-secret", length=40, special=False, opts=child)
        reader_key: pulumi.Output[str] = pulumi.Output.secret(reader_secret.result)
        reader = minio.IamUser(f"{name}-reader", name=f"{args.bucket}-reader", secret=reader_key, opts=in_store)
        minio.IamUserPolicyAttachment(
            f"{name}-reader-policy-attachment", user_name=reader.name, policy_name=policy.name, opts=in_store
        )

        self.bucket = bucket.bucket
        self.endpoint_in_cluster = f"{SERVICE}.{NAMESPACE}.svc.cluster.local:{API_PORT}"
        self.reader_access_key = reader.name
        self.reader_secret_key = reader_key
        # The key names are those kserve-resources configures for S3 secrets (values.yaml@v0.20.0,
        # kserve.storage.s3.accessKeyIdName / secretAccessKeyName).
        keys = pulumi.Output.all(reader.name, reader_key).apply(
            lambda pair: {"AWS_ACCESS_KEY_ID": pair[0], "AWS_SECRET_ACCESS_KEY": pair[1]}
        )
        self.predictor_credentials = self._credentials(keys)
        self.register_outputs({"bucket": self.bucket, "reader_access_key": self.reader_access_key})

    def _network_policies(
        self,
        name: str,
        ns: k8s.core.v1.Namespace,
        selector: dict[str, str],
        args: MinioStoreArgs,
        child: pulumi.ResourceOptions,
    ) -> None:
        """Nothing reaches or leaves the namespace but the S3 API's two callers: the predictors'
        storage initializers, and the upload path (kind: the NodePort, whose traffic arrives from the
        node and is always admitted; existing: the load balancer, from adminCidrs). MinIO calls out
        to nothing."""
        readers: list[dict] = [network_policy.pods(args.reader_namespace)]
        if args.load_balancer is not None:
            readers += [{"ipBlock": {"cidr": cidr}} for cidr in args.load_balancer.source_ranges]
        network_policy.deny_all(f"{name}-deny-all", ns, child)
        network_policy.allow(
            f"{name}-allow-readers",
            ns,
            "allow-s3-readers",
            selector,
            ingress=[{"from": readers, "ports": network_policy.tcp(API_PORT)}],
            opts=child,
        )

    def _credentials(self, keys: pulumi.Output[dict[str, str]]) -> PredictorCredentials:
        """A key pair as KServe's and Seldon's storage initializers read it."""
        return PredictorCredentials(
            data=pulumi.Output.secret(keys),
            annotations=storage_annotations(self.endpoint_in_cluster),
            environment=pulumi.Output.secret(keys.apply(lambda pair: {**pair, **storage_environment(self.endpoint_in_cluster)})),
        )

    def prefix_reader(
        self, name: str, prefix: str, reader_namespace: str, service_accounts: tuple[str, ...], parent: pulumi.Resource
    ) -> PrefixStore:
        """An attendee's corner (base.SharedStore): a MinIO user of their own whose policy reads
        `prefix/` only, its keys for their predictors' Secret, the S3 API open to their namespace's
        pods. Every resource is theirs (named `<name>-...`), so adding or removing one touches no
        other."""
        child = pulumi.ResourceOptions(parent=parent)
        in_store = pulumi.ResourceOptions(parent=parent, provider=self._provider)
        policy = minio.IamPolicy(
            f"{name}-reader-policy",
            name=pulumi.Output.concat(self.bucket, f"-{prefix}-read"),
            policy=self.bucket.apply(lambda bucket: prefix_read_policy(bucket, prefix)),
            opts=in_store,
        )
        secret = random.RandomPassword(f"{name}-reader-secret", length=40, special=False, opts=child)
        secret_key: pulumi.Output[str] = pulumi.Output.secret(secret.result)
        reader = minio.IamUser(f"{name}-reader", name=pulumi.Output.concat(self.bucket, f"-{prefix}-reader"), secret=secret_key, opts=in_store)
        minio.IamUserPolicyAttachment(f"{name}-reader-policy-attachment", user_name=reader.name, policy_name=policy.name, opts=in_store)
        if self._network_policies_on:
            network_policy.allow(
                f"{name}-allow-s3",
                self._namespace,
                f"allow-s3-{reader_namespace}",
                self._selector,
                ingress=[{"from": [network_policy.pods(reader_namespace)], "ports": network_policy.tcp(API_PORT)}],
                opts=child,
            )
        keys = pulumi.Output.all(reader.name, secret_key).apply(lambda pair: {"AWS_ACCESS_KEY_ID": pair[0], "AWS_SECRET_ACCESS_KEY": pair[1]})
        return PrefixStore(self, prefix, credentials=self._credentials(keys))

    def upload(
        self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource, aliases: Sequence[str] = ()
    ) -> StoredObject:
        """Upload `local_path` as `key` in the bucket; returns the tracked object and its directory URI."""
        stored = minio.S3Object(
            resource_name,
            bucket_name=self.bucket,
            object_name=key,
            source=local_path,
            content_type="application/octet-stream",
            opts=pulumi.ResourceOptions(parent=parent, provider=self._provider, aliases=[pulumi.Alias(name=alias) for alias in aliases]),
        )
        directory = key.rsplit("/", 1)[0]
        return StoredObject(stored, pulumi.Output.concat("s3://", self.bucket, "/", directory))
