"""Renders the YAML templates under manifests/: plain YAML with ${var} placeholders, no logic.

`string.Template.substitute` raises on a missing variable, and every variable given must be used,
so a template and its caller cannot drift apart silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

MANIFESTS_DIR = Path(__file__).resolve().parent.parent / "manifests"


class TemplateMismatch(ValueError):
    """A template and the values given to it do not name the same variables."""


def template_variables(text: str) -> set[str]:
    """The ${var} names a template uses."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def render(relative_path: str, **values: object) -> str:
    """Render manifests/<relative_path> with exactly the variables it names."""
    text = (MANIFESTS_DIR / relative_path).read_text()
    wanted = template_variables(text)
    if wanted != set(values):
        raise TemplateMismatch(
            f"{relative_path}: template variables {sorted(wanted)} but got {sorted(values)}"
        )
    return Template(text).substitute({key: str(value) for key, value in values.items()})
