#!/usr/bin/env python3
"""What a first run installs, per target: the venv's size, the wheels it takes, and the provider
plugins the Pulumi engine then installs (one for every provider package in the venv, tests/ENGINE.md).

Figures, not a test. The packages of each target are the pins of the lock files scripts/venv.sh
installs for it (`stack_locks`); their sizes are measured from this venv's installed files (each
package's RECORD), so run it from the test venv, which holds every package of every target at the
same versions (tests/unit/test_locks.py). `--before REV` adds the same figures for the locks of an
earlier commit (one requirements.txt for every target), for comparison.

    .venv/bin/python scripts/bench_install.py [--before REV] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"kind": "kind", "gcp": "gcp", "aws": "aws", "existing (store gcs)": "existing-gcs"}


def _pins(text: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)", text, re.M)
    return {name.lower().replace("_", "-"): version for name, version in found}


def locks_for(target: str) -> list[str]:
    """scripts/venv.sh's choice of lock files for a stack of `target`."""
    config = {"kind": "", "gcp": "servebox:target: gcp", "aws": "servebox:target: aws",
              "existing-gcs": "servebox:target: existing\n  servebox:store: gcs"}[target]
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "stacks").mkdir()
        (Path(work) / "stacks" / "Pulumi.s.yaml").write_text(f"config:\n  {config}\n" if config else "config: {}\n")
        done = subprocess.run(["bash", "-c", f'source "{REPO / "scripts" / "venv.sh"}" && stack_locks s'],
                              cwd=work, capture_output=True, text=True, check=True)
    return done.stdout.split()


def installed_sizes() -> dict[str, int]:
    """Bytes on disk of each installed distribution, from its RECORD."""
    sizes = {}
    for dist in metadata.distributions():
        total = 0
        for entry in dist.files or []:
            try:
                total += entry.size or Path(dist.locate_file(entry)).stat().st_size
            except OSError:
                continue
        sizes[str(dist.metadata["Name"]).lower().replace("_", "-")] = total
    return sizes


def figures(pins: dict[str, str], sizes: dict[str, int]) -> dict[str, object]:
    missing = sorted(name for name in pins if name not in sizes)
    plugins = sorted(f"{name.removeprefix('pulumi-')} v{version}" for name, version in pins.items()
                     if name.startswith("pulumi-") and name not in ("pulumi-policy",))
    return {
        "packages": len(pins),
        "size_mb": round(sum(sizes.get(name, 0) for name in pins) / 2**20),
        "plugins": plugins,
        "not_measured": missing,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--before", help="a git revision whose requirements.txt every target installed")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = installed_sizes()
    rows = {}
    for label, target in TARGETS.items():
        pins: dict[str, str] = {}
        for lock in locks_for(target):
            pins.update(_pins((REPO / lock).read_text()))
        rows[label] = {"after": figures(pins, sizes)}
        if args.before:
            old = subprocess.run(["git", "show", f"{args.before}:requirements.txt"], cwd=REPO, capture_output=True,
                                 text=True, check=True).stdout
            rows[label]["before"] = figures(_pins(old), sizes)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for label, row in rows.items():
        for when, data in row.items():
            print(f"{label:22} {when:6} {data['packages']:3} packages  {data['size_mb']:5} MB  "
                  f"{len(data['plugins'])} plugins: {', '.join(data['plugins'])}"
                  + (f"  (not measured: {', '.join(data['not_measured'])})" if data["not_measured"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
