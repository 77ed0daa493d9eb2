"""The sample model artifact: built by components/training.py when missing or stale, else reused.

The Pulumi program calls this, so a user never trains by hand. The artifact lives under
build/model/ and is rebuilt only when its training inputs key (script, data source, seed, pinned
library versions) changes; the upload that follows is content-addressed by that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import training as train_mnist

# The training code and the client live in the project's package, which both the program and the
# users' tools import (the package never imports the program's components/model).
from components.model import digits

BUILD_DIR = Path(__file__).resolve().parents[2] / "build" / "model"


@dataclass(frozen=True)
class Artifact:
    """A trained model file and what describes it."""

    model_path: Path
    """The one file the runtime loads (model.joblib)."""
    key: str
    """Training inputs key: changes exactly when a retrain would produce another model."""
    accuracy: float
    """Held-out accuracy from metrics.json."""
    sample_request: dict[str, Any]
    """A V2 request holding one held-out digit, for the ready-to-paste curl."""
    sample_label: int
    """The true label of that digit."""


def ensure_sample_artifact(build_dir: Path = BUILD_DIR) -> Artifact:
    """Train into build_dir unless a current artifact is already there."""
    metrics = train_mnist.ensure_artifact(build_dir)
    (sample,) = digits.load_samples(1)
    # Four decimals keep the pasted request short; the model reads 0-1 pixel values.
    row = [round(value, 4) for value in sample.inputs(metrics["input_scale"])]
    return Artifact(
        model_path=build_dir / train_mnist.MODEL_FILENAME,
        key=metrics["training_inputs_key"],
        accuracy=float(metrics["held_out_accuracy"]),
        sample_request=digits.v2_request([row]),
        sample_label=sample.label,
    )
