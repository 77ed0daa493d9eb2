"""Measure the sample model as the cluster will serve it, on this machine; print figures vs targets.

Trains the artifact (or reuses a current one), starts KServe's scikit-learn server on 127.0.0.1 —
scripts/local_sklearnserver.py, with the arguments the cluster's ClusterServingRuntime gives the
container (components/model/runtime.py) — and reports held-out accuracy, single-digit latency
(p50/p99) over V2 and over V1, batch throughput, training time and artifact size, each with
PASS/MISS against its target. It is a measuring tool, not a test: it always exits 0 unless it
cannot run.

    python scripts/bench_model.py [--artifact-dir DIR] [--requests 200] [--batch-size 64]

`local_model_server()` is also what tests/model uses to serve the artifact.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for the servebox package

from servebox import mnist_client  # noqa: E402
from servebox import training as train_mnist  # noqa: E402

# The cluster's container arguments live with the model's runtime; read, not copied.
RUNTIME_MODULE = train_mnist.REPO_ROOT / "components" / "model" / "runtime.py"
SERVER_SCRIPT = Path(__file__).resolve().parent / "local_sklearnserver.py"
STARTUP_TIMEOUT = 90.0

TARGET_P50_MS = 5.0
TARGET_P99_MS = 20.0
TARGET_ARTIFACT_BYTES = 5_000_000
TARGET_TRAINING_SECONDS = 120.0
TARGET_ACCURACY = 0.94


@dataclass(frozen=True)
class LocalServer:
    """KServe's sklearn server running on 127.0.0.1, serving one model."""

    base_url: str
    model_name: str
    log_path: Path

    @property
    def infer_url(self) -> str:
        """The model's V2 infer URL."""
        return mnist_client.v2_infer_url(self.base_url, self.model_name)

    @property
    def predict_url(self) -> str:
        """The model's V1 predict URL."""
        return mnist_client.v1_predict_url(self.base_url, self.model_name)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def runtime_server_available() -> bool:
    """Whether KServe's server library and its storage library are importable here."""
    return all(importlib.util.find_spec(name) is not None for name in ("kserve", "kserve_storage"))


def server_command(
    model_dir: Path, model_name: str, http_port: int, arguments: list[str] | None = None
) -> list[str]:
    """The container's command line on this interpreter: the ClusterServingRuntime's arguments, or
    `arguments` as another stack gives them (Seldon's container args), with the two values that
    differ here put in: the model directory and a free port."""
    if arguments is None:
        runtime = train_mnist.load_repo_module(RUNTIME_MODULE)
        arguments = runtime.server_arguments(model_name, str(model_dir), http_port)
    local = {"--model_dir": str(model_dir), "--http_port": str(http_port)}
    arguments = [
        f"{flag}={local[flag]}" if flag in local else argument
        for argument in arguments
        for flag in [argument.split("=", 1)[0]]
    ]
    return [sys.executable, str(SERVER_SCRIPT), *arguments]


@contextlib.contextmanager
def local_model_server(
    model_dir: Path,
    *,
    model_name: str = mnist_client.DEFAULT_MODEL_NAME,
    startup_timeout: float = STARTUP_TIMEOUT,
    arguments: list[str] | None = None,
) -> Iterator[LocalServer]:
    """Serve model_dir on a free 127.0.0.1 port until the model is ready; stop the server on exit.
    `arguments` are the container's own where a stack sets them (server_command says what changes)."""
    if not runtime_server_available():
        raise RuntimeError(
            "KServe's server library is not installed here; install the project's test requirements "
            "(kserve, kserve-storage: scripts/test.sh does) to serve the model locally"
        )
    with tempfile.TemporaryDirectory(prefix="servebox-sklearnserver-") as work:
        work_dir = Path(work)
        (port,) = free_ports(1)
        server = LocalServer(f"http://127.0.0.1:{port}", model_name, work_dir / "server.log")
        # Settings inherited from the caller's shell would silently change what is being tested.
        env = {key: value for key, value in os.environ.items() if key != "PREDICT_PROBA"}
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                server_command(model_dir, model_name, port, arguments),
                cwd=work_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group, so that whatever the server starts stops with it.
                start_new_session=True,
            )
            try:
                _wait_until_ready(server, process, startup_timeout)
                yield server
            finally:
                _stop(process)


