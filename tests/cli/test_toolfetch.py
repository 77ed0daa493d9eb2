"""servebox fetches the pinned Pulumi CLI and kind, checked against their releases' checksums, from a
local HTTP server standing in for the release pages (SERVEBOX_RELEASE_MIRROR): a good checksum
installs, a bad one or a bad archive is refused with nothing left half-installed, and `servebox up`
on a machine without the CLI fetches it and goes on with it.

What this cannot prove: that GitHub serves the real releases under these names (the names follow
pulumi/pulumi .goreleaser.yml and kind's release assets), nor the real files' checksums.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import os
import stat
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from components import versions
from servebox import toolfetch
from tests.cli.conftest import FAKE_SOURCE, Fake

PULUMI = versions.PULUMI_CLI_VERSION
KIND = versions.KIND_CLI_VERSION


@contextlib.contextmanager
def release_server(root: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def pulumi_archive(pulumi_script: bytes, extra: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, "pulumi/pulumi", pulumi_script)
        _add(tar, "pulumi/pulumi-language-python", b"#!/bin/sh\nexit 0\n")
        if extra:
            _add(tar, *extra)
    return buffer.getvalue()


def publish(root: Path, release: toolfetch.Release, data: bytes, checksum: str | None = None) -> None:
    """Lay out `data` and its checksums file where the release's URLs point (below the mirror)."""
    asset = root / release.url.split("/", 3)[3]
    asset.parent.mkdir(parents=True, exist_ok=True)
    asset.write_bytes(data)
    sums = root / release.checksums_url.split("/", 3)[3]
    line = f"{checksum or hashlib.sha256(data).hexdigest()}  {release.asset}\n"
    sums.write_text(f"{'0' * 64}  some-other-asset.tar.gz\n{line}")


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "project" / ".servebox" / "bin"
    monkeypatch.setattr(toolfetch, "BIN_DIR", directory)
    return directory


def _release(tool: str) -> toolfetch.Release:
    return toolfetch.RELEASES[tool]("linux", "amd64", "http://mirror")


def test_the_pinned_cli_is_the_pinned_sdk() -> None:
    lock = (Path(toolfetch.project.REPO) / "requirements.txt").read_text()
    assert f"\npulumi=={PULUMI}\n" in lock


def test_release_names_follow_the_projects_release_files() -> None:
    assert _release("pulumi").url == f"http://mirror/pulumi/pulumi/releases/download/v{PULUMI}/pulumi-v{PULUMI}-linux-x64.tar.gz"
    assert _release("pulumi").checksums_url.endswith(f"/v{PULUMI}/pulumi-{PULUMI}-checksums.txt")
    arm = toolfetch.RELEASES["kind"]("darwin", "arm64", "http://mirror")
    assert arm.url == f"http://mirror/kubernetes-sigs/kind/releases/download/v{KIND}/kind-darwin-arm64"
    assert arm.checksums_url == arm.url + ".sha256sum"
    assert toolfetch.host_platform("linux", "aarch64") == ("linux", "arm64")
    assert toolfetch.host_platform("darwin", "x86_64") == ("darwin", "amd64")
    with pytest.raises(toolfetch.FetchError, match="install it by hand"):
        toolfetch.host_platform("win32", "AMD64")


def _ensure(tool: str, mirror: str) -> tuple[list[str], list[str]]:
    said: list[str] = []
    fetched = toolfetch.ensure([tool], lambda _tool: True, environ={toolfetch.MIRROR_ENV: mirror}, report=said.append)
    return fetched, said


def _left(bin_dir: Path) -> list[str]:
    return sorted(p.name for p in bin_dir.iterdir()) if bin_dir.exists() else []


def test_a_good_checksum_installs_the_cli_and_puts_it_on_path(tmp_path: Path, bin_dir: Path) -> None:
    release = toolfetch.pulumi_release(*toolfetch.host_platform())
    publish(tmp_path / "www", release, pulumi_archive(b"#!/bin/sh\necho v" + PULUMI.encode() + b"\n"))
    with release_server(tmp_path / "www") as mirror:
        fetched, said = _ensure("pulumi", mirror)
    assert fetched == ["pulumi"], said
    home = bin_dir / f"pulumi-{PULUMI}"
    assert _left(bin_dir) == [home.name]  # no staging directory left
    assert (home / "pulumi").stat().st_mode & stat.S_IXUSR and (home / "pulumi-language-python").is_file()
    environ = {"PATH": "/usr/bin"}
    toolfetch.activate(environ)
    assert environ["PATH"] == f"{home}{os.pathsep}/usr/bin"


