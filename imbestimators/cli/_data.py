"""Reading the user's table, checking it, and the per-fold preprocessing."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import type_of_target

from ..datasets import load_yeast_me2
from ..utils import check_cost_matrix


class InputError(Exception):
    """Bad input: reported as one line and exit status 2, never a traceback."""


@dataclass
class Dataset:
    """The table split into features and labels, and how to preprocess it."""

    name: str
    target: str
    X: pd.DataFrame
    y: np.ndarray
    classes: np.ndarray
    positive: object
    preprocessor: ColumnTransformer
    sparse: bool
    notices: list = field(default_factory=list)
    description: str = ""


def load_dataset(path, target, text_column=None, quick=False):
    """Read ``path`` (or the bundled yeast ME2 data when None) into a Dataset."""
    if path is None:
        bunch = load_yeast_me2(as_frame=True)
        frame = bunch.data.copy()
        frame["target"] = bunch.target
        name, description, target = "yeast_me2", bunch.DESCR, "target"
    else:
        frame = _read_table(path)
        name, description = Path(path).name, ""
    if target not in frame.columns:
        raise InputError(
            f"--target {target!r} is not a column of {name}; columns are "
            f"{_shorten(frame.columns)}."
        )
    notices = []
    missing_target = frame[target].isna()
    if missing_target.any():
        notices.append(
            f"dropped {int(missing_target.sum())} rows with no {target!r} label."
        )
        frame = frame.loc[~missing_target]
    y = _check_target(frame.pop(target).to_numpy(), target)
    if text_column is not None and text_column not in frame.columns:
        raise InputError(
            f"--text-column {text_column!r} is not a column of {name}; columns are "
            f"{_shorten(frame.columns)}."
        )
    if frame.shape[1] == 0:
        raise InputError(f"{name} has no feature columns besides --target {target!r}.")
    preprocessor, sparse = _preprocessor(frame, text_column, quick, notices)
    classes, counts = np.unique(y, return_counts=True)
    return Dataset(
        name=name, target=target, X=frame, y=y, classes=classes,
        positive=classes[np.argmin(counts)],
        preprocessor=preprocessor, sparse=sparse, notices=notices,
        description=description,
    )


def _read_table(path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"data file {str(path)!r} does not exist.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as exc:
        raise InputError(f"cannot read {str(path)!r} as CSV: {_first_line(exc)}") from exc
    if len(frame) == 0:
        raise InputError(f"{str(path)!r} has a header but no rows.")
    return frame


def _check_target(y, target):
    kind = type_of_target(y)
    if kind == "continuous":
        raise InputError(
            f"--target {target!r} holds {len(np.unique(y))} distinct non-integer "
            "numbers: it looks continuous, and compare needs class labels."
        )
    if kind not in ("binary", "multiclass"):
        raise InputError(f"--target {target!r} is not a column of class labels ({kind}).")
    classes = np.unique(y)
    if len(classes) < 2:
        raise InputError(
            f"--target {target!r} has a single class ({classes[0]!r}); "
            "compare needs at least two."
        )
    return y


def _preprocessor(frame, text_column, quick, notices):
    """Per-fold preprocessing of the raw columns: fitted inside each training
    fold, never on test rows, and saved with the model (``predict`` reads the
    same raw columns)."""
    columns = [c for c in frame.columns if c != text_column]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in columns if c not in numeric]
    transformers = []
    if numeric:
        has_nan = frame[numeric].isna().any()
        if has_nan.any():
            nan_columns = list(has_nan.index[has_nan])
            notices.append(
                f"imputing {int(frame[nan_columns].isna().sum().sum())} missing values in "
                f"{len(nan_columns)} numeric columns ({_shorten(nan_columns)}) with the "
                "training-fold median, plus a missing-value indicator column each."
            )
        transformers.append((
            "numeric", SimpleImputer(strategy="median", add_indicator=True), numeric
        ))
    sparse = text_column is not None
    if categorical:
        notices.append(
            f"one-hot encoding {len(categorical)} non-numeric columns "
            f"({_shorten(categorical)}; at most 50 categories each, missing values as "
            "their own category); pass free text as --text-column instead."
        )
        transformers.append((
            "categorical",
            make_pipeline(
                CategoryStrings(),
                OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=50,
                              sparse_output=sparse),
            ),
            categorical,
        ))
    if text_column is not None:
        transformers.append((
            "text",
            make_pipeline(
                TextStrings(),
                TfidfVectorizer(sublinear_tf=True, min_df=2,
                                max_features=2_000 if quick else 20_000),
            ),
            text_column,
        ))
    preprocessor = ColumnTransformer(transformers, sparse_threshold=1.0 if sparse else 0.0)
    return preprocessor, sparse


class CategoryStrings(TransformerMixin, BaseEstimator):
    """Category columns as strings, a missing value as the category ``'missing'``.

    One label type per column (the one-hot encoder sorts its categories, and
    a column read as numbers in one file and as text in another still means
    the same categories). Stateless.

    Examples
    --------
    >>> import pandas as pd
    >>> CategoryStrings().fit_transform(pd.DataFrame({"c": ["a", None, 3]}))["c"].tolist()
    ['a', 'missing', '3']
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        frame = pd.DataFrame(X).astype(object)
        return frame.where(frame.notna(), "missing").astype(str)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags


class TextStrings(TransformerMixin, BaseEstimator):
    """A free-text column as strings, a missing value as the empty text. Stateless.

    Examples
    --------
    >>> import pandas as pd
    >>> TextStrings().fit_transform(pd.Series(["good", None])).tolist()
    ['good', '']
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return pd.Series(X).fillna("").astype(str)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags


def read_cost_matrix(path, classes):
    """A cost matrix from JSON (nested list or ``{true: {pred: cost}}``) or CSV."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--cost-matrix file {str(path)!r} does not exist.")
    try:
        if path.suffix.lower() == ".json":
            matrix = json.loads(path.read_text())
            if isinstance(matrix, dict):
                matrix = _relabel(matrix, classes)
        else:
            matrix = _cost_matrix_from_csv(path, classes)
        return check_cost_matrix(matrix, classes)
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(
            f"--cost-matrix {str(path)!r}: {_first_line(exc)} (rows: true class, columns: "
            f"predicted class, classes {list(classes)!r})."
        ) from exc


def _cost_matrix_from_csv(path, classes):
    """A bare numeric square, or one with a header row and an index column of labels."""
    table = pd.read_csv(path, header=None)
    if table.shape[0] == table.shape[1] and _all_numeric(table):
        return table.to_numpy(dtype=float)
    table = pd.read_csv(path, index_col=0)
    return _relabel(
        {row: dict(table.loc[row].items()) for row in table.index}, classes
    )


def _relabel(matrix, classes):
    """JSON and CSV keys are strings: map them back to the labels they name."""
    names = {str(c): c for c in classes}

    def label(key):
        return names.get(str(key), key)

    return {
        label(true): {label(pred): cost for pred, cost in row.items()}
        if isinstance(row, dict) else row
        for true, row in matrix.items()
    }


def _all_numeric(table):
    return all(pd.api.types.is_numeric_dtype(table[c]) for c in table.columns)


def _shorten(names, limit=6):
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
