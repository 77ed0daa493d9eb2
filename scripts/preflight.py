"""Thin entry point kept for existing commands: the code is servebox/preflight/ (`servebox` has it too)."""

import sys
from pathlib import Path

# Run as a file, Python puts scripts/ on sys.path, not the repository that holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servebox.preflight import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
