"""The model ``compare`` saves, and ``imbestimators predict`` that scores new rows.

``model.joblib`` is one scikit-learn Pipeline that takes the CSV's raw
columns (the preprocessing is its first step), refitted on all rows. It
carries ``compare_info_``: the candidate, the columns, the classes, the cost
matrix of the decisions and the versions that wrote it. ``model.py`` is the
Python that rebuilds and refits it.
"""

import platform
import pprint
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline

from .._version import __version__
from ..metrics import FixedOffsetsClassifier, decide
from ._data import InputError, _first_line, _read_table, _shorten
from ._model_code import estimator_source


def versions():
    """The versions a model is written with; the report states them."""
    return {"imbestimators": __version__, "scikit-learn": sklearn.__version__,
            "torch": torch.__version__, "python": platform.python_version()}


def save_model(out, candidate, estimator, dataset, cost_matrix, reason, threshold=None,
               offsets=None):
    """Refit ``estimator`` behind the preprocessing on all rows; write
    ``model.joblib`` and ``model.py`` into ``out``; return the pipeline.

    With a ``threshold``, the model decides the positive class when its
    probability is at least that (scikit-learn's ``FixedThresholdClassifier``);
    with class ``offsets``, by minimum expected cost on the probabilities
    they adjust (:class:`imbestimators.metrics.FixedOffsetsClassifier`).
    """
    if threshold is not None:
        estimator = FixedThresholdClassifier(
            estimator, threshold=threshold, pos_label=dataset.positive,
            response_method="predict_proba",
        )
    if offsets is not None:
        estimator = FixedOffsetsClassifier(estimator, cost_matrix=cost_matrix,
                                           offsets=list(offsets))
    pipeline = Pipeline([("preprocess", clone(dataset.preprocessor)),
                         ("model", estimator)])
    info = {
        "candidate": candidate.name,
        "description": candidate.description,
        "target": dataset.target,
        "columns": list(dataset.kinds.used),
        "numeric_columns": list(dataset.kinds.numeric),
        "na_values": list(dataset.kinds.na_values),
        "classes": dataset.classes.tolist(),
        "cost_matrix": None if cost_matrix is None else np.asarray(cost_matrix).tolist(),
        "threshold": threshold,
        "offsets": None if offsets is None else list(offsets),
    }
    source = model_source(pipeline, info, reason)
    pipeline.fit(dataset.X, dataset.y)
    pipeline.compare_info_ = dict(info, versions=versions())
    out = Path(out)
    joblib.dump(pipeline, out / "model.joblib")
    (out / "model.py").write_text(source)
    return pipeline


def model_source(pipeline, info, reason):
    """``model.py``: rebuilds the unfitted pipeline, refits it and saves it."""
    imports, expression = estimator_source(pipeline)
    written = ", ".join(f"{k} {v}" for k, v in versions().items())
    about = textwrap.fill(
        f"Candidate {info['candidate']}: {info['description']}. {reason} "
        f"Written by {written}.", width=79
    )
    return f'''"""Rebuild and refit the model that ``imbestimators compare`` saved.

{about}

    python model.py DATA.csv   # refits on every labelled row, writes model.joblib
    imbestimators predict model.joblib NEW.csv --out predictions.csv
"""

import sys

import joblib
import pandas as pd
import sklearn
import torch

import imbestimators
{chr(10).join(imports)}

INFO = {pprint.pformat(info, width=88, sort_dicts=False)}

model = {expression}

if __name__ == "__main__":
    frame = pd.read_csv(sys.argv[1], na_values=INFO["na_values"], low_memory=False)
    frame = frame[frame[INFO["target"]].notna()]
    y = frame.pop(INFO["target"]).to_numpy()
    model.fit(frame, y)
    model.compare_info_ = dict(INFO, versions={{
        "imbestimators": imbestimators.__version__,
        "scikit-learn": sklearn.__version__, "torch": torch.__version__}})
    joblib.dump(model, "model.joblib")
'''


