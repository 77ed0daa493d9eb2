"""A shared workshop: on the stack's one cluster and platform, every attendee a corner of their own.

Per attendee (`attendees`): a namespace `ws-<id>` with the sample model served from it, the
model layer's own NetworkPolicies (deny-all, requests from the gateway, the download from the
store: nothing from or to another attendee) and Pod Security labels; a ResourceQuota and a
LimitRange (CPU and memory requests, pods, services); store keys of their own, a MinIO user whose
policy reads their prefix `<id>/` only, or on GKE and EKS a cloud identity of their own bound
to their predictors (each store's `prefix_reader`, storage/base.py SharedStore); and a
ServiceAccount `attendee` whose Role reaches their namespace only, for the kubeconfig the tools
hand out with a token that expires with the workshop (servebox/shared_workshop.py). Every resource is
the attendee's own and named after them, so adding or removing one touches no one else.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import WorkshopSettings
from components.model import Models, ModelsArgs
from components.model.served import ModelSpec
from components.naming import ATTENDEE_ACCOUNT, component_type, predictor_service_account, standard_labels
from components.storage.base import SharedStore

ACCOUNT = ATTENDEE_ACCOUNT
POD_LIMIT = 8
SERVICE_LIMIT = 24
"""Knative makes several Services per revision (the revision's, its private one, the route's)."""
CONTAINER_DEFAULTS = {
    "defaultRequest": {"cpu": "25m", "memory": "64Mi"},
    "default": {"cpu": "1", "memory": "512Mi"},
}
"""What a container that sets no resources gets (Knative's queue-proxy sets no memory): counted in
the quota, small."""
# What an attendee may do in their namespace: serve and replace models, and read what they run.
# No Secrets (their store keys are there), no RBAC, quota or NetworkPolicy objects, nothing
# cluster-wide: the Role is namespaced and bound in that namespace only.
ROLE_RULES = (
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "events", "configmaps"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["serving.knative.dev"], "resources": ["services", "revisions", "routes", "configurations"],
     "verbs": ["get", "list", "watch"]},
)


@dataclass(frozen=True)
class AttendeeArgs:
    """Inputs of one attendee's corner."""

    attendee: str
    """Their id: names the namespace (`ws-<id>`) and the store prefix (`<id>/`)."""
    workshop: WorkshopSettings
    models: ModelsArgs
    """The stack's models' inputs (platform, gateway, smoke test); namespace, store and models are
    replaced by the attendee's own."""
    store: SharedStore
    """The stack's store, of which the attendee gets a prefix and a reader of their own."""
    own: tuple[ModelSpec, ...] = ()
    """Models the organiser serves for this attendee (`models` entries with their `attendee`)."""


class Attendee(pulumi.ComponentResource):
    """One attendee's namespace, quota, identity, store keys and sample model."""

    namespace: str
    models: Models

    def __init__(self, name: str, args: AttendeeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(component_type("workshop", "Attendee"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = namespace = args.workshop.namespace(args.attendee)
        sample = dataclasses.replace(args.models.sample, namespace=namespace) if args.models.sample else None
        own = tuple(dataclasses.replace(spec, settings=dataclasses.replace(spec.settings, namespace=namespace)) for spec in args.own)
        predictors = tuple(predictor_service_account(model.name) for model in (*((sample,) if sample else ()), *(s.settings for s in own)))
        store = args.store.prefix_reader(f"{name}-store", args.attendee, namespace, predictors, self)
        self.models = Models(
            f"{name}-model",
            dataclasses.replace(args.models, namespace=namespace, sample=sample, own=own, store=store),
            opts=child,
        )
        # The namespace is the models' (created by them): everything here goes in after it.
        inside = pulumi.ResourceOptions(parent=self, depends_on=[self.models.namespace_resource])
        labels = standard_labels("workshop-attendee")
        meta = k8s.meta.v1.ObjectMetaArgs(name=ACCOUNT, namespace=namespace, labels=labels)
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta,
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota(args.workshop)),
            opts=inside,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta,
            spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(type="Container", default=CONTAINER_DEFAULTS["default"], default_request=CONTAINER_DEFAULTS["defaultRequest"])]),
            opts=inside,
        )
        account = k8s.core.v1.ServiceAccount(f"{name}-account", metadata=meta, opts=inside)
        role = k8s.rbac.v1.Role(f"{name}-role", metadata=meta, rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=r["apiGroups"], resources=r["resources"], verbs=r["verbs"]) for r in ROLE_RULES], opts=inside)
        k8s.rbac.v1.RoleBinding(
            f"{name}-role-binding",
            metadata=meta,
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=namespace)],
            opts=inside,
        )
        self.register_outputs({"namespace": namespace, "models": self.models.outputs})


def quota(workshop: WorkshopSettings) -> dict[str, str]:
    """What one attendee's pods may request in all."""
    return {
        "requests.cpu": workshop.cpu,
        "requests.memory": workshop.memory,
        "pods": str(POD_LIMIT),
        "services": str(SERVICE_LIMIT),
    }


def attendee_outputs(corner: Attendee) -> pulumi.Output[dict]:
    """The `attendees` output of one attendee: where they work, and their sample's request."""
    sample = next(iter(corner.models.served.values()), None)
    return pulumi.Output.all(corner.models.outputs).apply(
        lambda values: {
            "namespace": corner.namespace,
            "service_account": ACCOUNT,
            **({key: values[0][sample.name][key] for key in ("endpoint", "host_header", "curl")} if sample else {}),
            # Every model served in their namespace (the sample, and those served for them), as `models` gives them.
            "models": values[0],
        }
    )
