"""A user's model artifact on disk: its format, whether its runtime can load it, and which
scikit-learn pickled it.

Pure: it reads files and never imports a framework or unpickles anything. The single-file rules
are those of KServe's servers at v0.20.0 (python/sklearnserver, xgbserver, lgbserver, pmmlserver
`model.py`: `load()` lists the model directory's top level only, keeps the regular files whose name
ends with the format's extensions, case-sensitively, and fails on none or on more than one). A
storageUri that names one file makes the storage initializer put only that file in /mnt/models,
so a file path is checked as the directory it becomes. The directory formats are checked as far
as their servers document a layout (components/model/formats.py FORMATS `layout`).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from components import versions
from components.model import pickle_scan
from components.model.formats import FORMATS

_LIGHTGBM_TEXT = b"tree\nversion="
"""How LightGBM's text model format begins (`tree`, then `version=v4`: LightGBM's
GBDT::SaveModelToString); XGBoost writes UBJSON, JSON or its old binary format instead."""
_SKLEARN_IMAGE_PACKAGES = frozenset(
    {"sklearn", "numpy", "scipy", "joblib", "threadpoolctl", "pandas", "pytz", "dateutil", "tzdata"}
)
"""Top-level packages of KServe's sklearn server image a pickle may import, besides the standard
library (kserve/kserve python/sklearnserver/uv.lock@v0.20.0)."""
_PY2_NAMES = frozenset({"__builtin__", "copy_reg"})  # protocols 0-2 spell builtins/copyreg this way


class ModelCheckError(ValueError):
    """A model artifact cannot be served as given; `problems` are the configuration messages."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def detect_format(path: str | Path, key: str = "path") -> str:
    """The format of a model file or directory, by extension and content; ModelCheckError if unclear."""
    path = Path(path)
    if not path.exists():
        raise ModelCheckError([_missing(path, key)])
    if path.is_file():
        found = _file_format(path)
        if isinstance(found, str):
            return found
        raise ModelCheckError([f"{key}: got {str(path)!r}; {found[0]}. Fix: {found[1]}"])
    directory = _directory_format(path)
    if directory:
        return directory
    formats = {name for f in _top_files(path) if isinstance(name := _file_format(f), str)}
    if len(formats) == 1:
        return formats.pop()
    found_words = f"model files of several formats ({', '.join(sorted(formats))})" if formats else "no model file"
    raise ModelCheckError([
        f"{key}: got {str(path)!r}, a directory with {found_words}; allowed: a directory whose format servebox "
        f"can tell ({_detectable()}). Fix: set the model's format, or point {key} at the one model file"
    ])


def check_layout(fmt: str, path: str | Path, key: str = "path", model_name: str | None = None) -> list[str]:
    """Problems with `path` as what `fmt`'s runtime loads; [] when it would load."""
    path = Path(path)
    spec = FORMATS[fmt]
    if not path.exists():
        return [_missing(path, key)]
    rule = f"allowed: {spec.layout}"
    if spec.extensions:
        return _check_single_file(fmt, path, key, rule)
    if not path.is_dir():
        return [f"{key}: got {str(path)!r}, a file; {rule}. Fix: point {key} at the directory that layout is in"]
    return _DIRECTORY_CHECKS[fmt](path, key, rule, model_name)


def model_file(fmt: str, path: str | Path) -> Path:
    """The one file the runtime loads (check_layout first)."""
    path = Path(path)
    if path.is_file():
        return path
    (found,) = _candidates(fmt, path)
    return found


def pickle_sklearn_version(path: str | Path) -> str | None:
    """The scikit-learn release a pickle or joblib file was written with, None if it holds no
    scikit-learn estimator; several releases come back comma-separated. Never unpickles."""
    found = pickle_scan.scan(path).sklearn_versions
    return ", ".join(sorted(found)) if found else None


