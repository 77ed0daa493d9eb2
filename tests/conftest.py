"""Shared test setup: the repository root on sys.path, so tests import `components` as the program does."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_public_address_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests run offline: anything that would ask the internet for this machine's address fails
    instead, unless it goes through the seam (tests/harness.py, or parse_settings' public_ipv4)."""
    from components import host

    def refuse() -> str:
        raise AssertionError("a test looked up the public address; pass public_ipv4= or use run_program")

    monkeypatch.setattr(host, "public_ipv4", refuse)
