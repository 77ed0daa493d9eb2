"""One way to install a pinned chart: a Helm release that Pulumi tracks and waits on.

`helm.v3.Release` (not `helm.v4.Chart`) because servebox leans on what a real release does: chart
hooks run (cert-manager's startupapicheck proves its webhook serves), `--wait` semantics hold every
release until its workloads are ready, and `atomic` uninstalls a failed first install so that the
next `pulumi up` starts clean instead of hitting "another operation is in progress".
https://www.pulumi.com/registry/packages/kubernetes/api-docs/helm/v3/release/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.versions import Chart


def release(
    resource_name: str,
    chart: Chart,
    namespace: k8s.core.v1.Namespace,
    *,
    values: pulumi.Input[Mapping[str, Any]],
    timeout_seconds: int,
    opts: pulumi.ResourceOptions,
    release_name: str = "",
    skip_await: bool = False,
) -> k8s.helm.v3.Release:
    """A Helm release of `chart` at its pinned version in `namespace`, named `release_name` (the
    chart's own name when empty), awaited until ready (unless `skip_await`: then whoever needs it
    waits on what it really needs, as the address probe does)."""
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            name=release_name or chart.name.rsplit("/", 1)[-1],
            chart=chart.name,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
            namespace=namespace.metadata.name,
            # Namespaces are Pulumi resources of their own, so destroy removes them too.
            create_namespace=False,
            values=values,
            timeout=timeout_seconds,
            atomic=True,
            wait_for_jobs=not skip_await,
            skip_await=skip_await,
        ),
        opts=opts,
    )