def check_sklearn_version(
    path: str | Path, runtime_version: str = versions.SKLEARN_VERSION, key: str = "path"
) -> list[str]:
    """The pickle must be from the runtime's scikit-learn and import only what its image has."""
    path = Path(path)
    try:
        facts = pickle_scan.scan(path)
    except OSError as error:
        return [f"{key}: {path.name} cannot be read ({error.strerror}). Fix: check the file's permissions"]
    except pickle_scan.PickleScanError as error:
        return [f"{key}: {error}; allowed: a pickle or joblib dump, uncompressed or compressed with zlib, gzip, "
                f"bz2, xz or lzma. Fix: save the model with joblib.dump(model, '{path.stem}.joblib')"]
    problems = []
    other = sorted(facts.sklearn_versions - {runtime_version})
    if other:
        problems.append(
            f"{key}: {path.name} was pickled with scikit-learn {', '.join(other)}; allowed: scikit-learn "
            f"{runtime_version}, the release in {versions.SKLEARN_SERVER.ref} (a pickle loads only with the "
            f"release that wrote it). Fix: pip install scikit-learn=={runtime_version}, train the model again "
            f"(or load it) under that release, and joblib.dump(model, '{path.name}')"
        )
    foreign = sorted(g for g in facts.globals if not _image_has(g))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        problems.append(
            f"{key}: {path.name} imports {shown} when unpickled; allowed: the standard library and "
            f"{', '.join(sorted(_SKLEARN_IMAGE_PACKAGES))} (what {versions.SKLEARN_SERVER.ref} installs; classes "
            "defined in a notebook or script live in __main__, which the server does not have). Fix: build the "
            "model from scikit-learn's own classes, or serve it with its own framework's format"
        )
    return problems


def _image_has(qualified: str) -> bool:
    top = qualified.split(".", 1)[0]
    return top in _SKLEARN_IMAGE_PACKAGES or top in _PY2_NAMES or (top in sys.stdlib_module_names and top != "__main__")


def _missing(path: Path, key: str) -> str:
    return (f"{key}: got {str(path)!r}, which does not exist; allowed: a model file or directory on this machine. "
            f"Fix: point {key} at the saved model (or use uri for a model already in a bucket)")


def _file_format(path: Path) -> str | tuple[str, str]:
    """A file's format, or (what is wrong, the fix)."""
    name = path.name
    if name.endswith((".joblib", ".pkl", ".pickle")):
        return "sklearn"
    if name.endswith(".ubj"):
        return "xgboost"
    if name.endswith(".json"):
        return "xgboost" if _is_xgboost_json(path) else (
            "a JSON file that is not an XGBoost model (no top-level 'learner' object)",
            "save the Booster with booster.save_model('model.json')",
        )
    if name.endswith(".bst"):
        return "lightgbm" if _is_lightgbm_text(path) else "xgboost"
    for fmt in ("pmml", "onnx"):
        if name.endswith(f".{fmt}"):
            return fmt
    if name.endswith(".mar"):
        return "pytorch"
    return (f"servebox cannot tell the format of a {path.suffix or 'extensionless'} file; allowed: "
            f"{_detectable()}", "rename it to the extension its framework saves, or set the model's format")


def _detectable() -> str:
    return ("*.joblib/*.pkl/*.pickle (sklearn), *.ubj/*.json (xgboost), *.bst (xgboost or lightgbm, by content), "
            "*.pmml, or a TensorFlow SavedModel, TorchServe, Triton or Hugging Face directory")


def _directory_format(path: Path) -> str | None:
    if (path / "config" / "config.properties").is_file() or (path / "model-store").is_dir():
        return "pytorch"
    if any(path.glob("saved_model.pb")) or any(path.glob("*/saved_model.pb")):
        return "tensorflow"
    if (path / "config.json").is_file() and _hf_weights(path):
        return "huggingface"
    if any(path.glob("*/*/model.onnx")):
        return "onnx"
    return None


def _is_lightgbm_text(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(_LIGHTGBM_TEXT)) == _LIGHTGBM_TEXT


def _is_xgboost_json(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("learner"), dict)


def _top_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file())


def _candidates(fmt: str, path: Path) -> list[Path]:
    return [p for p in _top_files(path) if p.name.endswith(FORMATS[fmt].extensions)]


