"""A FAKE Pulumi CLI, for the control-flow tests of the `servebox` command. It deploys nothing.

This is the one fake of the project, and it exists because CI has no Pulumi CLI, no Docker and no
cloud: it answers the calls the Pulumi Automation API (the pinned `pulumi` SDK's automation/
_local_workspace.py and _stack.py) makes, in the argument and output formats that SDK parses, so
that servebox's real Automation API code runs unchanged against it. What it proves is servebox's
control flow (cleanup on every failure and signal, parallelism, retries, the reaper's rules), never
that Pulumi or the cloud works: a real `servebox ephemeral` on a machine with the CLI proves that.

A fixture (tests/cli/conftest.py) copies this file to `<tmp>/bin/pulumi` with the test's Python
as its interpreter and puts it first on PATH. It keeps stacks the way the DIY (file) backend does,
under the directory of PULUMI_BACKEND_URL: `.pulumi/stacks/<project>/<stack>.json` (config, tags,
outputs, resources) and the lock `.pulumi/locks/organization/<project>/<stack>/<uuid>.json` with
{pid, username, hostname, timestamp} while an update runs (pkg/backend/diy/lock.go).

Each test writes a script, JSON at $FAKE_PULUMI_SCRIPT:
    {"version": "3.272.0",
     "outputs": {...},            # what `up` leaves as stack outputs; "{stack}" is replaced
     "secret_outputs": [...],     # which of them are secrets
     "resources": 3,              # resources an `up` creates (one engine event pair each)
     "rules": [{"command": "up", "stack": "regex", "times": 1,
                "action": "fail" | "hang" | "ok", "stderr": "...", "hold": 0.2,
                "exit_on_interrupt_after": 0.0}]}
A rule applies to the first `times` matching calls (all when absent); "hang" waits until the CLI
is interrupted (SIGINT or SIGTERM: it then prints the CLI's cancel message and exits 255, as the
real CLI's graceful cancel ends). Every call is appended to $FAKE_PULUMI_LOG as one JSON line:
argv (without --non-interactive), cwd, pid, start, end, result, and the environment keys the
tests check; an update also writes a line with result "running" when it has taken the lock.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

RECORDED_ENV = ("PULUMI_BACKEND_URL", "PULUMI_K8S_DELETE_UNREACHABLE", "PULUMI_CONFIG_PASSPHRASE_FILE")
CANCEL_MESSAGE = (
    "^C received; cancelling. If you would like to terminate immediately, press ^C again.\n"
    "Note that terminating immediately may lead to orphaned resources and other inconsistencies."
)
START = time.time()
ARGS = [a for a in sys.argv[1:] if a != "--non-interactive"]


class Exit(Exception):
    def __init__(self, code: int, result: str) -> None:
        self.code, self.result = code, result


def log(result: str) -> None:
    path = os.environ.get("FAKE_PULUMI_LOG")
    if not path:
        return
    entry = {
        "args": ARGS,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "start": START,
        "end": time.time(),
        "result": result,
        "env": {key: os.environ[key] for key in RECORDED_ENV if key in os.environ},
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def script() -> dict:
    path = os.environ.get("FAKE_PULUMI_SCRIPT")
    return json.loads(Path(path).read_text()) if path and Path(path).is_file() else {}


def option(name: str) -> str | None:
    for index, arg in enumerate(ARGS):
        if arg == name and index + 1 < len(ARGS):
            return ARGS[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def words() -> list[str]:
    """The command words: `stack init`, `config set-all`, `up`..."""
    found = []
    for arg in ARGS:
        if arg.startswith("-"):
            break
        found.append(arg)
    return found


def state_root() -> Path:
    url = os.environ.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        sys.stderr.write(f"fake pulumi: PULUMI_BACKEND_URL must be a file:// URL, got {url!r}\n")
        raise Exit(2, "no-backend")
    return Path(url[len("file://") :].split("?", 1)[0]) / ".pulumi"


def project() -> str:
    try:
        match = re.search(r"^name:\s*(\S+)", Path("Pulumi.yaml").read_text(), re.M)
    except OSError:
        match = None
    return match.group(1) if match else "servebox"


def stack_file(name: str) -> Path:
    return state_root() / "stacks" / project() / f"{name}.json"


def load(name: str) -> dict | None:
    path = stack_file(name)
    return json.loads(path.read_text()) if path.is_file() else None


def save(name: str, data: dict) -> None:
    path = stack_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def require(name: str | None) -> dict:
    data = load(name) if name else None
    if data is None:
        sys.stderr.write(f"error: no stack named '{name}' found\n")
        raise Exit(255, "not-found")
    return data


def namespaced(key: str) -> str:
    """ParseConfigKey (pkg/cmd/pulumi/config/config.go): a key without a namespace is the project's."""
    return key if ":" in key else f"{project()}:{key}"


