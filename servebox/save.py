"""Save a fitted model object as the file its KServe runtime loads: the first half of `serve()`.

The framework is read from the object's class and its whole MRO by module and qualified name, so
subclasses, Pipelines and the scikit-learn APIs of XGBoost and LightGBM are recognised without
importing any framework the object does not already come from (Kale matched `str(type(obj))` or
the first base class only, and missed `xgboost.sklearn.XGBClassifier`). Each framework is saved in
the native format that KServe's server at v0.20.0 loads (kserve/kserve python/*server/*/model.py):

- scikit-learn: `joblib.dump` to `model.joblib`; the sklearn server `joblib.load`s the one
  *.joblib/*.pkl/*.pickle file. A pickle loads only with the scikit-learn that wrote it, so this
  environment's scikit-learn must be the image's (components/versions.py SKLEARN_VERSION), and
  the written file is then checked from its opcodes (components/model/layout.py).
- XGBoost (`Booster`, or an `XGBModel` such as XGBClassifier through `get_booster()`):
  `save_model` to `model.json`; the xgbserver reads the one *.bst/*.json/*.ubj file's bytes into
  `xgb.Booster(model_file=bytearray(...))`, which tells JSON from UBJSON by content.
- LightGBM (`Booster`, or an `LGBMModel` through `booster_`): `save_model` to `model.bst`, the
  text model format; the lgbserver opens the one *.bst file with `Booster(model_file=...)`.

The XGBoost and LightGBM servers answer with `Booster.predict`: for a classifier that is the
probabilities, not the labels its scikit-learn wrapper's `predict` gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components import versions
from components.model import layout

FRAMEWORKS = ("sklearn", "xgboost", "lightgbm")
# (module, qualname) of the classes each framework's models derive from; the boosting libraries
# come first because their scikit-learn wrappers also derive from sklearn.base.BaseEstimator.
_BASES: tuple[tuple[str, str, str], ...] = (
    ("xgboost.core", "Booster", "xgboost"),
    ("xgboost.sklearn", "XGBModel", "xgboost"),
    ("lightgbm.basic", "Booster", "lightgbm"),
    ("lightgbm.sklearn", "LGBMModel", "lightgbm"),
    ("sklearn.base", "BaseEstimator", "sklearn"),
)
FILE_NAMES = {"sklearn": "model.joblib", "xgboost": "model.json", "lightgbm": "model.bst"}
RUNTIME_VERSIONS = {
    "sklearn": versions.SKLEARN_VERSION,
    "xgboost": versions.XGBOOST_VERSION,
    "lightgbm": versions.LIGHTGBM_VERSION,
}


class SaveError(ValueError):
    """The object cannot be saved as a model its runtime serves; the message says why and what to do."""


def framework_of(obj: Any) -> str:
    """`sklearn`, `xgboost` or `lightgbm`, from the object's class and everything it derives from."""
    mro = [(cls.__module__, cls.__qualname__) for cls in type(obj).__mro__]
    for module, qualname, framework in _BASES:
        if (module, qualname) in mro:
            return framework
    cls = type(obj)
    raise SaveError(
        f"model: got an object of class {cls.__module__}.{cls.__qualname__}; allowed: a fitted scikit-learn "
        "estimator or Pipeline (sklearn.base.BaseEstimator), an XGBoost Booster or XGBModel (XGBClassifier, "
        "XGBRegressor, ...), or a LightGBM Booster or LGBMModel (LGBMClassifier, ...). Fix: pass the fitted "
        "model itself, or save it yourself and pass the file's path"
    )


def save_model(obj: Any, directory: str | Path) -> tuple[Path, str]:
    """Write `obj` into `directory` in its runtime's native format; returns (file, format)."""
    framework = framework_of(obj)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAMES[framework]
    if framework == "sklearn":
        _save_sklearn(obj, path)
    elif framework == "xgboost":
        _check_release("xgboost", _installed("xgboost"))
        booster = obj if _is(obj, "xgboost.core", "Booster") else _fitted(obj, "get_booster", "xgboost")
        booster.save_model(str(path))
    else:
        _check_release("lightgbm", _installed("lightgbm"))
        booster = obj if _is(obj, "lightgbm.basic", "Booster") else _fitted(obj, "booster_", "lightgbm")
        booster.save_model(str(path))
    problems = layout.check_layout(framework, path, key="model")
    if problems:
        raise SaveError("\n".join(problems))
    return path, framework


def _save_sklearn(obj: Any, path: Path) -> None:
    installed = _installed("sklearn")
    if installed != versions.SKLEARN_VERSION:
        raise SaveError(
            f"model: this environment has scikit-learn {installed}; allowed: scikit-learn "
            f"{versions.SKLEARN_VERSION}, the release in {versions.SKLEARN_SERVER.ref} (a pickle loads only "
            f"with the release that wrote it). Fix: pip install scikit-learn=={versions.SKLEARN_VERSION}, "
            "fit the model again there, and serve it"
        )
    from sklearn.exceptions import NotFittedError  # sklearn is imported already: obj is one of its estimators
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(obj)
    except NotFittedError:
        raise SaveError(
            f"model: the {type(obj).__name__} is not fitted; allowed: a fitted estimator. Fix: call .fit(X, y) first"
        ) from None
    import joblib

    joblib.dump(obj, path)
    problems = layout.check_sklearn_version(path, key="model")
    if problems:
        path.unlink()
        raise SaveError("\n".join(problems))


def _fitted(obj: Any, attribute: str, framework: str) -> Any:
    try:
        found = getattr(obj, attribute)
        return found() if callable(found) else found
    except Exception:  # both libraries raise their own NotFitted errors (subclasses of different bases)
        raise SaveError(
            f"model: the {type(obj).__name__} is not fitted, so it has no {framework} Booster to save; allowed: "
            "a fitted model. Fix: call .fit(X, y) first"
        ) from None


def _is(obj: Any, module: str, qualname: str) -> bool:
    return any((c.__module__, c.__qualname__) == (module, qualname) for c in type(obj).__mro__)


def _installed(module: str) -> str:
    imported = __import__(module)
    return str(imported.__version__)


def _check_release(framework: str, installed: str) -> None:
    # Both libraries load models written by older releases; one written by a newer release may use
    # fields the image's release does not know.
    runtime = RUNTIME_VERSIONS[framework]
    if _minor(installed) > _minor(runtime):
        raise SaveError(
            f"model: this environment has {framework} {installed}, newer than the {framework} {runtime} in "
            f"KServe's {framework} server image ({_image(framework)}), which may not load what it writes; allowed: "
            f"{framework} <= {runtime}. Fix: pip install {framework}=={runtime}, train again and serve it"
        )


def _image(framework: str) -> str:
    return versions.XGB_SERVER.ref if framework == "xgboost" else versions.LGB_SERVER.ref


def _minor(version: str) -> tuple[int, int]:
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]
