"""What the Pulumi CLI and engine do around the program, mirrored for the offline tests.

Mocks (`pulumi.runtime.set_mocks`) run the program, but they skip what the CLI does before it
starts and what the engine refuses while it runs. This module is where the tests stand in for
both; `tests/ENGINE.md` lists each behaviour, the upstream file it follows and the test that pins
it. Read in pulumi/pulumi at v3.211.0, the oldest CLI the README supports; the functions named
here are unchanged in behaviour up to v3.259.0 (only moved from sdk/go/common/workspace/config.go to
pkg/workspace/config.go, and `missing` reported only when validating).

- `cli_config`: the stack config the program receives, as `mergeConfig` builds it for `up`,
  `preview`, `refresh` and `destroy` (`ValidateStackConfigAndApplyProjectConfig`, validate=true):
  every `Pulumi.yaml` default the stack does not set is set, a key without a default is required,
  every typed key is type-checked, each value in the string form the Python SDK reads.
- `EngineMonitor`: the mock resource monitor, plus the engine's refusal of a second resource with
  the same URN and its secret marking of outputs.
- `required_plugins`: the provider plugins the engine installs before an update.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
PROJECT_FILE = REPO / "Pulumi.yaml"


class EngineError(Exception):
    """What the CLI or the engine prints when it refuses a stack before or during an update."""


@dataclass(frozen=True)
class CliConfig:
    """The merged stack config, as the language host hands it to the program."""

    values: dict[str, str]
    """Full key (`servebox:target`, `gcp:project`) -> the string the SDK reads (PULUMI_CONFIG)."""
    secret_keys: frozenset[str]
    """Full keys whose value is a secret (PULUMI_CONFIG_SECRET_KEYS)."""


@dataclass(frozen=True)
class _Value:
    """A config.Value (sdk/go/common/resource/config/value.go): its text, and whether it is secure
    or an object (JSON text)."""

    text: str
    secure: bool = False
    object: bool = False


def project_file() -> dict[str, Any]:
    return yaml.safe_load(PROJECT_FILE.read_text())


def stack_file(stack: str, root: Path | None = None) -> Path:
    """stacks/Pulumi.<stack>.yaml (Pulumi.yaml's stackConfigDir) of the repository, or of a copy of it."""
    directory = project_file().get("stackConfigDir", ".")
    return (REPO if root is None else root) / directory / f"Pulumi.{stack}.yaml"


def shipped_stacks() -> list[str]:
    """The stack names this repository ships a stack file for."""
    directory = REPO / project_file().get("stackConfigDir", ".")
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in directory.glob("Pulumi.*.yaml"))


def _go_json(value: Any) -> str:
    """json.Marshal's text: sorted keys, no spaces, whole floats as integers (Go float64)."""

    def simplify(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, list):
            return [simplify(entry) for entry in item]
        if isinstance(item, dict):
            return {str(key): simplify(entry) for key, entry in item.items()}
        return item

    return json.dumps(simplify(value), sort_keys=True, separators=(",", ":"))


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_contains_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_secure(item) for item in value)
    return False


def _from_stack_file(value: Any) -> _Value:
    """A YAML value of a stack file as config.object.MarshalString keeps it (object.go): a string
    as it is; a bool or number as JSON text; a list or map as JSON text marked object."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        raise EngineError("tests cannot decrypt a `secure:` value in a stack file; pass it as a secret override")
    if isinstance(value, str):
        return _Value(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return _Value(_go_json(value))
    if _contains_secure(value):
        raise EngineError("tests cannot decrypt a `secure:` leaf in a stack file; pass it as a secret override")
    return _Value(_go_json(value), object=True)


def _from_override(value: Any, secret: bool) -> _Value:
    """A test's override, as the user would have put it there: a str as `pulumi config set KEY VALUE`
    (or `--secret`) stores it; a bool, number, list or map as the stack file's YAML holds it (what
    `pulumi config set --path` or an edit of the file writes)."""
    if isinstance(value, str):
        return _Value(value, secure=secret)
    converted = _from_stack_file(value)
    return _Value(converted.text, secure=secret, object=converted.object)


def _key(project: str, key: str) -> str:
    """parseConfigKey: a key without a namespace is the project's."""
    return key if ":" in key else f"{project}:{key}"


def _create_config_value(raw: Any) -> _Value:
    """createConfigValue (pkg/workspace/config.go): a string, int or bool default becomes
    fmt.Sprintf("%v") text (`8` -> "8", `true` -> "true", "" -> ""); anything else JSON, an object."""
    if isinstance(raw, bool):
        return _Value("true" if raw else "false")
    if isinstance(raw, (str, int)):
        return _Value(str(raw))
    return _Value(_go_json(raw), object=True)


def _atoi(text: str) -> bool:
    """strconv.Atoi: an optional sign and decimal digits, within int64."""
    return bool(re.fullmatch(r"[+-]?[0-9]+", text)) and -(2**63) <= int(text) < 2**63


