"""Workshop rosters: the attendees CSV an organiser writes, and the roster.csv / roster.html handed out.

Input (`--roster attendees.csv`): a header row with an `attendee` column (the id that names the
attendee's stack, `<event>-<attendee>`), optionally `name` and `email`; one row per attendee. Every
attendee id must make a valid stack name as it is (servebox/stacks.py: STACK_NAME_RULE): a name that
is not is reported by its row, never rewritten, because a rewritten name can collide with another.

Output: roster.csv (one row per attendee: attendee, name, stack, status, endpoint, request, expires
at, error; a shared workshop's namespace and kubeconfig file too) and roster.html, the same as one
self-contained page (no scripts, no external files).
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from servebox import stacks
from servebox.stacks import ServeboxError

ROSTER_COLUMNS = ("attendee", "name", "stack", "status", "endpoint", "request", "expires_at", "error", "namespace", "kubeconfig")
"""namespace and kubeconfig: a shared workshop's (servebox/shared_workshop.py); empty otherwise."""


@dataclass(frozen=True)
class Attendee:
    """One roster row."""

    row: int
    """The row number in the CSV (the header is row 1), for messages."""
    attendee: str
    name: str
    email: str
    stack: str


def read_attendees(path: Path, event: str) -> list[Attendee]:
    """The roster's attendees; every problem, by row, in one error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ServeboxError(f"--roster {path}: cannot read it ({error.strerror}); give the path of a CSV file") from None
    except UnicodeDecodeError as error:
        raise ServeboxError(
            f"--roster {path}: not UTF-8 text (byte {error.start}: {error.object[error.start:error.start + 1]!r}); "
            "save the CSV as UTF-8 (Excel: CSV UTF-8)"
        ) from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    if "attendee" not in columns:
        raise ServeboxError(
            f"--roster {path}: no 'attendee' column in the header row (found: {', '.join(columns) or 'nothing'}); "
            "the first line must name the columns, e.g. attendee,name,email"
        )
    problems: list[str] = []
    attendees: list[Attendee] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        attendee = row.get("attendee", "")
        if not attendee:
            if any(row.values()):
                problems.append(f"row {number}: the attendee column is empty")
            continue
        stack = f"{event}-{attendee}"
        problem = stacks.stack_name_problem(stack)
        if problem:
            problems.append(f"row {number}: attendee {attendee!r} gives stack {stack!r}, which is not valid: "
                            f"use {stacks.STACK_NAME_RULE} for '<event>-<attendee>'")
            continue
        if attendee in seen:
            problems.append(f"row {number}: attendee {attendee!r} repeats row {seen[attendee]}; each attendee needs an id of their own")
            continue
        seen[attendee] = number
        attendees.append(Attendee(number, attendee, row.get("name", ""), row.get("email", ""), stack))
    if problems:
        raise ServeboxError(f"--roster {path}:\n  " + "\n  ".join(problems))
    if not attendees:
        raise ServeboxError(f"--roster {path}: no attendees (one row per attendee under the header)")
    return attendees


def write_csv(rows: Sequence[dict[str, str]], path: Path) -> None:
    """roster.csv, one row per attendee in roster order."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=ROSTER_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column) or "" for column in ROSTER_COLUMNS})


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
pre { white-space: pre-wrap; word-break: break-all; margin: 0; font-size: .8rem; }
.status-up { color: #176f2c; font-weight: bold; }
.status-failed, .status-interrupted { color: #a11; font-weight: bold; }
"""


def render_html(rows: Sequence[dict[str, str]], *, event: str, teardown: str, plan_b: str) -> str:
    """roster.html: one self-contained page (inline style, no scripts), every value escaped."""
    body = []
    shared = any(row.get("namespace") for row in rows)
    for row in rows:
        status = row.get("status") or ""
        cells = [
            f"<td>{html.escape(row.get('attendee') or '')}</td>",
            f"<td>{html.escape(row.get('name') or '')}</td>",
            f"<td>{html.escape(row.get('endpoint') or '')}</td>",
            f"<td><pre>{html.escape(row.get('request') or row.get('error') or '')}</pre></td>",
            f"<td class=\"status-{html.escape(status)}\">{html.escape(status)}</td>",
            f"<td>{html.escape(row.get('expires_at') or '')}</td>",
        ]
        if shared:
            cells += [f"<td><code>{html.escape(row.get('namespace') or '')}</code></td>",
                      f"<td><code>{html.escape(row.get('kubeconfig') or '')}</code></td>"]
        body.append(f"<tr data-attendee=\"{html.escape(row.get('attendee') or '')}\">{''.join(cells)}</tr>")
    extra = "<th>namespace</th><th>your kubeconfig (a file the organiser hands you)</th>" if shared else ""
    what = "the shared stack" if shared else "every stack"
    intro = (f"The organiser removes {what} after the workshop ({html.escape(teardown)}); from its expiry time on, "
             f"{'it' if shared else 'a stack'} may be removed at any moment (servebox reap).")
    if shared:
        intro += (" Your kubeconfig file reaches your namespace only (<code>kubectl --kubeconfig FILE get "
                  "inferenceservices</code>, <code>kubectl logs</code>); its token ends with the workshop.")
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>servebox workshop {html.escape(event)}</title><style>{_STYLE}</style></head>
<body>
<h1>servebox workshop {html.escape(event)}</h1>
<p>Your model answers at your endpoint: paste your ready request into a terminal to get a prediction.
{intro}</p>
<table>
<thead><tr><th>attendee</th><th>name</th><th>endpoint</th><th>ready request</th><th>status</th><th>expires at (UTC)</th>{extra}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
</table>
<p>Plan B: {html.escape(plan_b)}</p>
</body>
</html>
"""
