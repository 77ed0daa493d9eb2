"""`python -m servebox`: the same as the `servebox` console script."""

import sys

from servebox.cli import main

sys.exit(main())
