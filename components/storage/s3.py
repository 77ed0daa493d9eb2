"""The model store on AWS: a private S3 bucket that the instance's own role can read, keyless.

All public access is blocked, objects are encrypted at rest (SSE-S3) and owned by the bucket owner
(ACLs off); the instance role gets `s3:ListBucket` on the bucket and `s3:GetObject` on its objects,
nothing else. The predictor carries no key and no Secret: KServe's storage initializer uses boto3's
default credential chain, which on the instance ends at the role through IMDSv2 (hop limit 2), and
botocore's region chain, which ends at IMDS too (kserve/kserve python/storage/kserve_storage/
kserve_storage.py@v0.20.0 `_download_s3`). Every object is a resource of the stack.

On an existing EKS cluster the reader is an IAM role of the stack's own (IRSA): its trust policy lets
exactly the predictor's ServiceAccount assume it through the cluster's IAM OIDC provider (`sub` and
`aud` conditions), and the `eks.amazonaws.com/role-arn` annotation on that ServiceAccount makes
EKS's pod identity webhook hand the pods a web-identity token for it; KServe's credential builder
reads the annotation too (pkg/credentials/service_account_credentials.go@v0.20.0).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import network_policy
from components.cluster.base import EksOidcProvider
from components.naming import component_type
from components.storage.base import PredictorCredentials, PrefixStore, StoredObject, prefix_read_policy

METADATA_SERVER = "169.254.169.254/32"
"""The instance metadata service the instance profile's credentials come from."""

def read_policy(bucket_arn: str) -> str:
    """List the bucket, read its objects: what the storage initializer calls, nothing more."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket_arn}/*"]},
            ],
        },
        sort_keys=True,
    )


ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
REGION_ANNOTATION = "serving.kserve.io/s3-region"


def irsa_trust_policy(provider_arn: str, issuer: str, service_accounts: tuple[tuple[str, str], ...]) -> str:
    """Only these (namespace, name) ServiceAccounts of the cluster behind `issuer`, with a token for
    STS, may assume the role."""
    subjects = [f"system:serviceaccount:{namespace}:{name}" for namespace, name in service_accounts]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            # A list means any of them (IAM's multi-valued StringEquals).
                            f"{issuer}:sub": subjects[0] if len(subjects) == 1 else subjects,
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class IrsaReader:
    """An existing EKS cluster's predictor, as the reader of the bucket."""

    oidc: EksOidcProvider
    """The cluster's IAM OIDC provider."""
    service_accounts: tuple[tuple[str, str], ...]
    """(namespace, name) of each served model's Kubernetes ServiceAccount."""
    role_name: str
    """Name of the IAM role created for it (naming.predictor_role_name)."""
    region: str
    """The bucket's region, for the storage initializer."""


@dataclass(frozen=True)
class S3StoreArgs:
    """Inputs of the S3 model store."""

    bucket_prefix: str
    """Start of the bucket's name; S3 adds a unique suffix (bucket names are global)."""
    reader_role: pulumi.Input[str] | IrsaReader
    """Who may read the bucket: the name of the instance's IAM role, or an existing EKS cluster's
    predictor through IRSA."""


