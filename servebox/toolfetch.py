"""Fetch the pinned Pulumi CLI and kind into the project (.servebox/bin/) when a machine lacks them.

Only what a first run needs besides Docker: `servebox up` calls `ensure()` before preflight, for the
tools the stack's target uses (the Pulumi CLI everywhere, kind on kind). A tool already on PATH at a
version servebox accepts is used as it is. Otherwise the release pinned in components/versions.py is
downloaded for this OS and CPU, checked against the checksums file its project publishes with the
release, unpacked into a temporary directory beside its final place and renamed into place in one
step, so that a failed or refused download leaves nothing behind. The tools' folders are then put
first on this process's PATH (the Pulumi engine finds its language plugins there too).

What the checksum proves: the file is the one the project published for that release (no corruption,
no truncated download, no other file at that name on a mirror). Both come from the same release page,
so it cannot prove the release itself is sound; no independent sha256 of these releases was at hand
to pin beside them.

Why not the Automation API's own installer (`PulumiCommand.install`): it downloads
https://get.pulumi.com/install.sh at its latest and runs it; servebox checks nothing of what that
script fetches.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from components import versions
from servebox import project
from servebox.stacks import ServeboxError

BIN_DIR = project.REPO / ".servebox" / "bin"
MIRROR_ENV = "SERVEBOX_RELEASE_MIRROR"
"""Replaces https://github.com in every download (a company mirror of the GitHub releases)."""
GITHUB = "https://github.com"
MAX_CHECKSUMS_BYTES = 1 << 20


class FetchError(ServeboxError):
    """A tool could not be fetched, or was refused; nothing of it was installed."""


@dataclass(frozen=True)
class Release:
    """One tool's pinned release for one OS and CPU."""

    tool: str
    version: str
    asset: str
    """The file name on the release page."""
    url: str
    checksums_url: str
    member: str | None
    """The directory inside the archive that holds the binaries; None: the asset is the binary."""

    @property
    def home(self) -> Path:
        """Where it is installed: its own folder per version, put on PATH."""
        return BIN_DIR / f"{self.tool}-{self.version}"