def validate_config_value(type_name: str, items: Mapping[str, Any] | None, value: Any) -> bool:
    """ValidateConfigValue (sdk/go/common/workspace/project.go)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, str) and _atoi(value)
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(validate_config_value(items["type"], items.get("items"), item) for item in value)


def _full_type_name(type_name: str, items: Mapping[str, Any] | None) -> str:
    """InferFullTypeName: array<object>, array<array<string>>, ..."""
    if items is not None:
        return f"array<{_full_type_name(items['type'], items.get('items'))}>"
    return type_name


def _missing_error(stack: str, keys: list[str]) -> EngineError:
    """missingStackConfigurationKeysError and formatMissingKeys."""
    keys = sorted(keys)
    if len(keys) == 1:
        listed = f"'{keys[0]}'"
    else:
        listed = ", ".join(f"'{key}'" for key in keys[:-2])
        listed = (listed + ", " if listed else "") + f"'{keys[-2]}' and '{keys[-1]}'"
    return EngineError(f"Stack '{stack}' is missing configuration value{'s' if len(keys) > 1 else ''} {listed}")


def cli_config(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    secret_keys: Iterable[str] = (),
    from_stack_file: bool = True,
    project: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> CliConfig:
    """The config `pulumi up --stack STACK` gives the program.

    Starts from stacks/Pulumi.<stack>.yaml when it exists (a new stack starts empty, as after
    `pulumi stack init`), sets each of `overrides` on it (keys without a namespace are the project's;
    `secret_keys` names those set with --secret), then runs mergeConfig with validation. Raises
    EngineError with the CLI's own message where the CLI would refuse the stack. `root` is a copy
    of the repository whose stack files to read (a work directory the tools wrote)."""
    project = project_file() if project is None else project
    name = str(project["name"])
    schema: Mapping[str, Mapping[str, Any]] = project.get("config") or {}
    secrets = {_key(name, key) for key in secret_keys}

    stack_config: dict[str, _Value] = {}
    path = stack_file(stack, root)
    if from_stack_file and path.is_file():
        document = yaml.safe_load(path.read_text()) or {}
        for key, value in (document.get("config") or {}).items():
            if ":" not in key:
                raise EngineError(
                    f"could not parse {key} as a configuration key "
                    "(configuration keys should be of the form `<namespace>:<name>`)"
                )
            stack_config[key] = _from_stack_file(value)
    for key, value in (overrides or {}).items():
        full = _key(name, key)
        stack_config[full] = _from_override(value, full in secrets)
    unknown_secrets = secrets - set(stack_config)
    if unknown_secrets:
        raise ValueError(f"secret_keys names keys that are not set: {sorted(unknown_secrets)}")

    # mergeConfig: every declared key the stack does not set takes its default (or value).
    missing = []
    for declared in sorted(schema):
        spec = schema[declared] or {}
        full = _key(name, declared)
        if full in stack_config:
            continue
        if "default" in spec and spec["default"] is not None:
            stack_config[full] = _create_config_value(spec["default"])
        elif "value" in spec and spec["value"] is not None:
            stack_config[full] = _create_config_value(spec["value"])
        elif full.startswith(f"{name}:"):
            missing.append(declared)
    if missing:
        raise _missing_error(stack, missing)

    # validateStackConfigValues: the secret rule, then the declared type of each typed key.
    for declared in sorted(schema):
        spec = schema[declared] or {}
        value = stack_config[_key(name, declared)]
        if spec.get("secret") and not value.secure:
            raise EngineError(f"Stack '{stack}' with configuration key '{declared}' must be encrypted as it's secret")
        if "type" not in spec:
            continue
        content: Any = json.loads(value.text) if value.object else value.text
        if not validate_config_value(spec["type"], spec.get("items"), content):
            raise EngineError(
                f"Stack '{stack}' with configuration key '{declared}' must be of type "
                f"'{_full_type_name(spec['type'], spec.get('items'))}'"
            )
    return CliConfig(
        values={key: value.text for key, value in stack_config.items()},
        secret_keys=frozenset(key for key, value in stack_config.items() if value.secure),
    )


def project_settings(stack: str, overrides: Mapping[str, Any] | None = None, **options: Any):
    """components.config.Settings for a stack, from the config the CLI builds (cli_config), read the
    way the program's load_settings reads it. For config tests that need Settings without a run."""
    from components import config

    built = cli_config(stack, overrides, secret_keys=options.pop("secret_keys", ()))
    return config.settings_from_config(
        built.values, project=str(project_file()["name"]), stack=stack, secret_keys=built.secret_keys, **options
    )


# --- plugins -------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Plugin:
    name: str
    version: str


# packagesWithoutPlugins (sdk/python/cmd/pulumi-language-python/main.go): Pulumi packages the
# Python host knows carry no plugin.
_PACKAGES_WITHOUT_PLUGINS = {"pulumi", "pulumi-policy", "pulumi_policy", "pulumi-esc-sdk", "pulumi_esc_sdk"}


def required_plugins(distributions: Iterable[metadata.Distribution] | None = None) -> set[Plugin]:
    """The resource plugins the engine installs and loads before an update (pkg/engine/plugins.go,
    GetRequiredPlugins, answered by the Python host's determinePulumiPackages and
    determinePackageDependency): every installed package that has a `pulumi-plugin.json` in its
    module or whose name starts with pulumi- / pulumi_, whether the program imports it or not."""
    found: set[Plugin] = set()
    for distribution in metadata.distributions() if distributions is None else distributions:
        package = distribution.metadata["Name"]
        if package is None or package in _PACKAGES_WITHOUT_PLUGINS:
            continue
        module = package.replace("-", "_")
        plugin_json = Path(str(distribution.locate_file(f"{module}/pulumi-plugin.json")))
        described = json.loads(plugin_json.read_text()) if plugin_json.is_file() else None
        if described is None and not re.match(r"pulumi[-_]", package):
            continue
        if described is not None and not described.get("resource", False):
            continue  # `resource: false`: the package says it has no plugin
        described = described or {}
        name = described.get("name") or re.sub(r"^pulumi-", "", package)
        version = described.get("version") or distribution.version
        found.add(Plugin(name, version if version.startswith("v") else f"v{version}"))
    return found
