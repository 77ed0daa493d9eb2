"""The models of a stack: the sample (artifact, runtime, smoke test) and the serving every model shares."""

from components.model.artifact import Artifact, ensure_sample_artifact
from components.model.models import Models, ModelsArgs
from components.model.served import ModelSpec

__all__ = ["Artifact", "ModelSpec", "Models", "ModelsArgs", "ensure_sample_artifact"]
