"""The model store on AWS: a private S3 bucket that the instance's own role can read, keyless.

All public access is blocked, objects are encrypted at rest (SSE-S3) and owned by the bucket owner
(ACLs off); the instance role gets `s3:ListBucket` on the bucket and `s3:GetObject` on its objects,
nothing else. The predictor carries no key and no Secret: KServe's storage initializer uses boto3's
default credential chain, which on the instance ends at the role through IMDSv2 (hop limit 2), and
botocore's region chain, which ends at IMDS too (kserve/kserve python/storage/kserve_storage/
kserve_storage.py@v0.20.0 `_download_s3`). Every object is a resource of the stack.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import component_type
from components.storage.base import PredictorCredentials, StoredObject


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


@dataclass(frozen=True)
class S3StoreArgs:
    """Inputs of the S3 model store."""

    bucket_prefix: str
    """Start of the bucket's name; S3 adds a unique suffix (bucket names are global)."""
    reader_role: pulumi.Input[str]
    """Name of the IAM role that may read the bucket (the instance's)."""


class S3Store(pulumi.ComponentResource):
    """A private, encrypted bucket and a read-only grant for the instance's role."""

    bucket: pulumi.Output[str]
    predictor_credentials: PredictorCredentials | None = None
    """Keyless: the node's role reads the bucket, so the predictor gets no credentials at all."""

    def __init__(self, name: str, args: S3StoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("storage", "S3Store"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
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
        grant = aws.iam.RolePolicy(
            f"{name}-reader",
            name=pulumi.Output.concat(bucket.id, "-read"),
            role=args.reader_role,
            policy=bucket.arn.apply(read_policy),
            opts=child,
        )
        self._ready = [private, encrypted, owned, grant]
        self._provider = self.get_provider("aws::")
        self.bucket = bucket.id
        self.register_outputs({"bucket": self.bucket})

    def upload(self, resource_name: str, local_path: str, key: str, parent: pulumi.Resource) -> StoredObject:
        """Upload `local_path` as `key`, once the bucket is private, encrypted and readable by the role."""
        stored = aws.s3.BucketObjectv2(
            resource_name,
            bucket=self.bucket,
            key=key,
            source=pulumi.FileAsset(local_path),
            content_type="application/octet-stream",
            opts=pulumi.ResourceOptions(parent=parent, provider=self._provider, depends_on=self._ready),
        )
        directory = key.rsplit("/", 1)[0]
        return StoredObject(stored, pulumi.Output.concat("s3://", self.bucket, "/", directory))
