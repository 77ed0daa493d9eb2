"""Typed stack configuration: the one module that reads Pulumi config.

`load_settings()` turns the stack's config into a frozen `Settings`, validated once, before any
resource exists. Every bad value is reported in the same error, each line naming the key, the value
given, what is allowed and the `pulumi config set` command that fixes it. Keys nobody declared are
errors too, so that a typo is never silently ignored.

The schema (keys, types, defaults, descriptions) lives in Pulumi.yaml's `config:` block only; this
module reads it from there rather than repeating it.

The package holds one concern a module: schema.py (the schema and the reader), settings.py (the
typed settings), targets.py (keys per target, the VM targets' rules), networks.py (the CIDR and TTL
keys), models.py (the `models` list), existing.py (the existing target), workshop.py and sizing.py
(a shared workshop's attendees, and the machine they need), quantities.py, and
reader.py (parse_settings, load_settings). This module is their public face.
"""

from __future__ import annotations

from components.config import settings as _settings
from components.config.existing import is_host_name, kubeconfig_problems
from components.config.quantities import cpu_millicores, memory_bytes
from components.config.reader import (
    RESERVED_NAMESPACES,
    STACK_NAME_MAX_FOR_NAMES,
    load_settings,
    parse_settings,
    settings_from_config,
)
from components.config.schema import AUTO, PROJECT_FILE, ConfigError, ConfigKey, config_schema, project_name
from components.config.settings import *  # noqa: F403 (its __all__: the typed settings, all public)
from components.config.targets import (
    AWS_REGION_ENV,
    GCP_PROJECT_ENV,
    GCP_REGION_ENV,
    KEY_SERVING,
    KEY_TARGETS,
    aws_architecture,
    gcp_architecture,
    provider_setting,
)

__all__ = [
    *_settings.__all__,
    "AUTO",
    "AWS_REGION_ENV",
    "ConfigError",
    "ConfigKey",
    "GCP_PROJECT_ENV",
    "GCP_REGION_ENV",
    "KEY_SERVING",
    "KEY_TARGETS",
    "PROJECT_FILE",
    "RESERVED_NAMESPACES",
    "STACK_NAME_MAX_FOR_NAMES",
    "aws_architecture",
    "config_schema",
    "cpu_millicores",
    "gcp_architecture",
    "is_host_name",
    "kubeconfig_problems",
    "load_settings",
    "memory_bytes",
    "parse_settings",
    "project_name",
    "provider_setting",
    "settings_from_config",
]