def load_model(path):
    """The saved pipeline and its info; an InputError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file {str(path)!r} does not exist.")
    try:
        model = joblib.load(path)
    except Exception as exc:  # any unpickling failure is one line for the user
        raise InputError(
            f"cannot load {str(path)!r} as a model: {type(exc).__name__}: "
            f"{_first_line(exc)}"
        ) from exc
    info = getattr(model, "compare_info_", None)
    if not isinstance(info, dict) or "columns" not in info:
        raise InputError(
            f"{str(path)!r} was not written by imbestimators compare (no compare_info_)."
        )
    written = info.get("versions", {}).get("imbestimators", "?")
    if written.split(".")[0] != __version__.split(".")[0]:
        raise InputError(
            f"{str(path)!r} was written by imbestimators {written}, this is "
            f"{__version__}: another major version; refit it with its model.py."
        )
    return model, info


def check_columns(frame, info, id_column, notify):
    """The model's columns of ``frame``, numeric ones as numbers; errors name them."""
    missing = [c for c in info["columns"] if c not in frame.columns]
    if missing:
        raise InputError(
            f"the data lacks {len(missing)} column(s) the model needs: "
            f"{_shorten(missing)}."
        )
    X = frame[info["columns"]]
    for column in info["numeric_columns"]:
        if pd.api.types.is_numeric_dtype(X[column]):
            continue
        numbers = pd.to_numeric(X[column], errors="coerce")
        bad = X[column].notna() & numbers.isna() & ~X[column].astype(str).isin(
            info["na_values"])
        if bad.any():
            raise InputError(
                f"column {column!r} is numeric in the model but holds "
                f"{int(bad.sum())} non-numeric value(s), e.g. {X[column][bad].iloc[0]!r}."
            )
    extra = [c for c in frame.columns
             if c not in info["columns"] and c not in (id_column, info["target"])]
    if extra:  # after the checks: an error comes alone
        notify(f"ignoring {len(extra)} column(s) the model does not use: "
               f"{_shorten(extra)}.")
    return X


def _new_categories(model, X, notify):
    """Notice categories the one-hot encoder has not seen (they are encoded
    as infrequent, or as all zeros)."""
    preprocess = model.named_steps["preprocess"]
    for name, steps, columns in preprocess.transformers_:
        if name != "categorical":
            continue
        strings = steps[0].transform(X[columns])
        for column, known in zip(columns, steps[-1].categories_):
            unseen = ~strings[column].isin(known)
            if unseen.any():
                notify(f"column {column!r}: {int(unseen.sum())} row(s) with a category "
                       f"not seen in training (e.g. {strings[column][unseen].iloc[0]!r}), "
                       "encoded as the infrequent category or as none.")


def predict(model_path, data_path, out, id_column, notify):
    """Score ``data_path`` with the saved model; write ``out``; return the frame."""
    model, info = load_model(model_path)
    frame = _read_table(data_path, info["na_values"])
    if id_column is not None and id_column not in frame.columns:
        raise InputError(
            f"--id-column {id_column!r} is not a column of {Path(data_path).name}; "
            f"columns are {_shorten(frame.columns)}."
        )
    X = check_columns(frame, info, id_column, notify)
    _new_categories(model, X, notify)
    classes = np.asarray(info["classes"])
    proba = model.predict_proba(X)
    cost_matrix = None if info["cost_matrix"] is None else np.asarray(info["cost_matrix"])
    result = pd.DataFrame(index=frame.index)
    if id_column is not None:
        result[id_column] = frame[id_column]
    for k, label in enumerate(classes):
        result[f"proba_{label}"] = proba[:, k]
    # A tuned threshold or tuned offsets are the saved model's own decision;
    # otherwise the shared rule (most probable class, or minimum expected cost).
    tuned = info.get("threshold") is not None or info.get("offsets") is not None
    result["prediction"] = (model.predict(X) if tuned
                            else decide(proba, classes, cost_matrix))
    if out is None:
        result.to_csv(sys.stdout, index=False)
    else:
        result.to_csv(out, index=False)
    return result
