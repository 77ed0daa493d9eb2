"""The roster page `servebox workshop up` writes, opened in headless Chromium (Debian's `chromium`,
installed by scripts/test.sh where apt-get can): every attendee's row and ready request is in the
DOM the browser built, and a screenshot is kept in test-artifacts/roster.png."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.cli.conftest import Fake, serving_outputs
from tests.harness import REPO

ARTIFACTS = REPO / "test-artifacts"


class _Rows(HTMLParser):
    """The table rows of the DOM Chromium dumped: {attendee: [cell texts]}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and dict(attrs).get("data-attendee"):
            self._row = dict(attrs)["data-attendee"]
            self.rows[self._row] = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self.rows[self._row].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        message = "chromium is not installed (scripts/test.sh installs Debian's chromium where apt-get is available)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def chrome_run(browser: str, tmp_path: Path, page: Path, screenshot: Path, *, window: str) -> str:
    """The DOM headless Chromium builds of `page`, and its screenshot kept at `screenshot`."""
    screenshot.parent.mkdir(exist_ok=True)
    screenshot.unlink(missing_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = subprocess.run([browser, *flags, f"--screenshot={screenshot}", f"--window-size={window}", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 10_000 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return dom.stdout


def test_the_roster_page_shows_every_attendee_and_their_request_in_a_browser(fake: Fake, tmp_path: Path) -> None:
    browser = _chromium()
    outputs = serving_outputs("http://127.0.0.1:9/v2/models/mnist/infer")
    outputs["endpoint"] = "http://mnist.models.{stack}.sslip.io"
    outputs["curl"] = "curl -sS -H 'Host: mnist.models.{stack}.sslip.io' http://203.0.113.9/v2/models/mnist/infer -d '{\"inputs\": []}'"
    fake.script(outputs=outputs, secret_outputs=["kubeconfig"], resources=1,
                rules=[{"command": "up", "stack": "ws-eve", "action": "fail", "stderr": "error: <quota> & more"}])
    attendees = {"ada": "Ada Lovelace", "bob": "Bob <b>Bold</b>", "eve": "Eve"}
    roster = tmp_path / "attendees.csv"
    roster.write_text("attendee,name\n" + "".join(f"{a},{n}\n" for a, n in attendees.items()))
    done = fake.servebox("workshop", "up", "--roster", str(roster), "--out", str(tmp_path / "out"), timeout=120)
    assert done.returncode == 10, done.stderr
    page = tmp_path / "out" / "roster.html"

    dom = chrome_run(browser, tmp_path, page, ARTIFACTS / "roster.png", window="1400,700")
    parser = _Rows()
    parser.feed(dom)
    assert list(parser.rows) == list(attendees)
    for attendee, name in attendees.items():
        cells = parser.rows[attendee]
        assert cells[0] == attendee and cells[1] == name  # markup in a name stays text
        if attendee == "eve":
            assert cells[2:5] == ["", "error: <quota> & more", "failed"]
        else:
            assert cells[2] == f"http://mnist.models.ws-{attendee}.sslip.io"
            assert cells[3] == (f"curl -sS -H 'Host: mnist.models.ws-{attendee}.sslip.io' "
                                "http://203.0.113.9/v2/models/mnist/infer -d '{\"inputs\": []}'")
            assert cells[4] == "up"
        assert cells[5].endswith("Z")
    assert "<script" not in page.read_text() and "http" not in page.read_text().split("<body>")[0]