def coerce(text: str):
    """config/object.go `coerce`: "true"/"false" become booleans, decimal integers numbers (but not
    one with a leading zero, kept as text); everything else stays text."""
    if text in ("true", "false"):
        return text == "true"
    if len(text) > 1 and text[0] == "0":
        return text
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) and -(2**63) <= int(text) < 2**64 else text


def lock_dir(name: str) -> Path:
    return state_root() / "locks" / "organization" / project() / name


def matching_rule(command: str, stack: str | None) -> dict:
    """The first rule for this call that has uses left; uses are counted in the state directory."""
    for index, rule in enumerate(script().get("rules", [])):
        if rule.get("command") != command:
            continue
        if rule.get("stack") and not re.fullmatch(rule["stack"], stack or ""):
            continue
        if "times" in rule:
            counter = state_root() / "fake-rule-uses" / f"{index}-{stack}"
            counter.parent.mkdir(parents=True, exist_ok=True)
            used = int(counter.read_text()) if counter.is_file() else 0
            if used >= rule["times"]:
                continue
            counter.write_text(str(used + 1))
        return rule
    return {}


class EventSender:
    """Engine events to the SDK: its gRPC Events server (--event-log tcp://...), as CLI > 3.205 sends them."""

    def __init__(self, target: str | None) -> None:
        self.sequence = 0
        self.requests: list = []
        self.target = target

    def add(self, **event: object) -> None:
        self.sequence += 1
        self.requests.append(json.dumps({"sequence": self.sequence, "timestamp": int(time.time()), **event}))

    def flush(self) -> None:
        if not self.target or not self.requests:
            return
        if self.target.startswith("tcp://"):
            import grpc
            from pulumi.runtime.proto import events_pb2, events_pb2_grpc

            with grpc.insecure_channel(self.target[len("tcp://") :]) as channel:
                stub = events_pb2_grpc.EventsStub(channel)
                stub.StreamEvents(iter([events_pb2.EventRequest(event=e) for e in self.requests]))
        else:
            with open(self.target, "a", encoding="utf-8") as out:
                out.write("".join(e + "\n" for e in self.requests))
        self.requests = []


def resource_events(sender: EventSender, stack: str, op: str, count: int, fail_last: bool) -> None:
    for index in range(count):
        urn = f"urn:pulumi:{stack}::{project()}::kubernetes:helm.sh/v3:Release::release-{index}"
        meta = {"op": op, "urn": urn, "type": "kubernetes:helm.sh/v3:Release", "provider": ""}
        sender.add(resourcePreEvent={"metadata": meta, "planning": False})
        if fail_last and index == count - 1:
            sender.add(diagnosticEvent={"message": "release failed", "color": "never", "severity": "error", "urn": urn})
            sender.add(resOpFailedEvent={"metadata": meta, "status": 1, "steps": 1})
        else:
            sender.add(resOutputsEvent={"metadata": meta, "planning": False})


RECEIVED: list[int] = []
"""Signals received: like the real CLI, the fake catches SIGINT and SIGTERM from its first moment."""


def _on_signal(signum: int, _frame: object) -> None:
    RECEIVED.append(signum)


def cancelled() -> None:
    """The end of the CLI's graceful cancel."""
    print(CANCEL_MESSAGE, flush=True)
    sys.stderr.write("error: update canceled\n")
    raise Exit(255, f"interrupted:{signal.Signals(RECEIVED[0]).name}")