def _wait_until_ready(server: LocalServer, process: subprocess.Popen[bytes], timeout: float) -> None:
    ready_url = mnist_client.v2_ready_url(server.infer_url)
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the model server exited with code {process.returncode} while starting:\n{server.log_tail()}")
        try:
            mnist_client.send_json(ready_url, timeout=2.0)
            return
        except mnist_client.EndpointError as error:
            last_error = str(error)
        time.sleep(0.25)
    raise RuntimeError(f"the model server was not ready within {timeout:g} s ({last_error}):\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            pass
    # Children can outlive a parent that already exited; the group id is still ours.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def _time_single_digits(
    endpoint: mnist_client.Endpoint, rows: list[list[float]], samples: list[mnist_client.Sample], requests: int
) -> tuple[list[float], int]:
    """Latencies in ms of `requests` one-digit requests, and how many answers were right."""
    for row in rows[:10]:  # warm-up: first calls pay for imports and connection set-up
        mnist_client.predict(endpoint, [row])
    single_ms: list[float] = []
    correct = 0
    for i in range(requests):
        started = time.perf_counter()
        (label,) = mnist_client.predict(endpoint, [rows[i % len(rows)]])
        single_ms.append((time.perf_counter() - started) * 1000)
        correct += label == samples[i % len(samples)].label
    return single_ms, correct


def bench(artifact_dir: Path, *, requests: int, batch_size: int, batch_requests: int) -> list[str]:
    """Serve the artifact in artifact_dir (training it if needed) and return the report lines."""
    metrics = train_mnist.ensure_artifact(artifact_dir)
    samples = mnist_client.load_samples(max(batch_size, min(requests, metrics["held_out_size"])))
    rows = [sample.inputs(metrics["input_scale"]) for sample in samples]
    latencies: dict[str, tuple[list[float], int]] = {}
    with local_model_server(artifact_dir) as server:
        endpoints = {
            "v2": mnist_client.Endpoint(url=server.infer_url),
            "v1": mnist_client.Endpoint(url=server.predict_url, protocol="v1"),
        }
        for protocol, endpoint in endpoints.items():
            latencies[protocol] = _time_single_digits(endpoint, rows, samples, requests)
        batch = rows[:batch_size]
        started = time.perf_counter()
        for _ in range(batch_requests):
            mnist_client.predict(endpoints["v2"], batch)
        batch_seconds = time.perf_counter() - started

    size = metrics["model_bytes"]
    accuracy = metrics["held_out_accuracy"]
    training = metrics["training_seconds"]
    lines = [
        f"artifact           {artifact_dir / train_mnist.MODEL_FILENAME}",
        f"held-out accuracy  {accuracy:.4f} on {metrics['held_out_size']} digits    "
        f"target >= {TARGET_ACCURACY}  {_verdict(accuracy >= TARGET_ACCURACY)}",
    ]
    for protocol, (single_ms, correct) in latencies.items():
        p50 = statistics.median(single_ms)
        p99 = statistics.quantiles(single_ms, n=100)[98]
        name = protocol.upper()
        lines += [
            f"served accuracy    {correct / requests:.4f} over {requests} single-digit {name} requests",
            f"{name} latency p50     {p50:.2f} ms    target <= {TARGET_P50_MS:g} ms  {_verdict(p50 <= TARGET_P50_MS)}",
            f"{name} latency p99     {p99:.2f} ms    target <= {TARGET_P99_MS:g} ms  {_verdict(p99 <= TARGET_P99_MS)}",
        ]
    return lines + [
        f"V2 batch of {batch_size:<3d}    {batch_seconds / batch_requests * 1000:.1f} ms per request, "
        f"{batch_size * batch_requests / batch_seconds:.0f} digits/s over {batch_requests} requests",
        f"training time      {training:.1f} s    target <= {TARGET_TRAINING_SECONDS:g} s  "
        f"{_verdict(training <= TARGET_TRAINING_SECONDS)}",
        f"artifact size      {size / 1e6:.2f} MB    target <= {TARGET_ARTIFACT_BYTES / 1e6:g} MB  "
        f"{_verdict(size <= TARGET_ARTIFACT_BYTES)}",
        f"runtime            KServe {importlib.metadata.version('kserve')} sklearn server on 127.0.0.1 "
        f"(scripts/local_sklearnserver.py), model trained with scikit-learn {metrics['versions']['scikit-learn']}",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return 0 after printing the figures, 2 when it could not measure."""
    parser = argparse.ArgumentParser(description="Benchmark the MNIST sample model on the real runtime server.")
    parser.add_argument(
        "--artifact-dir", type=Path, help="train into / reuse this directory (default: a temporary one)"
    )
    parser.add_argument("--requests", type=int, default=200, help="single-digit requests to time (default 200)")
    parser.add_argument("--batch-size", type=int, default=64, help="digits per batch request (default 64)")
    parser.add_argument("--batch-requests", type=int, default=20, help="batch requests to time (default 20)")
    args = parser.parse_args(argv)
    try:
        with contextlib.ExitStack() as stack:
            artifact_dir = args.artifact_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            lines = bench(
                artifact_dir, requests=args.requests, batch_size=args.batch_size, batch_requests=args.batch_requests
            )
    # Version pin, artifact directory and server start-up errors are all RuntimeErrors.
    except (RuntimeError, mnist_client.EndpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
