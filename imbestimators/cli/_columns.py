"""What each raw column is, and the preprocessing that turns it into features.

``column_kinds`` sorts the columns (numbers, categories, dates, free text, or
dropped: constant or a row id) and writes a notice for every guess; the
transformers below are the steps of the saved pipeline, so ``predict`` and
``model.py`` read the same raw columns as ``compare``.
"""

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from ..metrics import positive_class

# Besides pandas' own markers ('', 'NA', 'N/A', 'null', 'NaN', ...): read as missing.
DEFAULT_NA_VALUES = ("?",)
MIN_ROWS_FOR_ID = 20  # a column unique per row is a row id only in a real table
DATE_SHARE = 0.95  # share of a text column's values that parse as dates
NUMBER_SHARE = 0.95  # share of a text column's values that are numbers
LEAKAGE_AUC = 0.99


@dataclass
class ColumnKinds:
    numeric: list = field(default_factory=list)
    categorical: list = field(default_factory=list)
    dates: list = field(default_factory=list)
    text: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    na_values: list = field(default_factory=list)  # markers read as missing

    @property
    def used(self):
        return self.numeric + self.categorical + self.dates + self.text


def column_kinds(frame, y, text_columns, na_values, notices):
    """Sort ``frame``'s columns into kinds; a notice for every column treated
    other than as its type says."""
    kinds = ColumnKinds(text=list(text_columns), na_values=list(na_values))
    constant, ids = [], []
    for column in frame.columns:
        if column in text_columns:
            continue
        values = frame[column]
        if values.nunique(dropna=False) <= 1:
            constant.append(column)
        elif pd.api.types.is_numeric_dtype(values):
            if _is_row_number(values):
                ids.append(column)
            else:
                kinds.numeric.append(column)
        elif _share(values, _parses_as_date) >= DATE_SHARE:
            kinds.dates.append(column)
        elif _unique_per_row(values):
            ids.append(column)
        elif _share(values, _is_number) >= NUMBER_SHARE:
            markers = sorted({str(v) for v in values.dropna() if not _is_number(v)})
            kinds.numeric.append(column)
            kinds.na_values += [m for m in markers if m not in kinds.na_values]
            notices.append(
                f"column {column!r} holds numbers and the marker(s) "
                f"{_shorten(markers)}: read as a numeric column with those as missing "
                "values (pass --na-values to name markers yourself)."
            )
        else:
            kinds.categorical.append(column)
    kinds.dropped = constant + ids
    if constant:
        notices.append(f"dropped {len(constant)} constant column(s): {_shorten(constant)}.")
    if ids:
        notices.append(
            f"dropped {len(ids)} column(s) that look like row ids (a different value "
            f"in every row): {_shorten(ids)}; free text goes in --text-column."
        )
    if kinds.dates:
        notices.append(
            f"expanding {len(kinds.dates)} date column(s) ({_shorten(kinds.dates)}) "
            "into year, month, day of the week and hour."
        )
    _notice_leakage(frame, y, kinds, notices)
    return kinds


def _is_row_number(values):
    """An integer column numbering the rows: all distinct and consecutive."""
    if len(values) < MIN_ROWS_FOR_ID or values.isna().any():
        return False
    if not pd.api.types.is_integer_dtype(values):
        return False
    return values.is_unique and values.max() - values.min() + 1 == len(values)


def _unique_per_row(values):
    present = values.dropna()
    return len(values) >= MIN_ROWS_FOR_ID and present.is_unique \
        and len(present) == len(values)


def _sample(values, n=1000):
    present = values.dropna()
    return present.sample(n, random_state=0) if len(present) > n else present


def _share(values, test):
    sample = _sample(values)
    return float(np.mean([test(v) for v in sample])) if len(sample) else 0.0


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _parses_as_date(value):
    text = str(value)
    # Two numbers at least (day and month, or year and month), and not a number.
    if len(re.findall(r"\d+", text)) < 2 or _is_number(text):
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return not pd.isna(pd.to_datetime(text, errors="coerce", utc=True))


