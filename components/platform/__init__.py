"""Add-ons installed on any cluster: cert-manager, Istio, Knative Serving and KServe."""

from components.platform.platform import Platform, PlatformArgs, PlatformParts

__all__ = ["Platform", "PlatformArgs", "PlatformParts"]