def _check_single_file(fmt: str, path: Path, key: str, rule: str) -> list[str]:
    spec = FORMATS[fmt]
    if path.is_file():
        if not path.name.endswith(spec.extensions):
            return [f"{key}: got {str(path)!r}; {rule}. Fix: save it with one of those extensions "
                    f"({', '.join(spec.extensions)}, lower-case: the server matches them exactly)"]
        files = [path]
    else:
        files = _candidates(fmt, path)
        if not files:
            deeper = [str(p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()
                      and p.name.endswith(spec.extensions)]
            where = (f" (the server reads only the top level, not {', '.join(deeper[:3])})" if deeper else "")
            return [f"{key}: got {str(path)!r}, a directory with no {'/'.join('*' + e for e in spec.extensions)} "
                    f"file{where}; {rule}. Fix: put the model file at the top of the directory"]
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            return [f"{key}: got {str(path)!r}, a directory with {len(files)} files the server would load "
                    f"({names}) and it loads exactly one; {rule}. Fix: keep one of them there, or point {key} "
                    "at the file itself"]
    (found,) = files
    if fmt == "lightgbm" and not _is_lightgbm_text(found):
        return [f"{key}: {found.name} is not a LightGBM text model (it does not start with 'tree' and 'version='); {rule}. "
                "Fix: booster.save_model('model.bst') (LGBMModel: model.booster_.save_model('model.bst'))"]
    if fmt == "xgboost" and found.name.endswith(".bst") and _is_lightgbm_text(found):
        return [f"{key}: {found.name} is a LightGBM model, not an XGBoost one; {rule}. Fix: set the format to lightgbm"]
    if fmt == "xgboost" and found.name.endswith(".json") and not _is_xgboost_json(found):
        return [f"{key}: {found.name} is not an XGBoost JSON model (no top-level 'learner' object); {rule}. "
                "Fix: booster.save_model('model.json')"]
    return []


def _check_tensorflow(path: Path, key: str, rule: str, _: str | None) -> list[str]:
    if (path / "saved_model.pb").is_file():
        return [f"{key}: got {str(path)!r}, a SavedModel without a version directory; {rule}. Fix: move its "
                f"contents into {path / '1'} (TensorFlow Serving loads numbered versions only)"]
    if not any(p.name.isdigit() and (p / "saved_model.pb").is_file() for p in path.iterdir() if p.is_dir()):
        return [f"{key}: got {str(path)!r}, a directory with no <version>/saved_model.pb; {rule}. "
                f"Fix: model.export('{path / '1'}') or tf.saved_model.save(model, '{path / '1'}')"]
    return []


def _check_pytorch(path: Path, key: str, rule: str, _: str | None) -> list[str]:
    problems = []
    if not (path / "config" / "config.properties").is_file():
        problems.append(f"{key}: {str(path)!r} has no config/config.properties; {rule}. Fix: write TorchServe's "
                        "config there (the runtime starts torchserve --ts-config=/mnt/models/config/config.properties)")
    if not any((path / "model-store").glob("*.mar")):
        problems.append(f"{key}: {str(path)!r} has no model-store/*.mar; {rule}. Fix: torch-model-archiver "
                        "--export-path model-store ...")
    return problems


def _check_onnx(path: Path, key: str, rule: str, model_name: str | None) -> list[str]:
    models = sorted(p for p in path.iterdir() if p.is_dir() and any(p.glob("*/model.onnx")))
    if len(models) != 1:
        got = ", ".join(p.name for p in models) if models else "none"
        return [f"{key}: got {str(path)!r} with {len(models)} Triton model directories ({got}); {rule}, exactly "
                f"one model. Fix: put the model at {path}/{model_name or '<name>'}/1/model.onnx"]
    (model,) = models
    if model_name and model.name != model_name:
        return [f"{key}: the Triton model directory is {model.name!r} but the model's name is {model_name!r}; "
                f"Triton serves it at /v2/models/{model.name}, not at /v2/models/{model_name}. "
                f"Fix: rename the directory to {model_name}"]
    if not all(v.name.isdigit() for v in model.iterdir() if v.is_dir() and (v / "model.onnx").is_file()):
        return [f"{key}: {model.name}'s version directories must be numbers; {rule}. Fix: {model.name}/1/model.onnx"]
    return []


def _hf_weights(path: Path) -> bool:
    return any(path.glob("*.safetensors")) or (path / "pytorch_model.bin").is_file() or any(path.glob("pytorch_model-*.bin"))


def _check_huggingface(path: Path, key: str, rule: str, _: str | None) -> list[str]:
    missing = [what for what, ok in (("config.json", (path / "config.json").is_file()),
                                     ("weights (*.safetensors or pytorch_model.bin)", _hf_weights(path))) if not ok]
    if missing:
        return [f"{key}: {str(path)!r} has no {' and no '.join(missing)}; {rule}. "
                "Fix: model.save_pretrained(dir) and tokenizer.save_pretrained(dir)"]
    return []


_DIRECTORY_CHECKS = {
    "tensorflow": _check_tensorflow,
    "pytorch": _check_pytorch,
    "onnx": _check_onnx,
    "huggingface": _check_huggingface,
}


def artifact_files(artifact: Path) -> list[tuple[Path, str]]:
    """(file, path relative to the model's directory) of everything a model artifact holds: the
    file itself, or every regular file under the directory (hidden ones left out)."""
    if artifact.is_file():
        return [(artifact, artifact.name)]
    return [
        (path, path.relative_to(artifact).as_posix())
        for path in sorted(artifact.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(artifact).parts)
    ]


def content_key(files: list[tuple[Path, str]]) -> str:
    """A digest of the files' names and bytes: the upload's directory changes exactly when they do."""
    digest = hashlib.sha256()
    for path, relative in files:
        digest.update(relative.encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()
