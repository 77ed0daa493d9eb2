"""Where a model given by `uri` may come from: the stack's own store, and nothing else unless named.

A predictor downloads whatever its `storageUri` names and the runtime unpickles it. A local `path`
goes through the pickle check before servebox uploads it; a `uri` cannot be read here, so it is held
to the places the stack's identity was made to read: the store's scheme, the stack's own bucket (or
one the user names in `modelUriBuckets`, which the identity must already be able to read: servebox
grants nothing on it), and a path inside the bucket. `http(s)://` (no identity, no check) and
traversal (`..`, `.`, empty or encoded parts) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.config.schema import _Reader
from components.config.settings import StoreKind

SCHEMES = {StoreKind.MINIO: "s3", StoreKind.GCS: "gs", StoreKind.S3: "s3"}
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Parts that could walk out of a key or that a store would read as something else after decoding.
_ENCODED = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


@dataclass(frozen=True)
class OwnBucket:
    """The stack's bucket, as far as config can know it before the cloud names it."""

    name: str
    """The full name, or for S3 the prefix the provider adds a unique suffix to."""
    is_prefix: bool = False

    def holds(self, bucket: str) -> bool:
        return bucket.startswith(self.name) if self.is_prefix else bucket == self.name

    def __str__(self) -> str:
        return f"{self.name}<unique suffix>" if self.is_prefix else self.name


def read_uri_buckets(read: _Reader, store: StoreKind | None) -> tuple[str, ...] | None:
    """modelUriBuckets: the other buckets `models[].uri` may name, checked as bucket names."""
    given = read.value("modelUriBuckets")
    names = tuple(name.strip() for name in given.split(",") if name.strip())
    bad = [name for name in names if not _BUCKET.fullmatch(name) or ".." in name]
    if bad:
        read.problems.append(
            f"modelUriBuckets: got {given!r} ({bad[0]!r}: not a bucket name); allowed: comma-separated bucket names "
            "(3-63 lower-case letters, digits, '-' and '.'). Fix: pulumi config set modelUriBuckets <bucket>"
        )
        return None
    if names and store is StoreKind.MINIO:
        read.problems.append(
            f"modelUriBuckets: got {given!r}, but this stack's store is minio, whose credentials for the predictor "
            "read the stack's bucket only; allowed: empty with store minio. Fix: pulumi config rm modelUriBuckets"
        )
        return None
    return names


def uri_problem(at: str, uri: str, store: StoreKind, own: OwnBucket, others: tuple[str, ...]) -> str | None:
    """Why `models[i].uri` may not be served, or None when it may."""
    scheme = SCHEMES[store]
    given, rest = uri.partition("://")[0], uri.partition("://")[2]
    if not rest or given != scheme:
        return (
            f"{at}: got {uri!r}; allowed: a {scheme}:// URI (this stack's store is {store.value}): servebox serves "
            "models only from buckets the stack's identity reads, never over http(s) or from another cloud. "
            f"Fix: set {at.rsplit('.', 1)[0]}.path to a local copy instead (servebox checks and uploads it)"
        )
    bucket, _, key = rest.partition("/")
    parts = key[:-1].split("/") if key.endswith("/") else key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or "\\" in key or _ENCODED.search(key):
        return (
            f"{at}: got {uri!r}; allowed: {scheme}://<bucket>/<path to the model> with no '.', '..', empty, "
            "encoded or backslashed parts in the path. Fix: write the object's path as the bucket lists it"
        )
    if own.holds(bucket) or bucket in others:
        return None
    named = ", ".join(others) or "none"
    return (
        f"{at}: got {uri!r}, in bucket {bucket!r}; allowed: this stack's bucket ({own}) or one named in "
        f"modelUriBuckets (now: {named}). Fix: pulumi config set modelUriBuckets {','.join((*others, bucket))} "
        "(only if the stack's identity can read that bucket: servebox grants nothing on it)"
    )