def pause(seconds: float) -> None:
    """Sleep, but end as the CLI does when interrupted."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if RECEIVED:
            cancelled()
        time.sleep(0.01)


def wait_for_interrupt(rule: dict) -> None:
    print("updating... (fake: waiting to be interrupted)", flush=True)
    deadline = time.time() + float(rule.get("hang_limit", 60))
    while not RECEIVED and time.time() < deadline:
        time.sleep(0.01)
    if not RECEIVED:
        sys.stderr.write("fake pulumi: hung for hang_limit seconds and nobody interrupted it\n")
        raise Exit(3, "hang-timeout")
    time.sleep(float(rule.get("exit_on_interrupt_after", 0.0)))
    cancelled()


def run_update(name: str, op: str) -> None:
    data = require(name)
    rule = matching_rule({"create": "up", "delete": "destroy"}.get(op, op), name)
    spec = script()
    locks = lock_dir(name)
    if locks.is_dir() and any(locks.glob("*.json")):
        holders = ", ".join(p.read_text() for p in locks.glob("*.json"))
        sys.stderr.write(
            f"error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
            f"or delete the lock file with `pulumi cancel`.\n  {holders}\n"
        )
        raise Exit(255, "locked")
    locks.mkdir(parents=True, exist_ok=True)
    lock = locks / f"{uuid.uuid4()}.json"
    lock.write_text(json.dumps({"pid": os.getpid(), "username": "tester", "hostname": socket.gethostname(),
                                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    sender = EventSender(option("--event-log"))
    log("running")  # a line of its own, so a test can wait for the update to be under way
    try:
        count = int(spec.get("resources", 3)) if op == "create" else int(data.get("resources", 0))
        action = rule.get("action", "ok")
        sender.add(preludeEvent={"config": {}})
        resource_events(sender, name, op, count, fail_last=action == "fail")
        sender.flush()
        pause(float(rule.get("hold", 0.0)))
        if action == "hang":
            wait_for_interrupt(rule)
        if action == "fail":
            sys.stderr.write(rule.get("stderr", "error: update failed") + "\n")
            raise Exit(255, "failed")
        sender.add(summaryEvent={"maybeCorrupt": False, "durationSeconds": 1, "resourceChanges": {op: count}})
        sender.flush()
        if op == "refresh":
            pass  # the state stays as it is: the fake has no cloud to compare with
        elif op == "create":
            outputs = json.loads(json.dumps(spec.get("outputs", {})).replace("{stack}", name))
            data.update(outputs=outputs, resources=count, secret_outputs=spec.get("secret_outputs", []))
        else:
            data.update(outputs={}, resources=0)
        data["history"] = "succeeded"
        save(name, data)
        print(f"{op} complete ({count} resources)")
    finally:
        lock.unlink(missing_ok=True)


def main() -> None:
    command = words()
    name = option("--stack")
    if command == ["version"]:
        print("v" + script().get("version", "3.272.0"))
        return
    key = " ".join(command[:2]) if command[:1] in (["stack"], ["config"]) else " ".join(command[:1])
    if key == "stack tag":
        key = " ".join(command[:3])
    # Updates match their rule themselves (run_update), once per call.
    rule = {} if key in ("up", "destroy", "refresh") else matching_rule(key, name or (command[2] if key == "stack init" and len(command) > 2 else None))
    if rule.get("action") == "fail":
        sys.stderr.write(rule.get("stderr", f"error: {key} failed") + "\n")
        raise Exit(255, "failed")
    if rule.get("action") == "hang":
        wait_for_interrupt(rule)
    if key == "whoami":
        print(json.dumps({"user": "tester", "url": os.environ.get("PULUMI_BACKEND_URL")}) if "--json" in ARGS else "tester")
    elif key == "stack init":
        new = command[2]
        if load(new) is not None:
            sys.stderr.write(f"error: stack '{new}' already exists\n")
            raise Exit(255, "exists")
        save(new, {"config": {}, "tags": {}, "outputs": {}, "resources": 0, "secret_outputs": []})
        print(f"Created stack '{new}'")
    elif key == "stack select":
        require(name)
    elif key == "stack ls":
        tag = option("--tag")
        entries = []
        directory = state_root() / "stacks" / project()
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            data = json.loads(path.read_text())
            if tag:
                tag_name, _, tag_value = tag.partition("=")
                if tag_name not in data["tags"] or (tag_value and data["tags"][tag_name] != tag_value):
                    continue
            locks = lock_dir(path.stem)
            entries.append({"name": path.stem, "current": False, "resourceCount": data["resources"],
                            "updateInProgress": locks.is_dir() and any(locks.glob("*.json"))})
        print(json.dumps(entries))
    elif key == "stack tag set":
        data = require(name)
        data["tags"][command[3]] = command[4]
        save(name, data)
    elif key == "stack tag ls":
        print(json.dumps(require(name)["tags"]))
    elif key == "config set-all":
        data = require(name)
        values = [ARGS[i + 1] for i, a in enumerate(ARGS) if a in ("--plaintext", "--secret")]
        for pair in values:
            config_key, _, value = pair.partition("=")
            path = re.fullmatch(r"(\w+)\[(\d+)\]\.(\w+)", config_key) if "--path" in ARGS else None
            if path:
                # `--path models[0].minReplicas=2`: a list of objects under `models`, each leaf coerced
                # as config.Map.Set does for a path longer than one (coerceObject: "2" -> 2, "true" -> true).
                items = data["config"].setdefault(namespaced(path.group(1)), [])
                while len(items) <= int(path.group(2)):
                    items.append({})
                items[int(path.group(2))][path.group(3)] = coerce(value)
            else:
                data["config"][namespaced(config_key)] = value  # a plain key keeps its text
        save(name, data)
        # The real CLI writes the stack's config file in the work directory (stackConfigDir: stacks).
        config_file = Path("stacks") / f"Pulumi.{name}.yaml"
        config_file.parent.mkdir(exist_ok=True)
        config_file.write_text(json.dumps({"config": data["config"]}))  # JSON is YAML
    elif key == "config get":
        # `config get KEY --json [--path]`: {"value": ..., "secret": false}; an unset key is an error.
        data = require(name)
        if namespaced(command[2]) not in data["config"]:
            sys.stderr.write(f"error: configuration key '{command[2]}' not found for stack '{name}'\n")
            raise Exit(255, "not found")
        value = data["config"][namespaced(command[2])]
        print(json.dumps({"value": value if isinstance(value, str) else json.dumps(value), "secret": False}))
    elif key == "config rm":
        data = require(name)
        data["config"].pop(namespaced(command[2]), None)
        save(name, data)
    elif key == "up":
        run_update(name, "create")
    elif key == "destroy":
        run_update(name, "delete")
    elif key == "refresh":
        run_update(name, "refresh")
    elif key == "stack export":
        data = require(name)
        print(json.dumps({"version": 3, "deployment": {"resources": [{"urn": urn} for urn in data.get("urns", [])]}}))
    elif key == "stack output":
        data = require(name)
        shown = "--show-secrets" in ARGS
        print(json.dumps({k: (v if shown or k not in data["secret_outputs"] else "[secret]")
                          for k, v in data["outputs"].items()}))
    elif key == "stack history":
        data = require(name)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        print(json.dumps([{"kind": "update", "startTime": stamp, "endTime": stamp, "message": "", "environment": {},
                           "config": {}, "result": data.get("history", "succeeded"), "version": 1}]))
    elif key == "stack rm":
        # `stack rm --yes [--force] [--preserve-config] NAME` (the SDK's remove_stack) or `--stack NAME`.
        positional = [a for a in ARGS[2:] if not a.startswith("-")]
        gone = positional[-1] if positional and not name else name
        data = require(gone)
        if data["resources"] and "--force" not in ARGS:
            sys.stderr.write(f"error: '{gone}' still has resources; removal rejected. Possible actions: "
                             "- Make sure that 'destroy' has run ...\n")
            raise Exit(255, "has-resources")
        stack_file(gone).unlink()
    elif key == "cancel":
        for lock in lock_dir(name).glob("*.json"):
            lock.unlink()
    else:
        sys.stderr.write(f"fake pulumi: no answer scripted for {ARGS}\n")
        raise Exit(2, "unknown")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        main()
    except Exit as stop:
        log(stop.result)
        sys.exit(stop.code)
    log("ok")
