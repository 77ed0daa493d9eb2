"""servebox: settings -> cluster -> platform -> outputs. Wiring only; components create resources."""

import pulumi

from components import outputs, versions
from components.cluster import create_cluster
from components.config import load_settings
from components.platform import Platform, PlatformArgs

settings = load_settings()
cluster = create_cluster(settings)
platform = Platform(
    "platform",
    PlatformArgs(
        deployment_mode=settings.deployment_mode,
        exposure=cluster.exposure,
        ingress_ip=cluster.ingress_ip,
        kubeconfig=cluster.kubeconfig,
        timeout_seconds=settings.install_timeout_seconds,
    ),
    opts=pulumi.ResourceOptions(providers=[cluster.provider]),
)

pulumi.export(outputs.TARGET, settings.target.value)
pulumi.export(outputs.SERVING, settings.serving.value)
pulumi.export(outputs.DEPLOYMENT_MODE, settings.deployment_mode.value)
pulumi.export(
    outputs.INGRESS_ADDRESS,
    pulumi.Output.concat(cluster.ingress_ip, ":", cluster.ingress_port.apply(str)),
)
pulumi.export(outputs.KUBECONFIG, cluster.kubeconfig)
pulumi.export(outputs.KUBE_CONTEXT, cluster.context)
pulumi.export(outputs.VERSIONS, versions.summary())