def test_a_bad_checksum_is_refused_and_nothing_is_left(tmp_path: Path, bin_dir: Path) -> None:
    release = toolfetch.pulumi_release(*toolfetch.host_platform())
    publish(tmp_path / "www", release, pulumi_archive(b"#!/bin/sh\necho evil\n"), checksum="ab" * 32)
    with release_server(tmp_path / "www") as mirror:
        fetched, said = _ensure("pulumi", mirror)
    assert fetched == []
    assert said[-1].startswith(f"==> Could not fetch pulumi: {release.asset}: sha256 ")
    assert said[-1].endswith(f"is not the {'ab' * 32} its release publishes; refused, nothing installed")
    assert _left(bin_dir) == []


def test_an_archive_reaching_outside_its_folder_is_refused(tmp_path: Path, bin_dir: Path) -> None:
    release = toolfetch.pulumi_release(*toolfetch.host_platform())
    publish(tmp_path / "www", release, pulumi_archive(b"#!/bin/sh\n", extra=("../../evil", b"x")))
    with release_server(tmp_path / "www") as mirror:
        fetched, said = _ensure("pulumi", mirror)
    assert fetched == [] and "unexpected entry '../../evil'" in said[-1]
    assert _left(bin_dir) == [] and not (tmp_path / "evil").exists()


def test_a_release_the_checksums_do_not_name_is_refused(tmp_path: Path, bin_dir: Path) -> None:
    release = toolfetch.kind_release(*toolfetch.host_platform())
    publish(tmp_path / "www", release, b"\x7fELF kind")
    sums = tmp_path / "www" / release.checksums_url.split("/", 3)[3]
    sums.write_text(f"{'1' * 64}  kind-plan9-mips\n")
    with release_server(tmp_path / "www") as mirror:
        fetched, said = _ensure("kind", mirror)
    assert fetched == [] and f"names no {release.asset}" in said[-1]
    assert _left(bin_dir) == []


def test_kind_is_a_bare_binary(tmp_path: Path, bin_dir: Path) -> None:
    release = toolfetch.kind_release(*toolfetch.host_platform())
    publish(tmp_path / "www", release, b"#!/bin/sh\necho kind v" + KIND.encode() + b"\n")
    with release_server(tmp_path / "www") as mirror:
        assert _ensure("kind", mirror)[0] == ["kind"]
    assert (bin_dir / f"kind-{KIND}" / "kind").stat().st_mode & stat.S_IXUSR


def test_offline_the_fetch_is_reported_and_preflight_gives_the_manual_line(tmp_path: Path, bin_dir: Path) -> None:
    fetched, said = _ensure("pulumi", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert fetched == [] and said[-1].startswith("==> Could not fetch pulumi: could not download http://127.0.0.1:9/")
    assert _left(bin_dir) == []


def test_servebox_up_without_a_cli_fetches_it_and_goes_on(fake: Fake, repo: Path, tmp_path: Path) -> None:
    # The archive's pulumi is the fake CLI: once fetched, the rest of `up` runs against it.
    release = toolfetch.pulumi_release(*toolfetch.host_platform())
    script = f"#!{sys.executable}\n".encode() + FAKE_SOURCE.read_bytes()
    publish(tmp_path / "www", release, pulumi_archive(script))
    fake.script(version=PULUMI, outputs={"endpoint": "http://mnist.models.127.0.0.1.sslip.io:8080"})
    fake.env["PATH"] = "/usr/bin:/bin"
    with release_server(tmp_path / "www") as mirror:
        fake.env[toolfetch.MIRROR_ENV] = mirror
        done = fake_up(fake, repo)
    assert f"==> pulumi {PULUMI} installed in {repo / '.servebox' / 'bin' / f'pulumi-{PULUMI}'}" in done.stderr
    assert f"v{PULUMI} ({repo / '.servebox' / 'bin' / f'pulumi-{PULUMI}' / 'pulumi'})" in done.stderr


def fake_up(fake: Fake, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "servebox", "up", "gcp"], cwd=repo, env=fake.env,
                          capture_output=True, text=True, timeout=120, check=False)
