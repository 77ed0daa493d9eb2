"""Thin entry point of the end-of-up canary check: the code is servebox/canary_check.py."""

import sys
from pathlib import Path

# Run as a file, Python puts scripts/ on sys.path, not the repository that holds the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from servebox.canary_check import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
