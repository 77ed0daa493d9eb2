"""servebox: settings -> cluster -> platform -> store -> model -> outputs. Wiring only."""

from typing import cast

import pulumi

from components import outputs, versions
from components.cluster import cloud_provider, create_cluster
from components.cluster.base import VmCluster
from components.cluster.vm import ssh_command
from components.config import VM_TARGETS, Serving, load_settings
from components.model import Models, ModelsArgs, ensure_sample_artifact
from components.model.own import own_spec
from components.platform import Platform, PlatformArgs, PlatformParts
from components.storage import create_store
from components.storage.base import SharedStore
from components.workshop import Attendee, AttendeeArgs, attendee_outputs

settings = load_settings()
artifact = ensure_sample_artifact() if settings.serve_sample else None
on_vm = settings.target in VM_TARGETS
cloud = cloud_provider(settings)
cluster = create_cluster(settings, cloud)
on_cluster = pulumi.ResourceOptions(providers=[cluster.provider])
platform = Platform(
    "platform",
    PlatformArgs(
        serving=settings.serving,
        deployment_mode=settings.deployment_mode,
        exposure=cluster.exposure,
        ingress_address=cluster.ingress_address,
        kubeconfig=cluster.kubeconfig,
        timeout_seconds=settings.install_timeout_seconds,
        ingress_domain=settings.existing.ingress_domain if settings.existing else None,
        install=PlatformParts(
            cert_manager=settings.existing.install_cert_manager,
            istio=settings.existing.install_istio,
            knative=settings.existing.install_knative,
        )
        if settings.existing
        else PlatformParts(),
    ),
    opts=on_cluster,
)
store = create_store(settings, cluster, cloud)
models_args = ModelsArgs(
    namespace=settings.model.namespace,
    sample=settings.model if settings.serve_sample else None,
    artifact=artifact,
    own=tuple(own_spec(model) for model in settings.own_models if model.attendee is None),
    serving=settings.serving,
    deployment_mode=settings.deployment_mode,
    store=store,
    ingress_address=platform.ingress_address,
    ingress_port=cluster.ingress_port,
    ingress_domain=platform.ingress_domain,
    serving_ready=platform.serving_ready,
    ingress_gateway=platform.ingress_gateway,
    smoke_test=settings.smoke_test,
    timeout_seconds=settings.install_timeout_seconds,
    access=platform.model_access,
    api_key=settings.model_api_key,
    kubeconfig=cluster.kubeconfig,
    network_policies=settings.network_policies,
)
models = Models("model", models_args, opts=on_cluster)
# A shared workshop: every attendee's corner on the same cluster and platform.
attendees: dict[str, Attendee] = {}
if settings.workshop is not None:
    for attendee in settings.workshop.attendees:
        attendees[attendee] = Attendee(
            f"attendee-{attendee}",
            AttendeeArgs(
                attendee=attendee,
                workshop=settings.workshop,
                models=models_args,
                store=cast(SharedStore, store),
                own=tuple(own_spec(model) for model in settings.own_models if model.attendee == attendee),
            ),
            opts=on_cluster,
        )
# The top-level outputs describe the first model (the sample, when it is served).
first = next(iter(models.served.values()))

pulumi.export(outputs.TARGET, settings.target.value)
pulumi.export(outputs.SERVING, settings.serving.value)
pulumi.export(outputs.DEPLOYMENT_MODE, settings.deployment_mode.value if settings.serving is Serving.KSERVE else None)
pulumi.export(outputs.INGRESS_ADDRESS, pulumi.Output.concat(platform.ingress_address, ":", cluster.ingress_port.apply(str)))
pulumi.export(outputs.KUBECONFIG, cluster.kubeconfig)
pulumi.export(outputs.KUBE_CONTEXT, cluster.context)
pulumi.export(outputs.ENDPOINT, first.endpoint.apply(lambda e: e.base_url))
pulumi.export(outputs.INFER_URL, first.endpoint.apply(lambda e: e.infer_url(first.name)))
pulumi.export(
    outputs.PREDICT_URL,
    None if settings.serving is Serving.SELDON else first.endpoint.apply(lambda e: e.predict_url(first.name)),
)
pulumi.export(outputs.PROTOCOL, first.protocol)
pulumi.export(outputs.HOST_HEADER, first.endpoint.apply(lambda e: e.host))
pulumi.export(outputs.CURL, models.curls[first.name])
pulumi.export(outputs.MODEL_NAME, first.name)
pulumi.export(outputs.MODEL_URI, first.model_uri)
pulumi.export(outputs.BUCKET, store.bucket)
pulumi.export(outputs.SERVICE_ACCOUNT, first.service_account)
pulumi.export(outputs.MODELS, models.outputs)
pulumi.export(outputs.API_KEY, models.api_key)
pulumi.export(outputs.ATTENDEES, {attendee: attendee_outputs(corner) for attendee, corner in attendees.items()} if attendees else None)
vm = cast(VmCluster, cluster) if on_vm else None
pulumi.export(outputs.SSH, ssh_command(settings.stack) if vm else None)
pulumi.export(outputs.SSH_PRIVATE_KEY, vm.ssh_private_key if vm else None)
pulumi.export(outputs.SSH_HOST_KEY, vm.ssh_host_key if vm else None)
pulumi.export(outputs.EXPIRES_AT, vm.expires_at if vm else None)
pulumi.export(outputs.VERSIONS, versions.summary(on_vm, settings.serving.value))
