"""servebox: settings -> cluster -> platform -> store -> model -> outputs. Wiring only."""

import pulumi

from components import outputs, versions
from components.cluster import create_cluster
from components.config import load_settings
from components.model import MnistModel, MnistModelArgs, ensure_sample_artifact
from components.naming import bucket_name
from components.platform import Platform, PlatformArgs
from components.storage import MinioStore, MinioStoreArgs

settings = load_settings()
artifact = ensure_sample_artifact()
cluster = create_cluster(settings)
on_cluster = pulumi.ResourceOptions(providers=[cluster.provider])
platform = Platform(
    "platform",
    PlatformArgs(
        deployment_mode=settings.deployment_mode,
        exposure=cluster.exposure,
        ingress_ip=cluster.ingress_ip,
        kubeconfig=cluster.kubeconfig,
        timeout_seconds=settings.install_timeout_seconds,
    ),
    opts=on_cluster,
)
store = MinioStore(
    "store",
    MinioStoreArgs(bucket=bucket_name(settings.project, settings.stack), host_port=settings.kind.store_host_port),
    opts=on_cluster,
)
model = MnistModel(
    "model",
    MnistModelArgs(
        settings=settings.model,
        deployment_mode=settings.deployment_mode,
        artifact=artifact,
        store=store,
        ingress_ip=cluster.ingress_ip,
        ingress_port=cluster.ingress_port,
        serving_ready=platform.serving_ready,
        ingress_gateway=platform.ingress_gateway,
        smoke_test=settings.smoke_test,
        timeout_seconds=settings.install_timeout_seconds,
    ),
    opts=on_cluster,
)

pulumi.export(outputs.TARGET, settings.target.value)
pulumi.export(outputs.SERVING, settings.serving.value)
pulumi.export(outputs.DEPLOYMENT_MODE, settings.deployment_mode.value)
pulumi.export(outputs.INGRESS_ADDRESS, pulumi.Output.concat(cluster.ingress_ip, ":", cluster.ingress_port.apply(str)))
pulumi.export(outputs.KUBECONFIG, cluster.kubeconfig)
pulumi.export(outputs.KUBE_CONTEXT, cluster.context)
pulumi.export(outputs.ENDPOINT, model.endpoint.apply(lambda e: e.base_url))
pulumi.export(outputs.INFER_URL, model.infer_url)
pulumi.export(outputs.PREDICT_URL, model.predict_url)
pulumi.export(outputs.PROTOCOL, model.protocol)
pulumi.export(outputs.HOST_HEADER, model.endpoint.apply(lambda e: e.host))
pulumi.export(outputs.CURL, model.curl)
pulumi.export(outputs.MODEL_NAME, settings.model.name)
pulumi.export(outputs.MODEL_URI, model.model_uri)
pulumi.export(outputs.BUCKET, store.bucket)
pulumi.export(outputs.SERVICE_ACCOUNT, model.service_account)
pulumi.export(outputs.VERSIONS, versions.summary())
