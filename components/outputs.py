"""Stack output names: the contract between `__main__.py`, the scripts that read outputs and tests."""

TARGET = "target"
SERVING = "serving"
DEPLOYMENT_MODE = "deployment_mode"
INGRESS_ADDRESS = "ingress_address"
KUBECONFIG = "kubeconfig"
KUBE_CONTEXT = "kube_context"
VERSIONS = "versions"

# The sample model.
ENDPOINT = "endpoint"
INFER_URL = "infer_url"
PREDICT_URL = "predict_url"
PROTOCOL = "protocol"
"""The protocol the clients speak by default: the model's own (its InferenceService's protocolVersion)."""
HOST_HEADER = "host_header"
CURL = "curl"
MODEL_NAME = "model_name"
MODEL_URI = "model_uri"
BUCKET = "bucket"
SERVICE_ACCOUNT = "service_account"

ALL_OUTPUTS = (
    TARGET,
    SERVING,
    DEPLOYMENT_MODE,
    INGRESS_ADDRESS,
    KUBECONFIG,
    KUBE_CONTEXT,
    ENDPOINT,
    INFER_URL,
    PREDICT_URL,
    PROTOCOL,
    HOST_HEADER,
    CURL,
    MODEL_NAME,
    MODEL_URI,
    BUCKET,
    SERVICE_ACCOUNT,
    VERSIONS,
)
"""Every output a stack exports, in the order the program exports them."""

SECRET_OUTPUTS = frozenset({KUBECONFIG})
"""Outputs that must always be Pulumi secrets."""
