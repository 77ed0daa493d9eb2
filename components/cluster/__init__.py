"""Where Kubernetes runs: every target yields the same `Cluster` contract (see base.py)."""

from components.cluster.base import Cluster, IngressExposure
from components.cluster.kind import KindCluster, KindClusterArgs
from components.config import Settings, Target
from components.naming import kind_cluster_name

__all__ = ["Cluster", "IngressExposure", "KindCluster", "KindClusterArgs", "create_cluster"]


def create_cluster(settings: Settings) -> Cluster:
    """The cluster of the configured target (config.py has already refused targets not built yet)."""
    if settings.target is Target.KIND:
        return KindCluster(
            "cluster",
            KindClusterArgs(
                cluster_name=kind_cluster_name(settings.project, settings.stack),
                host_port=settings.kind.host_port,
                store_host_port=settings.kind.store_host_port,
            ),
        )
    raise ValueError(f"target {settings.target.value!r} has no cluster implementation")
