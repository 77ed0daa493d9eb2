"""Start a real server of the tests (moto, the GCS emulator) on 127.0.0.1 and stop it afterwards.

Readiness is a plain TCP connect, not an HTTP request: with its IAM checks on, moto counts every
request it serves before the checks begin, and a probe would be one of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import bench_model


@contextlib.contextmanager
def serving(
    argv: Sequence[str], work_dir: Path, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Iterator[int]:
    """Run `argv` with `{port}` replaced by a free port; yield the port once it accepts connections."""
    (port,) = bench_model.free_ports(1)
    log_path = work_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [part.replace("{port}", str(port)) for part in argv],
            cwd=work_dir,
            env=None if env is None else dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{argv[0]} did not listen on 127.0.0.1:{port}: {log_path.read_text()}") from None
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextlib.contextmanager
def moto(work_dir: Path, setup_requests: int) -> Iterator[str]:
    """moto's S3/IAM/STS server with its checks on after `setup_requests` requests; yields its URL."""
    with serving(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
        work_dir,
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(setup_requests)},
    ) as port:
        yield f"http://127.0.0.1:{port}"


def moto_policy(policy_document: str) -> str:
    """A policy of the program's, as moto must be given it: moto authorizes HeadBucket as its own
    action `s3:HeadBucket`, where S3 and MinIO authorize it as `s3:ListBucket`."""
    policy = json.loads(policy_document)
    for statement in policy["Statement"]:
        if "s3:ListBucket" in statement["Action"]:
            statement["Action"] = [*statement["Action"], "s3:HeadBucket"]
    return json.dumps(policy)
