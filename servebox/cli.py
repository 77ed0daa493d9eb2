"""The `servebox` command: the users' tools over the Pulumi Automation API.

    servebox up [STACK] | down [STACK] | status [STACK] | outputs [STACK]     the workstation
    servebox predict [STACK] | smoke [STACK] | preflight [STACK]              the model and the machine
    servebox ephemeral [--stack NAME] [--set K=V ...] [--timeout S] ...       a CI job's stack
    servebox workshop up --roster attendees.csv [--parallel N] [--shared] | status | down
    servebox reap [--dry-run] [--now ISO-8601]                                expired stacks
    servebox status STACK [--metrics] | logs STACK MODEL | dashboard STACK      day two: the models
    servebox serve PATH [--canary N] | unserve | promote | rollback NAME        your own models

Exit codes (servebox/outcomes.py; the README has the table): 0 passed, 2 bad input, 10 up failed,
11 smoke test failed, 12 timeout, 13 interrupted, 14 cleanup incomplete.
Progress goes to stderr (a live view on a terminal, plain lines elsewhere); results (JSON
summaries, outputs) to stdout. Secret outputs are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from servebox import stacks
from servebox.interrupts import Interrupts
from servebox.outcomes import Outcome
from servebox.stacks import Pulumi, ServeboxError

DEFAULT_STACK = "kind"
PASS_THROUGH = ("predict", "smoke", "preflight")
"""Subcommands whose options are those of servebox/predict.py, smoke.py and preflight.py."""


def _positive(kind: type, what: str):  # noqa: ANN202  (an argparse type)
    def parse(text: str):  # noqa: ANN202
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {text!r}; expected {what}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"got {text!r}; expected {what} greater than 0")
        return value

    return parse


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="stack config, e.g. --set target=gcp --set gcp:project=P (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and option."""
    codes = "; ".join(f"{o.code} {o.label}" for o in Outcome)
    parser = argparse.ArgumentParser(prog="servebox", description="servebox: model-serving stacks, for a workstation, CI and workshops.",
                                     epilog=f"exit codes: {codes}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="create or update a stack (default kind) and print its outputs")
    up.add_argument("stack", nargs="?", default=DEFAULT_STACK)
    _add_set(up)
    up.add_argument("--ttl-hours", type=_positive(float, "hours"), help="tag the stack to expire (servebox reap) after this many hours")
    up.add_argument("--skip-preflight", action="store_true", help="do not check the machine first")
    up.add_argument("--no-fetch", action="store_true",
                    help="do not fetch a missing or too old Pulumi CLI or kind into .servebox/bin (print how to install them)")

    down = sub.add_parser("down", help="destroy a stack and remove it (its file in stacks/ stays)")
    down.add_argument("stack", nargs="?", default=DEFAULT_STACK)
    down.add_argument("--keep-stack", action="store_true", help="destroy the resources, keep the empty stack")

    status = sub.add_parser(
        "status", help="list the project's stacks; with STACK, each model's state and why it is not ready"
    )
    status.add_argument("stack", nargs="?", help="a stack: its models, read from its cluster")
    status.add_argument("--metrics", action="store_true", help="with STACK: requests and predict latency per model")
    status.add_argument("--json", action="store_true")

    logs = sub.add_parser("logs", help="a model's log lines from every pod (the storage initializer's when its download failed)")
    logs.add_argument("stack")
    logs.add_argument("model")
    logs.add_argument("--container", help="storage-initializer, kserve-container, queue-proxy, ... (default: the one that matters)")
    logs.add_argument("--since", type=int, metavar="SECONDS", help="only lines this recent")
    logs.add_argument("--tail", type=int, default=100, help="lines per pod (default 100)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing lines as they come, until Ctrl-C")

    dashboard = sub.add_parser("dashboard", help="a page of the stack's models: state and why, request, traffic, latency, logs")
    dashboard.add_argument("stack")
    dashboard.add_argument("--out", type=Path, help="where to write the page (default build/dashboard/STACK.html)")
    dashboard.add_argument("--serve", action="store_true", help="serve it on 127.0.0.1 instead, read anew at every load")
    dashboard.add_argument("--port", type=int, default=8765, help="with --serve: the port (default 8765; 0 picks a free one)")

    outputs = sub.add_parser("outputs", help="a stack's outputs as JSON (secrets withheld)")
    outputs.add_argument("stack", nargs="?", default=DEFAULT_STACK)

    for name, text in (("predict", "send held-out digits to a stack's model and show the answers"),
                       ("smoke", "score held-out digits against a stack's model; non-zero below --min-accuracy")):
        command = sub.add_parser(name, help=text, add_help=False)
        command.add_argument("stack", nargs="?", default=DEFAULT_STACK)

    preflight = sub.add_parser("preflight", help="check this machine for a stack's target", add_help=False)
    preflight.add_argument("stack", nargs="?", default=DEFAULT_STACK)

    eph = sub.add_parser("ephemeral", help="a stack for a CI job: up, smoke test, destroy, remove; JSON summary")
    eph.add_argument("--stack", help="stack name (default: PREFIX-<random>)")
    eph.add_argument("--prefix", default="ci", help="prefix of the generated stack name (default ci)")
    _add_set(eph)
    eph.add_argument("--timeout", type=_positive(float, "seconds"), help="limit for create + up + smoke test (cleanup not counted)")
    eph.add_argument("--keep-on-failure", action="store_true", help="keep a failed stack for debugging")
    eph.add_argument("--summary", type=Path, help="write the JSON summary here instead of stdout")
    eph.add_argument("--ttl-hours", type=_positive(float, "hours"), default=2.0,
                     help="servebox:expires-at = now + this, the reaper's backstop (default 2)")
    eph.add_argument("--count", type=_positive(int, "a number of digits"), default=20, help="digits the smoke test scores (default 20)")
    eph.add_argument("--min-accuracy", type=float, default=0.8, help="smoke test threshold (default 0.8)")
    eph.add_argument("--smoke-timeout", type=_positive(float, "seconds"), default=300.0,
                     help="seconds the smoke test waits for the endpoint to serve (default 300)")

    ws = sub.add_parser("workshop", help="a workshop: one stack per attendee, or --shared one stack with a namespace each: up, status, down")
    ws_sub = ws.add_subparsers(dest="workshop_command", required=True, metavar="ACTION")
    ws_up = ws_sub.add_parser("up", help="create every attendee's stack, write roster.csv and roster.html")
    ws_up.add_argument("--roster", type=Path, required=True, help="CSV with an 'attendee' column (optional: name, email)")
    ws_up.add_argument("--parallel", type=int, default=4, help="stacks brought up at a time (default 4)")
    _add_set(ws_up)
    ws_up.add_argument("--ttl-hours", type=_positive(float, "hours"), default=10.0, help="expiry of every stack (default 10)")
    ws_up.add_argument("--out", type=Path, default=Path("."), help="directory for roster.csv and roster.html (default .)")
    ws_status = ws_sub.add_parser("status", help="each stack of the workshop")
    ws_status.add_argument("--json", action="store_true")
    ws_down = ws_sub.add_parser("down", help="destroy and remove every stack of the workshop")
    for action in (ws_up, ws_status, ws_down):
        action.add_argument("--shared", action="store_true",
                            help="one stack for everyone, a namespace each (docs/workshops.md: when to pick which)")
    ws_down.add_argument("--parallel", type=int, default=4, help="stacks destroyed at a time (default 4)")
    for action in (ws_up, ws_status, ws_down):
        action.add_argument("--event", default="ws", help="the workshop's name: stacks are EVENT-ATTENDEE (default ws)")

    serve = sub.add_parser("serve", help="serve your own model file or directory on a stack (adds it to `models`, runs up)")
    serve.add_argument("path", type=Path, help="the model file or directory (sklearn, xgboost, lightgbm, ...)")
    serve.add_argument("--name", help="the model's name (default: from the file name)")
    serve.add_argument("--format", help="the model format (default: detected from the file)")
    serve.add_argument("--protocol", choices=("v1", "v2"), help="the protocol it answers (default v2)")
    serve.add_argument("--attendee", help="a shared workshop's attendee: serve it in their namespace, from their prefix")
    serve.add_argument("--canary", type=_positive(int, "percent"), metavar="PERCENT",
                       help="serve it beside model --name's current version, answering PERCENT of its requests (1-99)")
    serve.add_argument("--stack", default=DEFAULT_STACK)

    unserve = sub.add_parser("unserve", help="stop serving one of your models (removes it from `models`, runs up)")
    promote = sub.add_parser("promote", help="make a model's canary the model, answering every request (runs up)")
    rollback = sub.add_parser("rollback", help="send every request of a model back to its current version, drop the canary (runs up)")
    for one_model in (unserve, promote, rollback):
        one_model.add_argument("name")
        one_model.add_argument("--stack", default=DEFAULT_STACK)

    reap = sub.add_parser("reap", help="destroy the project's stacks whose servebox:expires-at has passed")
    reap.add_argument("--dry-run", action="store_true", help="report what would be destroyed, destroy nothing")
    reap.add_argument("--now", help="compare expiry with this ISO 8601 time instead of the clock")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    rest: list[str] = []
    if args_list[:1] and args_list[0] in PASS_THROUGH:
        # `servebox predict [STACK] [its own options]`: the options are the scripts' own, passed on.
        stack = args_list[1] if len(args_list) > 1 and not args_list[1].startswith("-") else DEFAULT_STACK
        rest = args_list[2:] if len(args_list) > 1 and not args_list[1].startswith("-") else args_list[1:]
        args = argparse.Namespace(command=args_list[0], stack=stack)
    else:
        args = parser.parse_args(args_list)
    console = Console(stderr=True, soft_wrap=True)
    interrupts = Interrupts()
    interrupts.install()
    try:
        return _run(args, rest, console, interrupts)
    except ServeboxError as error:
        console.print(f"servebox {args.command}: error: {error}", markup=False, highlight=False)
        return Outcome.BAD_INPUT.code


def _run(args: argparse.Namespace, rest: list[str], console: Console, interrupts: Interrupts) -> int:
    from servebox import toolfetch

    toolfetch.activate()  # the Pulumi CLI and kind an earlier `servebox up` fetched, first on PATH
    if args.command in PASS_THROUGH and any(arg in ("-h", "--help") for arg in rest):
        module = importlib.import_module(f"servebox.{args.command}")
        print(f"usage: servebox {args.command} [STACK] [OPTIONS]: STACK (default {DEFAULT_STACK}) gives the endpoint; "
              f"the options are these (without --stack and --url):\n")
        return _help_of(module)
    if args.command == "preflight":
        from servebox import preflight

        signal.signal(signal.SIGINT, signal.default_int_handler)  # no Pulumi child to own signals for
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

        return preflight.main(["--stack", args.stack, *rest])
    settings = stacks.parse_settings(getattr(args, "settings", []) or [])
    if args.command == "workshop":
        from servebox import roster, workshop

        if args.workshop_command == "up":
            # Read the roster before anything else, so a bad one costs nothing.
            roster.read_attendees(args.roster, args.event)
            workshop.validate_parallel(args.parallel)
    if args.command == "reap":
        from servebox import reaper

        now = reaper.parse_now(args.now)
    if args.command == "serve":
        from servebox import serving

        # The model is checked before the CLI is looked for: a bad file needs no Pulumi to be refused.
        if args.canary is not None and not args.name:
            raise ServeboxError("serve --canary: --name is required (the model the new version goes beside)")
        args.entry = serving.checked_entry(args.path, args.stack, name=args.name, format=args.format, protocol=args.protocol)
        if args.attendee:
            args.entry["attendee"] = args.attendee
    if args.command == "ephemeral":
        from servebox import ephemeral

        ephemeral.stack_name(ephemeral.EphemeralOptions(stack=args.stack, prefix=args.prefix))  # refuses a bad name
    if args.command in ("predict", "smoke"):
        _refuse_url_options(args.command, rest)
    if args.command == "up" and not args.skip_preflight:
        from servebox import preflight, project, toolfetch

        work_dir = project.work_dir(args.stack, project.work_root(os.environ, project.REPO))
        if (work_dir / "Pulumi.yaml").is_file():
            # A stack made by ephemeral or workshop keeps its config in its own work directory.
            preflight.stackfile.STACKS_DIR = work_dir / "stacks"
        # Preflight first, the CLI among its checks: one round reports everything missing, after
        # the tools a first run lacks were fetched where they can be. Its report goes to stderr
        # with the progress: stdout carries the outputs only.
        with contextlib.redirect_stdout(sys.stderr):
            given = [f"--set={key}={value}" for key, value in settings.items()]
            if not args.no_fetch:
                preflight.OVERRIDES.clear()
                preflight.OVERRIDES.update(settings)
                target = preflight.stack_target(args.stack, preflight.stackfile.STACKS_DIR)
                toolfetch.ensure(["pulumi", "kind"] if target == "kind" else ["pulumi"],
                                 lambda tool: not preflight.tool_is_usable(tool))
                toolfetch.activate()
            checked = preflight.main(["--stack", args.stack, *given]) == 0
        if not checked:
            raise ServeboxError(f"preflight found problems: fix the FAIL lines above, then run servebox up {args.stack} again")
        if interrupts.reason:
            return Outcome.INTERRUPTED.code
    pulumi = Pulumi(interrupts)
    if args.command == "up":
        from servebox import workstation

        return workstation.up(pulumi, args.stack, settings, args.ttl_hours, console).code
    if args.command == "down":
        from servebox import workstation

        return workstation.down(pulumi, args.stack, args.keep_stack, console).code
    if args.command == "logs":
        from servebox import workstation

        # No Pulumi child here: ^C is Python's own again, and stops following at once.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return workstation.model_logs(pulumi, args.stack, args.model, args.container, args.since, args.tail, args.follow).code
        except KeyboardInterrupt:
            return Outcome.PASSED.code  # the user stopped following
    if args.command == "dashboard":
        from servebox import project, workstation

        out = args.out or project.REPO / "build" / "dashboard" / f"{args.stack}.html"
        signal.signal(signal.SIGINT, signal.default_int_handler)  # no Pulumi child: ^C stops serving
        return workstation.model_dashboard(pulumi, args.stack, out, args.serve, args.port).code
    if args.command == "outputs":
        from servebox import workstation

        workstation.print_outputs(workstation.outputs(pulumi, args.stack))
        return 0
    if args.command == "status":
        from servebox import workstation

        if args.stack:
            return workstation.model_status(pulumi, args.stack, args.json, args.metrics).code
        lines = workstation.status(pulumi)
        _print_lines(lines, args.json, console, ("stack", "purpose", "expires_at", "workshop", "updating"))
        return 0
    if args.command in ("predict", "smoke"):
        return _model_command(pulumi, args.command, args.stack, rest)
    if args.command == "ephemeral":
        from servebox import ephemeral

        options = ephemeral.EphemeralOptions(
            stack=args.stack, settings=settings, timeout=args.timeout, keep_on_failure=args.keep_on_failure,
            summary_path=args.summary, prefix=args.prefix, ttl_hours=args.ttl_hours, smoke_count=args.count,
            min_accuracy=args.min_accuracy, smoke_timeout=args.smoke_timeout,
        )
        outcome, summary = ephemeral.EphemeralRun(options, pulumi, console).run()
        ephemeral.write_summary(summary, options.summary_path, console)
        return outcome.code
    if args.command == "workshop":
        return _workshop(pulumi, args, settings, console)
    if args.command in ("serve", "unserve", "promote", "rollback"):
        return _serve(pulumi, args, console)
    if args.command == "reap":
        outcome, report = reaper.reap(pulumi, reaper.ReapOptions(dry_run=args.dry_run, now=now))
        print(json.dumps(report, indent=2))
        return outcome.code
    raise AssertionError(args.command)


def _workshop(pulumi: Pulumi, args: argparse.Namespace, settings: dict[str, str], console: Console) -> int:
    from servebox import workshop

    if args.shared:
        return _shared_workshop(pulumi, args, settings, console)

    runner = workshop.Workshop(pulumi, console)
    if args.workshop_command == "up":
        options = workshop.WorkshopOptions(roster_path=args.roster, event=args.event, parallel=args.parallel,
                                           settings=settings, ttl_hours=args.ttl_hours, out_dir=args.out)
        outcome, results = runner.up(options)
        up_count = sum(result.status == "up" for result in results)
        console.print(f"servebox workshop up: {up_count}/{len(results)} stacks up; roster in "
                      f"{args.out / 'roster.csv'} and {args.out / 'roster.html'}", markup=False, highlight=False)
        for result in results:
            if result.status != "up":
                console.print(f"  {result.attendee.attendee} (row {result.attendee.row}): {result.status} after "
                              f"{result.attempts} attempt(s): {result.error or ''}", markup=False, highlight=False)
        return outcome.code
    if args.workshop_command == "status":
        lines = runner.status(args.event)
        _print_lines(lines, args.json, console, ("stack", "endpoint", "expires_at", "updating"))
        return 0
    outcome, reports = runner.down(args.event, args.parallel)
    print(json.dumps({"event": args.event, "stacks": reports}, indent=2))
    return outcome.code


def _shared_workshop(pulumi: Pulumi, args: argparse.Namespace, settings: dict[str, str], console: Console) -> int:
    from servebox import shared_workshop

    runner = shared_workshop.SharedWorkshop(pulumi, console)
    if args.workshop_command == "up":
        options = shared_workshop.SharedOptions(args.roster, args.event, settings, args.ttl_hours, args.out)
        outcome, rows = runner.up(options)
        console.print(f"servebox workshop up --shared: stack {args.event} {'up' if outcome.code == 0 else 'failed'}, "
                      f"{len(rows)} attendees; roster in {args.out / 'roster.csv'} and {args.out / 'roster.html'}"
                      + (f", kubeconfigs in {args.out / shared_workshop.KUBECONFIG_DIR}" if outcome.code == 0 else ""),
                      markup=False, highlight=False)
        if outcome.code != 0:
            console.print(f"  {rows[0]['error'] if rows else ''}", markup=False, highlight=False)
        return outcome.code
    if args.workshop_command == "status":
        lines = runner.status(args.event)
        _print_lines(lines, args.json, console, ("attendee", "namespace", "models", "ready", "not_ready"))
        return 0 if all(line["ready"] for line in lines) else Outcome.SMOKE_FAILED.code
    outcome, report = runner.down(args.event)
    print(json.dumps({"event": args.event, "stacks": [report]}, indent=2))
    return outcome.code


def _serve(pulumi: Pulumi, args: argparse.Namespace, console: Console) -> int:
    from servebox import serving, workstation

    def run_up():
        return workstation.up(pulumi, args.stack, {}, None, console)

    one_model = {
        "unserve": (lambda models: serving.without_model(models, args.name), "is no longer served"),
        "promote": (lambda models: serving.promoted(models, args.name), "is its canary now, answering every request"),
        "rollback": (lambda models: serving.rolled_back(models, args.name), "answers every request with its current version again"),
    }
    if args.command in one_model:
        change, done = one_model[args.command]
        outcome = serving.change_model(pulumi, args.stack, change, run_up)
        if outcome.code == 0:
            console.print(f"servebox {args.command}: {args.name} {done} on stack {args.stack}", markup=False)
        else:
            console.print(f"servebox {args.command}: {args.name} unchanged; stack {args.stack}'s models are as before", markup=False)
        return outcome.code
    if args.canary is not None:
        name, path, percent = args.entry["name"], Path(args.entry["path"]), args.canary
        outcome = serving.change_model(pulumi, args.stack, lambda models: serving.with_canary(models, name, path, percent), run_up)
        if outcome.code != 0:
            console.print(f"servebox serve: the canary of {name} was not served; stack {args.stack}'s models are as before", markup=False)
            return outcome.code
        console.print(f"servebox serve: {name}'s canary answers {percent}% of its requests on stack {args.stack} "
                      f"(servebox status {args.stack} shows both; then servebox promote {name} or servebox rollback {name})",
                      markup=False, highlight=False)
        return 0
    outcome, name = serving.serve_entry(pulumi, args.stack, args.entry, run_up)
    if outcome.code != 0:
        console.print(f"servebox serve: {name} was not served; stack {args.stack}'s models are as before", markup=False)
        return outcome.code
    shown, key = workstation.outputs_and_api_key(pulumi, args.stack)
    attendee = args.entry.get("attendee")
    if attendee:  # served in the attendee's namespace: its outputs are among theirs
        shown = {**shown, "models": ((shown.get("attendees") or {}).get(attendee) or {}).get("models") or {}}
    handle = serving.handle_from_outputs(name, args.stack, shown, api_key=key)
    console.print(f"servebox serve: {name} ({handle.format}, {handle.protocol}) answers at {handle.url}", markup=False, highlight=False)
    console.print(f"A ready request (body in request.json):\n{handle.curl}", markup=False, highlight=False)
    return 0


def _print_lines(lines: list[dict], as_json: bool, console: Console, columns: Sequence[str]) -> None:
    if as_json or not console.is_terminal:
        print(json.dumps(lines, indent=2))
        return
    from rich.table import Table

    table = Table(*columns)
    for line in lines:
        table.add_row(*("" if line.get(c) in (None, False) else str(line.get(c)) for c in columns))
    Console().print(table)


def _refuse_url_options(command: str, rest: list[str]) -> None:
    if any(arg.startswith("--url") or arg.startswith("--stack") for arg in rest):
        raise ServeboxError(f"servebox {command} takes the stack as its argument; for a URL use scripts/{'predict' if command == 'predict' else 'smoke_test'}.py --url")


def _model_command(pulumi: Pulumi, command: str, stack: str, rest: list[str]) -> int:
    """predict / smoke on a stack: its endpoint from the Automation API, then the same code as the scripts."""
    from components.model import auth
    from servebox import mnist_client, workstation

    protocol = next((rest[i + 1] for i, a in enumerate(rest[:-1]) if a == "--protocol"), None)
    try:
        outputs, key = workstation.outputs_and_api_key(pulumi, stack)
        endpoint = mnist_client.endpoint_from_outputs(outputs, stack=stack, protocol=protocol)
    except mnist_client.StackOutputsError as error:
        raise ServeboxError(str(error)) from None
    if endpoint.api_key is None and key:
        # The scripts below read the key where every client does; it is never on a command line.
        os.environ[auth.ENV] = key
    # No Pulumi child from here on: ^C is Python's own again, and stops the requests at once.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    forwarded = ["--url", endpoint.url, "--protocol", endpoint.protocol]
    if endpoint.host_header:
        forwarded += ["--host-header", endpoint.host_header]
    rest = [a for i, a in enumerate(rest) if a != "--protocol" and (i == 0 or rest[i - 1] != "--protocol")]
    if command == "predict":
        from servebox import predict

        return predict.main([*forwarded, *rest])
    from servebox import smoke

    return smoke.main([*forwarded, *rest])


def _help_of(module: object) -> int:
    """The options of servebox/<command>.py, from its own parser (argparse exits after --help)."""
    try:
        module.main(["--help"])  # type: ignore[attr-defined]  # every PASS_THROUGH module has a main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0
