"""The README and docs/ stay true: every link inside the repository resolves, every `servebox`
command and flag they show exists, every config key and stack output they name is the program's,
every repository path they name is on disk, and docs/layout.md names every module and script.
The README stays a five-minute page (at most 400 lines) that links every page of docs/."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from components import outputs
from components.config import config_schema
from servebox import cli
from tests.engine import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README = (REPO / "README.md").read_text()
TOP = ("scripts/", "components/", "servebox/", "tests/", "docs/", "stacks/", "examples/", "manifests/", ".ci/")


def _code(text: str) -> list[str]:
    """Every code span and every line of a fenced block."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    outside = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    return [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", outside)


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """servebox's subcommands (`workshop up` as one) and their parsers."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[f"{prefix}{name}"] = sub
                    walk(sub, f"{prefix}{name} ")

    walk(cli.build_parser(), "")
    return found


PARSERS = _parsers()


def _options(command: str) -> set[str]:
    if command in cli.PASS_THROUGH:  # predict, smoke: their scripts' own options
        module = importlib.import_module(f"servebox.{command}")
        parser = argparse.ArgumentParser()
        captured: dict[str, argparse.ArgumentParser] = {}
        original = argparse.ArgumentParser.parse_args

        def capture(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            captured["parser"] = self
            raise SystemExit(0)

        argparse.ArgumentParser.parse_args = capture  # type: ignore[method-assign]
        try:
            module.main([])
        except SystemExit:
            pass
        finally:
            argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
        parser = captured["parser"]
    else:
        parser = PARSERS[command]
    top = cli.build_parser()
    return {option for p in (parser, top) for action in p._actions for option in action.option_strings}


def test_the_readme_is_a_five_minute_page_that_links_every_doc():
    assert len(README.splitlines()) <= 400
    for page in PAGES[1:]:
        assert f"](docs/{page.name})" in README, f"README links no {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_inside_the_repository_resolves(page: Path):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.exists(), f"{page.name} links {target}, which is not there"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_servebox_command_and_flag_exists(page: Path):
    checked = 0
    for code in _code(page.read_text()):
        # A command line: servebox at its start (or after a path such as .venv/bin/, or a prompt).
        for match in re.finditer(r"(?:^\s*|/|\$ |&& )servebox ((?:workshop )?[a-z][a-z-]*)((?: [^|;&#`]*)?)", code):
            command, rest = match.group(1), match.group(2)
            if command.startswith("workshop") and command not in PARSERS:
                command = "workshop"
            assert command in PARSERS or command in cli.PASS_THROUGH, f"{page.name}: no `servebox {command}` ({code})"
            flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest))
            unknown = flags - _options(command) - {"--help"}
            assert not unknown, f"{page.name}: `servebox {command}` has no {sorted(unknown)} ({code})"
            checked += 1
    if page.name in ("README.md", "servebox-command.md", "ci.md", "workshops.md"):
        assert checked > 0


KEY = re.compile(r"(?:--set[ =]|pulumi config set (?:--secret |--path )?)'?([A-Za-z][\w:.\[\]-]*)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_config_key_and_output_named_is_the_programs(page: Path):
    schema = config_schema()
    text = page.read_text()
    for code in _code(text):
        for key in KEY.findall(code):
            key = key.split("=", 1)[0].split("[", 1)[0].removeprefix("servebox:")
            if ":" in key or key in ("KEY", "key") or key.startswith("<"):
                continue  # a provider's key (gcp:project) or a placeholder
            assert key in schema, f"{page.name}: no config key {key!r} ({code})"
        for name in re.findall(r"pulumi stack output (?:--\S+ )*([a-z_]+)", code):
            assert name in outputs.ALL_OUTPUTS, f"{page.name}: no stack output {name!r} ({code})"
    for key in re.findall(r"\bservebox:([a-z][A-Za-z]+)\b", text):
        assert key in schema or key in ("expires", "workshop", "purpose", "created"), f"{page.name}: servebox:{key}"


def _paths(text: str) -> set[str]:
    found = set()
    for code in _code(text):
        for token in re.findall(r"[\w./*<>-]+", code):
            token = token.rstrip(".,:")
            if token.startswith(TOP) or re.fullmatch(r"(Pulumi\.yaml|pyproject\.toml|requirements[\w-]*\.(txt|in))", token):
                found.add(token)
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_repository_path_named_exists(page: Path):
    for path in _paths(page.read_text()):
        if "<" in path or re.search(r"[A-Z]{3,}", path):
            continue  # a placeholder: stacks/Pulumi.<stack>.yaml, Pulumi.STACK.yaml
        matches = list(REPO.glob(path.rstrip("/"))) if "*" in path else [REPO / path.rstrip("/")]
        assert matches and all(m.exists() for m in matches), f"{page.name} names {path}, which is not there"


def test_the_layout_names_every_module_and_script():
    layout = (REPO / "docs" / "layout.md").read_text()
    missing = []
    for directory in ("components", "servebox", "scripts"):
        for path in sorted((REPO / directory).rglob("*")):
            if path.suffix in (".py", ".sh") and path.name != "__init__.py" and "__pycache__" not in path.parts:
                if not re.search(rf"(?<![\w.-]){re.escape(path.name)}(?![\w])", layout) and not re.search(
                    rf"(?<![\w.-]){re.escape(path.stem)}\.py", layout
                ):
                    missing.append(str(path.relative_to(REPO)))
    assert missing == [], f"docs/layout.md does not name: {missing}"
