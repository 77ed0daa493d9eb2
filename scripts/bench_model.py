"""Measure the sample model as the cluster will serve it, on this machine; print figures vs targets.

Trains the artifact (or reuses a current one), starts the real runtime server on 127.0.0.1 —
MLServer with its sklearn runtime, configured with the environment servebox's ServingRuntime
gives the container on the cluster — and reports held-out accuracy, single-digit V2 latency
(p50/p99), batch throughput, training time and artifact size, each with PASS/MISS against its
target. It is a measuring tool, not a test: it always exits 0 unless it cannot run.

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

import mnist_client
import train_mnist

# The cluster's MLServer settings live in the ServingRuntime servebox authors; read, not copied.
RUNTIME_MODULE = train_mnist.REPO_ROOT / "components" / "model" / "runtime.py"
STARTUP_TIMEOUT = 90.0

TARGET_P50_MS = 5.0
TARGET_P99_MS = 20.0
TARGET_ARTIFACT_BYTES = 5_000_000
TARGET_TRAINING_SECONDS = 120.0
TARGET_ACCURACY = 0.94


@dataclass(frozen=True)
class LocalServer:
    """A running MLServer on 127.0.0.1 serving one model."""

    base_url: str
    model_name: str
    log_path: Path

    @property
    def infer_url(self) -> str:
        """The model's V2 infer URL."""
        return mnist_client.v2_infer_url(self.base_url, self.model_name)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def runtime_server_available() -> bool:
    """Whether MLServer and its sklearn runtime are importable in this environment."""
    return all(importlib.util.find_spec(name) is not None for name in ("mlserver", "mlserver_sklearn"))


def mlserver_environment(model_dir: Path, model_name: str, ports: dict[str, int], work_dir: Path) -> dict[str, str]:
    """The server's environment: the cluster's MLSERVER_* settings, bound to 127.0.0.1 and free ports.

    On the cluster the ServingRuntime's container env (components/model/runtime.py MLSERVER_ENV)
    applies, KServe fills in the model name and points the URI at the downloaded model, and the
    image runs `mlserver start` on that directory; here the directory is the local artifact.
    """
    runtime = train_mnist.load_repo_module(RUNTIME_MODULE)
    # Settings inherited from the caller's shell would silently change what is being tested.
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLSERVER_")}
    env.update(runtime.MLSERVER_ENV)
    env.update(
        {
            "MLSERVER_MODEL_NAME": model_name,
            "MLSERVER_MODEL_URI": str(model_dir),
            # Local-only: the pod owns its ports and listens on all interfaces.
            "MLSERVER_HOST": "127.0.0.1",
            "MLSERVER_HTTP_PORT": str(ports["http"]),
            "MLSERVER_GRPC_PORT": str(ports["grpc"]),
            "MLSERVER_METRICS_PORT": str(ports["metrics"]),
            "MLSERVER_METRICS_DIR": str(work_dir / "metrics"),
        }
    )
    return env


@contextlib.contextmanager
def local_model_server(
    model_dir: Path, *, model_name: str = mnist_client.DEFAULT_MODEL_NAME, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[LocalServer]:
    """Run `mlserver start <model_dir>` on free 127.0.0.1 ports until the model is ready; stop it on exit."""
    if not runtime_server_available():
        raise RuntimeError(
            "MLServer and its sklearn runtime are not installed here; install the project's test "
            "requirements (mlserver, mlserver-sklearn) to serve the model locally"
        )
    with tempfile.TemporaryDirectory(prefix="servebox-mlserver-") as work:
        work_dir = Path(work)
        ports = dict(zip(("http", "grpc", "metrics"), free_ports(3), strict=True))
        server = LocalServer(f"http://127.0.0.1:{ports['http']}", model_name, work_dir / "mlserver.log")
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                # The image's `mlserver start`, run by this interpreter so the same packages are used.
                [sys.executable, "-c", "from mlserver.cli import main; main()", "start", str(model_dir)],
                cwd=work_dir,
                env=mlserver_environment(model_dir, model_name, ports, work_dir),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: MLServer forks inference workers, and all of them must stop with it.
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
            raise RuntimeError(f"MLServer exited with code {process.returncode} while starting:\n{server.log_tail()}")
        try:
            mnist_client.send_json(ready_url, timeout=2.0)
            return
        except mnist_client.EndpointError as error:
            last_error = str(error)
        time.sleep(0.25)
    raise RuntimeError(f"MLServer was not ready within {timeout:g} s ({last_error}):\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            pass
    # Workers can outlive a parent that already exited; the group id is still ours.
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


def bench(artifact_dir: Path, *, requests: int, batch_size: int, batch_requests: int) -> list[str]:
    """Serve the artifact in artifact_dir (training it if needed) and return the report lines."""
    metrics = train_mnist.ensure_artifact(artifact_dir)
    samples = mnist_client.load_samples(max(batch_size, min(requests, metrics["held_out_size"])))
    rows = [sample.inputs(metrics["input_scale"]) for sample in samples]
    with local_model_server(artifact_dir) as server:
        endpoint = mnist_client.Endpoint(url=server.infer_url)
        for row in rows[:10]:  # warm-up: first calls pay for imports and worker start-up
            mnist_client.predict(endpoint, [row])
        single_ms: list[float] = []
        correct = 0
        for i in range(requests):
            sample = samples[i % len(samples)]
            started = time.perf_counter()
            (label,) = mnist_client.predict(endpoint, [rows[i % len(rows)]])
            single_ms.append((time.perf_counter() - started) * 1000)
            correct += label == sample.label
        batch = rows[:batch_size]
        started = time.perf_counter()
        for _ in range(batch_requests):
            mnist_client.predict(endpoint, batch)
        batch_seconds = time.perf_counter() - started

    p50 = statistics.median(single_ms)
    p99 = statistics.quantiles(single_ms, n=100)[98]
    size = metrics["model_bytes"]
    accuracy = metrics["held_out_accuracy"]
    training = metrics["training_seconds"]
    return [
        f"artifact           {artifact_dir / train_mnist.MODEL_FILENAME}",
        f"held-out accuracy  {accuracy:.4f} on {metrics['held_out_size']} digits    "
        f"target >= {TARGET_ACCURACY}  {_verdict(accuracy >= TARGET_ACCURACY)}",
        f"served accuracy    {correct / requests:.4f} over {requests} single-digit V2 requests",
        f"latency p50        {p50:.2f} ms    target <= {TARGET_P50_MS:g} ms  {_verdict(p50 <= TARGET_P50_MS)}",
        f"latency p99        {p99:.2f} ms    target <= {TARGET_P99_MS:g} ms  {_verdict(p99 <= TARGET_P99_MS)}",
        f"batch of {batch_size:<3d}       {batch_seconds / batch_requests * 1000:.1f} ms per request, "
        f"{batch_size * batch_requests / batch_seconds:.0f} digits/s over {batch_requests} requests",
        f"training time      {training:.1f} s    target <= {TARGET_TRAINING_SECONDS:g} s  "
        f"{_verdict(training <= TARGET_TRAINING_SECONDS)}",
        f"artifact size      {size / 1e6:.2f} MB    target <= {TARGET_ARTIFACT_BYTES / 1e6:g} MB  "
        f"{_verdict(size <= TARGET_ARTIFACT_BYTES)}",
        f"runtime            MLServer {importlib.metadata.version('mlserver')} (mlserver-sklearn) on 127.0.0.1, "
        f"model trained with scikit-learn {metrics['versions']['scikit-learn']}",
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