class S3Store(pulumi.ComponentResource):
    """A private, encrypted bucket and a read-only grant for the instance's role."""

    bucket: pulumi.Output[str]
    predictor_credentials: PredictorCredentials | None = None
    """Keyless: no key exists, so the predictor gets no credentials at all."""
    service_account_annotations: pulumi.Output[dict[str, str]] | None = None
    """With IRSA: the role's ARN (and the bucket's region) on the predictor's ServiceAccount."""
    predictor_egress: tuple[network_policy.Rule, ...]
    """S3's API over HTTPS, and the credentials' source: the instance's metadata service (IMDSv2) on
    a VM; with IRSA, STS over HTTPS (already allowed)."""

    def __init__(self, name: str, args: S3StoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("storage", "S3Store"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.predictor_egress = (network_policy.https_to_the_internet(),)
        if not isinstance(args.reader_role, IrsaReader):
            self.predictor_egress += (network_policy.to_address(METADATA_SERVER, 80),)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=args.bucket_prefix,
            # Every object is a tracked resource; this only matters for objects someone added by hand.
            force_destroy=True,
            opts=child,
        )
        private = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        encrypted = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        owned = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        reader = args.reader_role
        if isinstance(reader, IrsaReader):
            role = aws.iam.Role(
                f"{name}-reader-role",
                name=reader.role_name,
                description="servebox predictor: reads one model bucket, assumed through IRSA only",
                assume_role_policy=pulumi.Output.all(reader.oidc.arn, reader.oidc.issuer).apply(
                    lambda values: irsa_trust_policy(values[0], values[1], reader.service_accounts)
                ),
                opts=child,
            )
            role_name: pulumi.Input[str] = role.name
            self.service_account_annotations = role.arn.apply(
                lambda arn: {ROLE_ARN_ANNOTATION: arn, REGION_ANNOTATION: reader.region}
            )
        else:
            role_name = reader
        grant = aws.iam.RolePolicy(
            f"{name}-reader",
            name=pulumi.Output.concat(bucket.id, "-read"),
            role=role_name,
            policy=bucket.arn.apply(read_policy),
            opts=child,
        )
        self._ready = [private, encrypted, owned, grant]
        self._provider = self.get_provider("aws::")
        self._reader = reader
        self.bucket = bucket.id
        self.register_outputs({"bucket": self.bucket})

    def prefix_reader(
        self, name: str, prefix: str, reader_namespace: str, service_accounts: tuple[str, ...], parent: pulumi.Resource
    ) -> PrefixStore:
        """An attendee's corner (base.SharedStore), on EKS: an IAM role of their own that only their
        predictors' ServiceAccounts may assume (IRSA), listing and reading the objects under
        `prefix/` only."""
        reader = self._reader
        if not isinstance(reader, IrsaReader):
            raise ValueError("an S3 store has attendees only on EKS, through IRSA")
        child = pulumi.ResourceOptions(parent=parent, provider=self._provider)
        accounts = tuple((reader_namespace, account) for account in service_accounts)
        role = aws.iam.Role(
            f"{name}-reader-role",
            name=f"{reader.role_name[: 64 - len(prefix) - 1]}-{prefix}",
            description=f"servebox attendee {prefix}: reads its prefix, assumed through IRSA only",
            assume_role_policy=pulumi.Output.all(reader.oidc.arn, reader.oidc.issuer).apply(
                lambda values: irsa_trust_policy(values[0], values[1], accounts)
            ),
            opts=child,
        )
        self._ready.append(aws.iam.RolePolicy(
            f"{name}-reader",
            name=pulumi.Output.concat(self.bucket, f"-{prefix}-read"),
            role=role.name,
            policy=self.bucket.apply(lambda bucket: prefix_read_policy(bucket, prefix)),
            opts=child,
        ))
        region = reader.region
        return PrefixStore(self, prefix, annotations=role.arn.apply(lambda arn: {ROLE_ARN_ANNOTATION: arn, REGION_ANNOTATION: region}))

    def upload(
        self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource, aliases: Sequence[str] = ()
    ) -> StoredObject:
        """Upload `local_path` as `key`, once the bucket is private, encrypted and readable by the role."""
        stored = aws.s3.BucketObjectv2(
            resource_name,
            bucket=self.bucket,
            key=key,
            source=pulumi.FileAsset(local_path),
            content_type="application/octet-stream",
            opts=pulumi.ResourceOptions(parent=parent, provider=self._provider, depends_on=self._ready, aliases=[pulumi.Alias(name=alias) for alias in aliases]),
        )
        directory = key.rsplit("/", 1)[0]
        return StoredObject(stored, pulumi.Output.concat("s3://", self.bucket, "/", directory))
