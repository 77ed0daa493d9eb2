"""Stack output names: the contract between `__main__.py`, the tools that read outputs (servebox/) and tests."""

TARGET = "target"
SERVING = "serving"
DEPLOYMENT_MODE = "deployment_mode"
INGRESS_ADDRESS = "ingress_address"
KUBECONFIG = "kubeconfig"
KUBE_CONTEXT = "kube_context"
VERSIONS = "versions"

# The first served model: the sample when it is served, else the first of `models`.
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
MODELS = "models"
"""Every served model by name: endpoint, infer_url, predict_url, protocol, host_header, curl,
model_uri, format (what `servebox serve` and `serve()` build their handles from), and canary: null,
or the new version on trial (percent, model_uri, and in Knative mode the Host headers each version
answers at alone: host_header the canary's, current_host_header the current version's)."""
MODEL_FIELDS = ("endpoint", "infer_url", "predict_url", "protocol", "host_header", "curl", "model_uri", "format", "canary")

ATTENDEES = "attendees"
"""A shared workshop's attendees by id: namespace, service_account, endpoint, host_header, curl
(their sample's), and models (every model in their namespace, as `models` gives them); null
without attendees."""
API_KEY = "api_key"
"""The key every request to the models must carry in x-api-key (modelAuth); secret; null without it."""

# VM targets (null elsewhere).
SSH = "ssh"
"""A command that opens a shell on the VM (scripts/ssh.sh <stack>)."""
SSH_PRIVATE_KEY = "ssh_private_key"
"""The SSH key that opens the VM; secret (scripts/ssh.sh writes it to a 0600 file)."""
SSH_HOST_KEY = "ssh_host_key"
"""The VM's SSH host key as read at first contact: scripts/ssh.sh pins it."""
EXPIRES_AT = "expires_at"
"""When the TTL ends the VM (ISO 8601, UTC); null without a TTL."""

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
    MODELS,
    API_KEY,
    ATTENDEES,
    SSH,
    SSH_PRIVATE_KEY,
    SSH_HOST_KEY,
    EXPIRES_AT,
    VERSIONS,
)
"""Every output a stack exports, in the order the program exports them."""

SECRET_OUTPUTS = frozenset({KUBECONFIG, SSH_PRIVATE_KEY, API_KEY})
"""Outputs that must always be Pulumi secrets."""
