"""The sample's held-out digits and the Open Inference Protocol request that carries them: what the
program's proof at the end of `up` sends, and what servebox's client (servebox/mnist_client.py)
sends too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components import training as train_mnist


@dataclass(frozen=True)
class Sample:
    """One held-out MNIST digit: raw 0-255 pixels (row-major 28x28) and its true label."""

    index: int
    label: int
    pixels: tuple[int, ...]

    def inputs(self, input_scale: float = train_mnist.INPUT_SCALE) -> list[float]:
        """The 784 values the model expects: pixels times the training input scale."""
        return [value * input_scale for value in self.pixels]


def load_samples(count: int, *, seed: int = train_mnist.DEFAULT_SEED) -> list[Sample]:
    """The first `count` held-out digits of the bundled sample, split exactly as training does."""
    images, labels = train_mnist.load_digits("bundled")
    _, held_out_images, _, held_out_labels = train_mnist.split_digits(images, labels, seed=seed)
    if not 1 <= count <= len(held_out_labels):
        raise ValueError(f"count: got {count}; expected 1 to {len(held_out_labels)} (the held-out digits)")
    return [
        Sample(index=i, label=int(held_out_labels[i]), pixels=tuple(int(v) for v in held_out_images[i]))
        for i in range(count)
    ]


def v2_request(rows: Sequence[Sequence[float]]) -> dict[str, Any]:
    """An Open Inference Protocol request: one FP32 tensor shaped [n, 784], data row-major."""
    return {
        "inputs": [
            {
                "name": "input-0",
                "shape": [len(rows), train_mnist.IMAGE_PIXELS],
                "datatype": "FP32",
                "data": [value for row in rows for value in row],
            }
        ]
    }