def _notice_leakage(frame, y, kinds, notices, max_rows=50_000):
    """A column that alone separates the minority class: a notice, not a drop."""
    classes, counts = np.unique(y, return_counts=True)
    positive = np.asarray(y == positive_class(classes, counts))
    rows = np.arange(len(y))
    if len(rows) > max_rows:
        rows = np.random.default_rng(0).choice(rows, max_rows, replace=False)
    suspects = []
    for column in kinds.numeric + kinds.categorical:
        values = frame[column].iloc[rows]
        if column in kinds.categorical and values.nunique() > 50:
            continue  # in-sample rates of many small categories separate anything
        if column in kinds.categorical:
            labels = CategoryStrings().transform(values.to_frame()).iloc[:, 0].to_numpy()
            score = pd.Series(positive[rows]).groupby(labels).transform("mean")
        else:
            score = pd.to_numeric(values, errors="coerce")
            score = score.fillna(score.median())
        auc = roc_auc_score(positive[rows], np.asarray(score, dtype=float))
        if max(auc, 1 - auc) >= LEAKAGE_AUC:
            suspects.append(f"{column} ({max(auc, 1 - auc):.3f})")
    if suspects:
        notices.append(
            f"possible leakage: {_shorten(suspects)} alone separate(s) the minority class "
            f"(ROC AUC >= {LEAKAGE_AUC}); check that no column is computed from the "
            "label or known only after it."
        )


def preprocessor(kinds, sparse, quick):
    """The ColumnTransformer of the raw columns; columns of no kind are dropped."""
    transformers = []
    if kinds.numeric:
        transformers.append(("numeric", make_pipeline(
            ToNumbers(), SimpleImputer(strategy="median", add_indicator=True)
        ), kinds.numeric))
    if kinds.categorical:
        transformers.append(("categorical", make_pipeline(
            CategoryStrings(),
            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=50,
                          sparse_output=sparse),
        ), kinds.categorical))
    if kinds.dates:
        transformers.append(("dates", make_pipeline(
            DateParts(), SimpleImputer(strategy="median", add_indicator=True)
        ), kinds.dates))
    for column in kinds.text:
        transformers.append((f"text_{column}", make_pipeline(
            TextStrings(),
            TfidfVectorizer(sublinear_tf=True, min_df=2,
                            max_features=2_000 if quick else 20_000),
        ), column))
    return ColumnTransformer(transformers, sparse_threshold=1.0 if sparse else 0.0)


class _Stateless(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags


class ToNumbers(_Stateless):
    """Numeric columns as floats; a value that is not a number is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> ToNumbers().fit_transform(pd.DataFrame({"x": ["1.5", "?", 2]}))["x"].tolist()
    [1.5, nan, 2.0]
    """

    def transform(self, X):
        frame = pd.DataFrame(X)
        return frame.apply(pd.to_numeric, errors="coerce").astype(float)


class CategoryStrings(_Stateless):
    """Category columns as strings, a missing value as the category ``'missing'``.

    One label type per column (the one-hot encoder sorts its categories, and
    a column read as numbers in one file and as text in another still means
    the same categories).

    Examples
    --------
    >>> import pandas as pd
    >>> CategoryStrings().fit_transform(pd.DataFrame({"c": ["a", None, 3]}))["c"].tolist()
    ['a', 'missing', '3']
    """

    def transform(self, X):
        frame = pd.DataFrame(X).astype(object)
        return frame.where(frame.notna(), "missing").astype(str)


class TextStrings(_Stateless):
    """A free-text column as strings, a missing value as the empty text.

    Examples
    --------
    >>> import pandas as pd
    >>> TextStrings().fit_transform(pd.Series(["good", None])).tolist()
    ['good', '']
    """

    def transform(self, X):
        return pd.Series(X).fillna("").astype(str)


class DateParts(_Stateless):
    """Date columns as year, month, day of the week and hour (missing: NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> DateParts().fit_transform(pd.DataFrame({"d": ["2017-01-01T06:00:42Z"]}))
    array([[2017.,    1.,    6.,    6.]])
    """

    def transform(self, X):
        parts = []
        for _, values in pd.DataFrame(X).items():
            dates = parse_dates(values)
            parts += [dates.dt.year, dates.dt.month, dates.dt.day_of_week, dates.dt.hour]
        return np.column_stack([np.asarray(p, dtype=float) for p in parts])

    def get_feature_names_out(self, input_features=None):
        return np.array([f"{c}_{part}" for c in input_features
                         for part in ("year", "month", "dayofweek", "hour")], dtype=object)


def parse_dates(values):
    """Dates of a column (UTC); ISO 8601 first, else the format pandas infers."""
    values = pd.Series(values).astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        if dates.notna().sum() < DATE_SHARE * values.notna().sum():
            dates = pd.to_datetime(values, errors="coerce", utc=True)
    return dates


def _shorten(names, limit=6):
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")
