"""What compare makes of raw columns: ids, constants, dates, number markers,
several text columns, leakage, and --quick's sample."""

import joblib
import numpy as np
import pandas as pd
import pytest

from imbestimators.cli import main
from imbestimators.cli._columns import DateParts, ToNumbers, column_kinds

BASE = ["compare", "--target", "label", "--quick", "--cv", "2",
        "--configs", "logreg_class_weight"]


def raw_table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "row": np.arange(1000, 1000 + n),  # consecutive integers: a row number
        "ticket": [f"T-{i:05d}" for i in rng.permutation(n)],  # unique strings
        "site": "north",  # constant
        "when": pd.date_range("2021-03-01 08:00", periods=n, freq="7h").strftime(
            "%Y-%m-%dT%H:%M:%S"),
        "dose": np.round(x, 3).astype(object),
        "colour": rng.choice(["red", "blue"], n),
        "x2": rng.normal(size=n),
    })
    frame.loc[::20, "dose"] = "unknown"  # a numeric column with a text marker
    frame["label"] = (x + 0.5 * rng.normal(size=n) > 1.0).astype(int)
    return frame


def test_column_kinds_of_a_raw_table():
    frame = raw_table()
    notices = []
    kinds = column_kinds(frame.drop(columns="label"), frame["label"].to_numpy(), [],
                         ["?"], notices)
    assert kinds.numeric == ["dose", "x2"]
    assert kinds.categorical == ["colour"]
    assert kinds.dates == ["when"]
    assert kinds.dropped == ["site", "row", "ticket"]
    assert kinds.na_values == ["?", "unknown"]
    text = "\n".join(notices)
    assert "dropped 1 constant column(s): site" in text
    assert "look like row ids" in text and "row, ticket" in text
    assert "column 'dose' holds numbers and the marker(s) unknown" in text
    assert "expanding 1 date column(s) (when)" in text
    assert "leakage" not in text


def test_a_column_that_alone_separates_the_classes_gets_a_leakage_notice():
    frame = raw_table()
    frame["outcome_code"] = frame["label"] * 10 + np.arange(len(frame)) % 3
    notices = []
    column_kinds(frame.drop(columns="label"), frame["label"].to_numpy(), [], [], notices)
    assert any("possible leakage: outcome_code (1.000)" in n for n in notices)


def test_raw_table_end_to_end_and_predict(tmp_path, capsys):
    frame = raw_table()
    frame.to_csv(tmp_path / "raw.csv", index=False)
    out = tmp_path / "out"
    assert main(BASE + [str(tmp_path / "raw.csv"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    model = joblib.load(out / "model.joblib")
    assert model.compare_info_["columns"] == ["dose", "x2", "colour", "when"]
    # predict reads the markers as missing, and ignores the dropped columns.
    new = frame.drop(columns="label").iloc[:10]
    new.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(out / "model.joblib"), str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert "ignoring 3 column(s) the model does not use: row, ticket, site" in \
        capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 10


def test_na_values_and_several_text_columns(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 120
    y = (rng.random(n) < 0.25).astype(int)
    frame = pd.DataFrame({
        "title": np.where(y, "free prize", "see you"),
        "body": rng.choice(["call now", "lunch at noon", "claim it"], n),
        "score": np.where(np.arange(n) % 9 == 0, "nv", rng.normal(size=n).round(2)),
        "label": y,
    })
    frame.to_csv(tmp_path / "t.csv", index=False)
    status = main(BASE + [str(tmp_path / "t.csv"), "--text-column", "title",
                          "--text-column", "body", "--na-values", "nv", "--out",
                          str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "holds numbers and the marker" not in err  # "nv" was named: plain missing
    assert "imputing 14 missing values in 1 numeric columns (score)" in err
    info = joblib.load(tmp_path / "o" / "model.joblib").compare_info_
    assert info["columns"] == ["score", "title", "body"]
    assert "nv" in info["na_values"]


def test_quick_samples_large_tables(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("imbestimators.cli._data.QUICK_ROWS", 100)
    raw_table().to_csv(tmp_path / "raw.csv", index=False)
    assert main(BASE + [str(tmp_path / "raw.csv")]) == 0
    captured = capsys.readouterr()
    assert "--quick: a stratified sample of 100 of the 240 rows" in captured.err
    assert "raw.csv: 100 samples" in captured.out


def test_date_parts_and_numbers_from_formulas():
    dates = pd.DataFrame({"d": ["2024-02-29T23:15:00", None, "2023-12-31T00:00:00"]})
    parts = DateParts().fit_transform(dates)
    # 2024-02-29 was a Thursday (Monday = 0), 2023-12-31 a Sunday.
    np.testing.assert_array_equal(parts[[0, 2]], [[2024, 2, 3, 23], [2023, 12, 6, 0]])
    assert np.isnan(parts[1]).all()
    numbers = ToNumbers().fit_transform(pd.DataFrame({"x": ["1e3", "n/a", 4]}))
    assert numbers["x"].tolist()[0] == 1000.0 and np.isnan(numbers["x"][1])


@pytest.mark.parametrize("values", [["a", "b"] * 20, list(range(30))[::-1] + [5]])
def test_repeated_values_are_not_ids(values):
    frame = pd.DataFrame({"c": values})
    kinds = column_kinds(frame, np.arange(len(values)) % 2, [], [], [])
    assert kinds.dropped == []
