"""Reading the user's table, checking it, and the per-fold preprocessing."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from ..datasets import load_yeast_me2
from ..metrics import positive_class
from ..utils._labels import label_positions
from ..utils import check_cost_matrix
from ._columns import (
    DEFAULT_NA_VALUES,
    ColumnKinds,
    ToNumbers,
    _shorten,
    column_kinds,
    preprocessor,
)


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
    kinds: ColumnKinds = None
    notices: list = field(default_factory=list)
    description: str = ""

    @property
    def y_index(self):
        """Position of each row's label in ``classes``."""
        return label_positions(self.y, self.classes)

    @property
    def positive_index(self):
        """Position of ``positive`` in ``classes``."""
        return int(label_positions([self.positive], self.classes)[0])


QUICK_ROWS = 10_000  # --quick subsamples larger tables to this many rows


def load_dataset(path, target, text_columns=(), quick=False, na_values=(), seed=0):
    """Read ``path`` (or the bundled yeast ME2 data when None) into a Dataset."""
    na_values = list(DEFAULT_NA_VALUES) + [v for v in na_values
                                           if v not in DEFAULT_NA_VALUES]
    if path is None:
        bunch = load_yeast_me2(as_frame=True)
        frame = bunch.data.copy()
        frame["target"] = bunch.target
        name, description, target = "yeast_me2", bunch.DESCR, "target"
    else:
        frame = _read_table(path, na_values)
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
    unknown = [c for c in text_columns if c not in frame.columns]
    if unknown:
        raise InputError(
            f"--text-column {unknown[0]!r} is not a column of {name}; columns are "
            f"{_shorten(frame.columns)}."
        )
    if frame.shape[1] == 0:
        raise InputError(f"{name} has no feature columns besides --target {target!r}.")
    if quick and len(y) > QUICK_ROWS:
        rows, _ = train_test_split(np.arange(len(y)), train_size=QUICK_ROWS, stratify=y,
                                   random_state=seed)
        rows = np.sort(rows)
        notices.append(
            f"--quick: a stratified sample of {QUICK_ROWS} of the {len(y)} rows is "
            "cross-validated and refitted; run without --quick for all rows."
        )
        frame, y = frame.iloc[rows], y[rows]
    kinds = column_kinds(frame, y, text_columns, na_values, notices)
    if not kinds.used:
        raise InputError(f"{name} has no usable feature columns (notices above).")
    missing = ToNumbers().transform(frame[kinds.numeric]).isna().sum()
    if missing.any():
        nan_columns = list(missing.index[missing > 0])
        notices.append(
            f"imputing {int(missing.sum())} missing values in {len(nan_columns)} numeric "
            f"columns ({_shorten(nan_columns)}) with the training-fold median, plus a "
            "missing-value indicator column each."
        )
    if kinds.categorical:
        notices.append(
            f"one-hot encoding {len(kinds.categorical)} non-numeric columns "
            f"({_shorten(kinds.categorical)}; at most 50 categories each, missing values "
            "as their own category); pass free text as --text-column instead."
        )
    sparse = bool(text_columns)
    classes, counts = np.unique(y, return_counts=True)
    return Dataset(
        name=name, target=target, X=frame, y=y, classes=classes,
        positive=positive_class(classes, counts),
        preprocessor=preprocessor(kinds, sparse, quick), sparse=sparse, kinds=kinds,
        notices=notices, description=description,
    )


def _read_table(path, na_values=DEFAULT_NA_VALUES):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"data file {str(path)!r} does not exist.")
    try:
        frame = pd.read_csv(path, na_values=list(na_values), low_memory=False)
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


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
