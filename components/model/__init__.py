"""The sample model: its artifact, serving runtime, InferenceService and endpoint."""

from components.model.artifact import Artifact, ensure_sample_artifact
from components.model.mnist import MnistModel, MnistModelArgs

__all__ = ["Artifact", "MnistModel", "MnistModelArgs", "ensure_sample_artifact"]
