"""Shared test setup: the repository root on sys.path, so tests import `components` as the program does."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
