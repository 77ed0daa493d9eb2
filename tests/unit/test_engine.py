"""The tests' stand-ins for the Pulumi CLI and engine (tests/engine.py, tests/harness.py) do what the
real ones do, each pinned to the upstream behaviour tests/ENGINE.md names.

What this cannot prove: that the CLI at a later version still behaves so. The functions mirrored are
named in tests/ENGINE.md so that a pin move can be checked against them.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from components import config
from tests import engine
from tests.engine import EngineError, cli_config
from tests.harness import run_program

SCHEMA = config.config_schema()


# --- config: mergeConfig, createConfigValue, validateStackConfigValue -----------------------------


def test_every_declared_default_is_on_the_stack_the_program_gets():
    built = cli_config("kind")
    assert {key for key in built.values if key.startswith("servebox:")} == {f"servebox:{key}" for key in SCHEMA}
    assert built.secret_keys == frozenset()


def test_defaults_arrive_as_the_strings_the_sdk_reads():
    values = cli_config("kind").values
    assert values["servebox:target"] == "kind"
    assert values["servebox:vmTtlHours"] == "8"  # an integer default: fmt.Sprintf("%v")
    assert values["servebox:allowWorldAdminAccess"] == "false"  # a boolean default
    assert values["servebox:installIstio"] == "true"
    assert values["servebox:kubeconfig"] == ""  # an empty-string default is set too
    assert values["servebox:models"] == "[]"  # a list default: JSON, an object value
    assert values["servebox:modelCpuLimit"] == "1"


def test_the_stack_file_wins_over_defaults_and_a_config_set_over_the_file():
    assert cli_config("gcp").values["servebox:target"] == "gcp"
    assert cli_config("gcp", {"target": "aws"}).values["servebox:target"] == "aws"


def test_yaml_values_of_a_stack_file_become_their_json_text():
    assert engine._from_stack_file(8082).text == "8082"
    assert engine._from_stack_file(True).text == "true"
    assert engine._from_stack_file("8082").text == "8082"
    listed = engine._from_stack_file([{"path": "m.joblib", "name": "churn", "minReplicas": 2}])
    assert (listed.text, listed.object) == ('[{"minReplicas":2,"name":"churn","path":"m.joblib"}]', True)


def test_a_stack_file_key_needs_its_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text("config:\n  target: gcp\n")
    monkeypatch.setattr(engine, "REPO", tmp_path)
    with pytest.raises(EngineError, match=r"could not parse target as a configuration key"):
        cli_config("bad")


def _project(config_block: dict) -> dict:
    return {"name": "servebox", "config": config_block}


def test_a_declared_key_without_default_is_required():
    project = _project({"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "integer"}, "d": {"default": 1}})
    with pytest.raises(EngineError) as error:
        cli_config("new", project=project, from_stack_file=False)
    assert str(error.value) == "Stack 'new' is missing configuration values 'a', 'b' and 'c'"
    with pytest.raises(EngineError) as error:
        cli_config("new", {"a": "x", "b": "y"}, project=project, from_stack_file=False)
    assert str(error.value) == "Stack 'new' is missing configuration value 'c'"


@pytest.mark.parametrize(
    ("type_", "value", "accepted"),
    [
        ("integer", "8", True),
        ("integer", "+8", True),
        ("integer", "-3", True),
        ("integer", "8.0", False),
        ("integer", " 8", False),
        ("integer", 8, True),
        ("boolean", "true", True),
        ("boolean", "True", False),
        ("boolean", "yes", False),
        ("boolean", False, True),
        ("string", "8", True),
        ("string", 8, True),  # a YAML number in a stack file is text to the string check
        ("string", ["a"], False),
    ],
)
def test_typed_keys_are_checked_as_the_cli_checks_them(type_: str, value, accepted: bool):
    project = _project({"k": {"type": type_, "default": {"integer": 1, "boolean": True, "string": "x"}[type_]}})
    if accepted:
        cli_config("s", {"k": value}, project=project, from_stack_file=False)
    else:
        with pytest.raises(EngineError) as error:
            cli_config("s", {"k": value}, project=project, from_stack_file=False)
        assert str(error.value) == f"Stack 's' with configuration key 'k' must be of type '{type_}'"


def test_arrays_are_checked_item_by_item():
    assert engine.validate_config_value("array", {"type": "object"}, [{"name": "a"}, {}])
    assert not engine.validate_config_value("array", {"type": "object"}, [{"name": "a"}, "b"])
    assert not engine.validate_config_value("array", {"type": "object"}, "[]")  # a plain string, not an object value


def test_a_secret_key_must_be_set_as_a_secret():
    project = _project({"token": {"type": "string", "secret": True, "default": ""}})
    with pytest.raises(EngineError, match=r"^Stack 's' with configuration key 'token' must be encrypted as it's secret$"):
        cli_config("s", project=project, from_stack_file=False)
    built = cli_config("s", {"token": "t0k"}, secret_keys=("token",), project=project, from_stack_file=False)
    assert built.secret_keys == {"servebox:token"}


# --- the engine: URNs, duplicates, secret outputs ---------------------------------------------------


def _program(tmp_path: Path, body: str) -> Path:
    main = tmp_path / "__main__.py"
    main.write_text("import pulumi\nimport pulumi_command as command\n" + textwrap.dedent(body))
    return main


def test_two_resources_with_one_urn_stop_the_update_as_the_engine_does(tmp_path: Path):
    main = _program(
        tmp_path,
        """
        command.local.Command("same", create="true")
        command.local.Command("same", create="false")
        """,
    )
    with pytest.raises(EngineError) as error:
        run_program(main=main)
    assert str(error.value) == (
        "Duplicate resource URN 'urn:pulumi:kind::servebox::command:local:Command::same'; try giving it a unique name"
    )


def test_one_name_under_two_parents_of_different_types_is_two_urns(tmp_path: Path):
    # The engine qualifies a URN with the parent's whole type chain (generateURN); the SDK's mock
    # monitor used only the nearest parent type, and prefixed the stack's type to top-level resources.
    main = _program(
        tmp_path,
        """
        class A(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("servebox:test:A", name, None, opts)
        class B(pulumi.ComponentResource):
            def __init__(self, name, opts=None):
                super().__init__("servebox:test:B", name, None, opts)
        a = A("a")
        b = B("b", pulumi.ResourceOptions(parent=a))
        pulumi.export("a", a.urn)
        pulumi.export("b", b.urn)
        """,
    )
    run = run_program(main=main)
    assert run.outputs == {
        "a": "urn:pulumi:kind::servebox::servebox:test:A::a",
        "b": "urn:pulumi:kind::servebox::servebox:test:A$servebox:test:B::b",
    }


def test_additional_secret_outputs_and_secret_inputs_come_back_secret(tmp_path: Path):
    main = _program(
        tmp_path,
        """
        told = command.local.Command("told", create="cat kubeconfig", opts=pulumi.ResourceOptions(additional_secret_outputs=["stdout"]))
        given = command.local.Command("given", create=pulumi.Output.secret("echo hunter2"))
        plain = command.local.Command("plain", create="true")
        pulumi.export("told", told.stdout)
        pulumi.export("given", given.create)
        pulumi.export("plain", plain.stdout)
        """,
    )
    run = run_program(main=main)
    assert run.secret_outputs == {"told", "given"}


def test_the_program_registers_no_two_resources_of_one_name():
    # The engine would allow it across types or parents; the harness addresses resources by name.
    run = run_program()
    assert len(run.resources) == len({(r.type, r.name) for r in run.resources.values()})


# --- plugins: GetRequiredPlugins over the venv ----------------------------------------------------


def _pinned_providers(lock: str) -> dict[str, str]:
    pins = re.findall(r"^pulumi-([a-z0-9-]+)==([0-9.]+)", (engine.REPO / lock).read_text(), re.M)
    return {name: version for name, version in pins}


def test_the_engine_would_install_a_plugin_for_every_provider_package_in_the_venv():
    plugins = engine.required_plugins()
    assert {plugin.name: plugin.version for plugin in plugins} == {
        name: f"v{version}" for name, version in _pinned_providers("requirements-dev.txt").items()
    }


def test_a_package_that_says_it_has_no_plugin_is_skipped(tmp_path: Path):
    class Distribution:
        def __init__(self, name: str, version: str, plugin: dict | None):
            self.metadata = {"Name": name}
            self.version = version
            if plugin is not None:
                module = tmp_path / name.replace("-", "_")
                module.mkdir()
                (module / "pulumi-plugin.json").write_text(json.dumps(plugin))

        def locate_file(self, path: str) -> Path:
            return tmp_path / path

    found = engine.required_plugins(
        [
            Distribution("pulumi", "3.272.0", None),
            Distribution("pulumi_tls", "5.6.2", {"resource": True, "name": "tls", "version": "5.6.2"}),
            Distribution("pulumi_helper", "1.0.0", {"resource": False}),
            Distribution("pulumi-kind", "0.1.0", None),
            Distribution("requests", "2.32.0", None),
        ]
    )
    assert found == {engine.Plugin("tls", "v5.6.2"), engine.Plugin("kind", "v0.1.0")}
