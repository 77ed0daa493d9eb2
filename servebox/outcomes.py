"""Exit codes CI can branch on, one per outcome; the README's table is this module.

`cleanup_incomplete` wins over every other outcome: whatever happened first, what is left running
(and costing) is what the caller must act on. The JSON summary names it.
"""

from __future__ import annotations

from enum import Enum


class Outcome(Enum):
    """How a servebox run ended, with its exit code."""

    PASSED = ("passed", 0)
    BAD_INPUT = ("bad_input", 2)
    UP_FAILED = ("up_failed", 10)
    SMOKE_FAILED = ("smoke_failed", 11)
    TIMEOUT = ("timeout", 12)
    INTERRUPTED = ("interrupted", 13)
    CLEANUP_INCOMPLETE = ("cleanup_incomplete", 14)

    def __init__(self, label: str, code: int) -> None:
        self.label = label
        self.code = code


MEANINGS = {
    Outcome.PASSED: 'up, the smoke test passed, destroyed and removed (reap, workshop: everything asked was done)',
    Outcome.BAD_INPUT: 'bad input or a missing prerequisite (the message says which); nothing was created',
    Outcome.UP_FAILED: 'pulumi up failed (or creating the stack did); cleaned up',
    Outcome.SMOKE_FAILED: 'the stack came up but the smoke test failed (not serving, or below --min-accuracy); cleaned up',
    Outcome.TIMEOUT: '--timeout passed before up and the smoke test were done; cleaned up',
    Outcome.INTERRUPTED: 'SIGINT or SIGTERM; the CLI cancelled gracefully, then servebox cleaned up',
    Outcome.CLEANUP_INCOMPLETE: "destroy or stack removal failed; it wins over every other outcome, and the summary's cleanup.left names what is left",
}
"""What each outcome means; the README's exit-code table says the same (tests/unit/test_readme.py)."""