def host_platform(system: str | None = None, machine: str | None = None) -> tuple[str, str]:
    """(os, arch) in the releases' naming: linux|darwin, amd64|arm64; FetchError elsewhere."""
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    os_name = {"linux": "linux", "darwin": "darwin"}.get("darwin" if system.startswith("darwin") else system)
    arch = {"x86_64": "amd64", "amd64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(machine)
    if os_name is None or arch is None:
        raise FetchError(f"no release to fetch for {system}/{machine}: install it by hand")
    return os_name, arch


def pulumi_release(os_name: str, arch: str, mirror: str = GITHUB) -> Release:
    version = versions.PULUMI_CLI_VERSION
    asset = f"pulumi-v{version}-{os_name}-{'x64' if arch == 'amd64' else arch}.tar.gz"
    base = f"{mirror}/pulumi/pulumi/releases/download/v{version}"
    return Release("pulumi", version, asset, f"{base}/{asset}", f"{base}/pulumi-{version}-checksums.txt", "pulumi")


def kind_release(os_name: str, arch: str, mirror: str = GITHUB) -> Release:
    version = versions.KIND_CLI_VERSION
    asset = f"kind-{os_name}-{arch}"
    base = f"{mirror}/kubernetes-sigs/kind/releases/download/v{version}"
    return Release("kind", version, asset, f"{base}/{asset}", f"{base}/{asset}.sha256sum", None)


RELEASES: dict[str, Callable[[str, str, str], Release]] = {"pulumi": pulumi_release, "kind": kind_release}

Opener = Callable[[str], "urllib.response.addinfourl"]


def _open(url: str):  # noqa: ANN202 (a urllib response)
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310 (https, or the user's mirror)


def expected_sha256(checksums: str, asset: str) -> str:
    """The sha256 the checksums file gives `asset` (`<hex>  <name>` lines, sha256sum's format)."""
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == asset and len(parts[0]) == 64:
            return parts[0].lower()
    raise FetchError(f"the release's checksums file names no {asset}: refusing a file it does not vouch for")


def fetch(release: Release, opener: Opener = _open) -> Path:
    """Download, verify and install `release`; its folder. Nothing is left behind on failure."""
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    try:
        with opener(release.checksums_url) as response:
            checksums = response.read(MAX_CHECKSUMS_BYTES).decode("utf-8", "replace")
        expected = expected_sha256(checksums, release.asset)
        staging = Path(tempfile.mkdtemp(prefix=f".{release.tool}-", dir=BIN_DIR))
    except (OSError, urllib.error.URLError) as error:
        raise FetchError(f"could not download {release.checksums_url}: {getattr(error, 'reason', error)}") from None
    try:
        download = staging / release.asset
        digest = hashlib.sha256()
        try:
            with opener(release.url) as response, download.open("wb") as out:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
        except (OSError, urllib.error.URLError) as error:
            raise FetchError(f"could not download {release.url}: {getattr(error, 'reason', error)}") from None
        if digest.hexdigest() != expected:
            raise FetchError(
                f"{release.asset}: sha256 {digest.hexdigest()} is not the {expected} its release publishes; "
                "refused, nothing installed"
            )
        unpacked = staging / "unpacked"
        unpacked.mkdir()
        if release.member is None:
            binary = unpacked / release.tool
            shutil.move(str(download), binary)
            binary.chmod(0o755)
        else:
            _extract(download, unpacked, release)
            unpacked = unpacked / release.member
        if release.home.exists():
            shutil.rmtree(release.home)
        unpacked.rename(release.home)  # one step: the folder is whole or absent
        return release.home
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: Path, into: Path, release: Release) -> None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                raise FetchError(f"{release.asset}: unexpected entry {member.name!r}; refused, nothing installed")
            if name.parts[:1] != (release.member,):
                raise FetchError(f"{release.asset}: {member.name!r} is outside {release.member}/; refused, nothing installed")
        # Every entry was checked above; the data filter (Python >= 3.11.4) refuses links and modes too.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # pragma: no cover (older 3.11 patch releases)
            tar.extractall(into)  # noqa: S202 (entries checked above)
    if not (into / str(release.member) / release.tool).is_file():
        raise FetchError(f"{release.asset} holds no {release.member}/{release.tool}; refused, nothing installed")


def installed_dirs() -> list[Path]:
    """The fetched tools' folders, for PATH: the pinned versions only."""
    found = []
    for make in RELEASES.values():
        try:
            release = make(*host_platform(), GITHUB)
        except FetchError:
            return []
        if (release.home / release.tool).is_file():
            found.append(release.home)
    return found


def activate(environ: MutableMapping[str, str] = os.environ) -> None:
    """Put the fetched tools first on PATH (for preflight, the Automation API and the engine)."""
    dirs = [str(d) for d in installed_dirs()]
    parts = [p for p in environ.get("PATH", "").split(os.pathsep) if p and p not in dirs]
    environ["PATH"] = os.pathsep.join([*dirs, *parts])


def ensure(
    tools: list[str],
    needs_fetch: Callable[[str], bool],
    *,
    environ: Mapping[str, str] = os.environ,
    opener: Opener = _open,
    report: Callable[[str], None] = print,
) -> list[str]:
    """Fetch each of `tools` that `needs_fetch` says is missing or too old; the ones fetched. A failed
    fetch is reported and left for preflight to name with its manual install line."""
    mirror = environ.get(MIRROR_ENV, GITHUB).rstrip("/")
    fetched = []
    for tool in tools:
        if not needs_fetch(tool):
            continue
        try:
            release = RELEASES[tool](*host_platform(), mirror)
            report(f"==> Fetching {tool} {release.version} ({release.asset}), checked against its release's checksums")
            home = fetch(release, opener)
        except FetchError as error:
            report(f"==> Could not fetch {tool}: {error}")
            continue
        report(f"==> {tool} {release.version} installed in {home}")
        fetched.append(tool)
    return fetched
