"""Stack output names: the contract between `__main__.py`, the scripts that read outputs and tests."""

TARGET = "target"
SERVING = "serving"
DEPLOYMENT_MODE = "deployment_mode"
INGRESS_ADDRESS = "ingress_address"
KUBECONFIG = "kubeconfig"
KUBE_CONTEXT = "kube_context"
VERSIONS = "versions"

# The model (issue 4 adds these once the sample model is served).
ENDPOINT = "endpoint"
INFER_URL = "infer_url"
PREDICT_URL = "predict_url"
HOST_HEADER = "host_header"
CURL = "curl"
MODEL_NAME = "model_name"
MODEL_URI = "model_uri"
BUCKET = "bucket"
SERVICE_ACCOUNT = "service_account"

PLATFORM_OUTPUTS = (TARGET, SERVING, DEPLOYMENT_MODE, INGRESS_ADDRESS, KUBECONFIG, KUBE_CONTEXT, VERSIONS)
"""Every output a stack exports, in the order `pulumi stack output` lists them."""

SECRET_OUTPUTS = frozenset({KUBECONFIG})
"""Outputs that must always be Pulumi secrets."""
