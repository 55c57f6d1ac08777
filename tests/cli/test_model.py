"""The saved model (``model.joblib``, ``model.py``), ``imbestimators predict``,
and the honest leaderboard (paired tests, the recommendation)."""

import csv
import importlib.util

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.pipeline import Pipeline

from imbestimators.cli import main
from imbestimators.cli._candidates import CANDIDATES, Context
from imbestimators.cli._columns import column_kinds, preprocessor
from imbestimators.cli._metrics import Scorer
from imbestimators.cli._model_code import estimator_source
from imbestimators.cli._report import recommend
from imbestimators.cli._statistics import compare_with_best, corrected_ttest


def mixed_table(n=400, seed=0):
    """Numbers with missing values, a category with missing values, free text."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["colour"] = rng.choice(["red", "blue", "green"], n)
    frame.loc[::13, "colour"] = None
    frame["note"] = rng.choice(["good item", "bad item", "fine", None], n)
    signal = frame["a"] + (frame["colour"] == "red") + 0.3 * rng.normal(size=n)
    frame.loc[::17, "a"] = np.nan
    frame["label"] = np.where(signal > 1.3, "yes", "no")
    return frame


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """compare --out on 300 rows; the other 100 rows held back for predict."""
    tmp = tmp_path_factory.mktemp("saved")
    table = mixed_table()
    table.iloc[:300].to_csv(tmp / "train.csv", index=False)
    held = table.iloc[300:].drop(columns="label")
    held.insert(0, "row_id", np.arange(300, 400))
    held.to_csv(tmp / "new.csv", index=False)
    status = main(["compare", str(tmp / "train.csv"), "--target", "label", "--quick",
                   "--cv", "3", "--text-column", "note", "--configs",
                   "logreg_class_weight,nn_class_weight", "--out", str(tmp / "out")])
    assert status == 0
    return tmp


def rebuild(model_py):
    """Execute model.py without its __main__ block; its unfitted ``model``."""
    namespace = {"__name__": "model_py"}
    exec(compile(model_py.read_text(), str(model_py), "exec"), namespace)
    return namespace["model"], namespace["INFO"]


def test_predict_gives_the_refitted_pipelines_probabilities(saved, capsys):
    out = saved / "out"
    status = main(["predict", str(out / "model.joblib"), str(saved / "new.csv"),
                   "--id-column", "row_id", "--out", str(saved / "pred.csv")])
    assert status == 0, capsys.readouterr().err
    predictions = pd.read_csv(saved / "pred.csv")
    assert list(predictions.columns) == ["row_id", "proba_no", "proba_yes", "prediction"]
    assert predictions["row_id"].tolist() == list(range(300, 400))  # input order

    # The same model rebuilt from model.py and refitted in Python on the same rows.
    model, info = rebuild(out / "model.py")
    train = pd.read_csv(saved / "train.csv")
    y = train.pop("label")
    model.fit(train[info["columns"]], y)
    new = pd.read_csv(saved / "new.csv")
    expected = model.predict_proba(new[info["columns"]])
    np.testing.assert_allclose(predictions[["proba_no", "proba_yes"]], expected,
                               rtol=1e-5, atol=1e-7)
    decided = np.where(expected[:, 1] > expected[:, 0], "yes", "no")
    assert (predictions["prediction"] == decided).all()


def test_saved_model_is_one_pipeline_on_raw_columns(saved):
    model = joblib.load(saved / "out" / "model.joblib")
    assert [name for name, _ in model.steps] == ["preprocess", "model"]
    info = model.compare_info_
    assert info["candidate"] == "logreg_class_weight"  # the recommended candidate
    assert info["columns"] == ["a", "b", "c", "colour", "note"]
    assert info["numeric_columns"] == ["a", "b", "c"]
    assert info["classes"] == ["no", "yes"]
    assert set(info["versions"]) >= {"imbestimators", "scikit-learn", "torch"}
    # Raw strings and missing values go straight in: no edits before the pipeline.
    raw = pd.DataFrame({"a": [np.nan], "b": [0.0], "c": [1.0], "colour": [None],
                        "note": [None]})
    assert model.predict_proba(raw).shape == (1, 2)
    report = (saved / "out" / "report.md").read_text()
    assert "Recommended: logreg_class_weight" in report
    assert "Saved: logreg_class_weight" in report
    assert "scikit-learn" in report and "Written by imbestimators" in report


def test_model_py_rebuilds_every_candidate():
    frame = mixed_table(40)
    kinds = column_kinds(frame.drop(columns="label"), frame["label"].to_numpy(), ["note"],
                         ["?"], [])
    steps = preprocessor(kinds, sparse=True, quick=False)
    # The text column makes the features sparse: the candidates' text path
    # (MaxAbsScaler, the trees' SVD of the TF-IDF matrix) is rebuilt too.
    context = Context(
        sparse=True, cost_matrix=np.array([[0.0, 1.0], [5.0, 0.0]]),
        scoring=Scorer("average_precision", np.array(["no", "yes"]), 1, None),
    )
    context.best = [(name, CANDIDATES[name].factory(context))
                    for name in ("nn_class_weight", "hgb_class_weight")]
    for name, candidate in CANDIDATES.items():
        if candidate.requires and importlib.util.find_spec(candidate.requires) is None:
            continue  # an optional package (lightgbm, catboost, xgboost) not installed
        pipeline = Pipeline([("preprocess", steps),
                             ("model", candidate.factory(context))])
        imports, expression = estimator_source(pipeline)
        namespace = {}
        exec("\n".join(imports) + f"\nmodel = {expression}\n", namespace)
        assert repr(namespace["model"]) == repr(pipeline), name
        assert str(namespace["model"].get_params(deep=True)) == str(
            pipeline.get_params(deep=True)), name


def predict_errors(argv, capsys):
    status = main(["predict"] + argv)
    lines = capsys.readouterr().err.strip().splitlines()
    return status, lines


def test_predict_names_a_missing_column(saved, tmp_path, capsys):
    new = pd.read_csv(saved / "new.csv").drop(columns="colour")
    new.to_csv(tmp_path / "x.csv", index=False)
    status, lines = predict_errors([str(saved / "out" / "model.joblib"),
                                    str(tmp_path / "x.csv")], capsys)
    assert status == 2 and len(lines) == 1
    assert lines[0].startswith("imbestimators predict: error:")
    assert "colour" in lines[0]


def test_predict_ignores_extra_columns_and_notices_new_categories(
        saved, tmp_path, capsys):
    new = pd.read_csv(saved / "new.csv")
    new["unused"] = 1.0
    new.loc[0, "colour"] = "purple"
    new.to_csv(tmp_path / "x.csv", index=False)
    status = main(["predict", str(saved / "out" / "model.joblib"), str(tmp_path / "x.csv"),
                   "--out", str(tmp_path / "p.csv")])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "ignoring 2 column(s) the model does not use: row_id, unused" in err
    assert "column 'colour': 1 row(s) with a category not seen in training" in err
    assert len(pd.read_csv(tmp_path / "p.csv")) == 100


def test_predict_rejects_text_in_a_numeric_column(saved, tmp_path, capsys):
    new = pd.read_csv(saved / "new.csv").astype({"b": object})
    new.loc[3, "b"] = "abc"
    new.to_csv(tmp_path / "x.csv", index=False)
    status, lines = predict_errors([str(saved / "out" / "model.joblib"),
                                    str(tmp_path / "x.csv")], capsys)
    assert status == 2 and len(lines) == 1
    assert "column 'b' is numeric in the model but holds 1 non-numeric value(s), " \
           "e.g. 'abc'" in lines[0]


@pytest.mark.parametrize("content, message", [
    (b"not a pickle", "cannot load"),
    (None, "does not exist"),
])
def test_predict_rejects_an_unreadable_model(saved, tmp_path, capsys, content, message):
    path = tmp_path / "model.joblib"
    if content is not None:
        path.write_bytes(content)
    status, lines = predict_errors([str(path), str(saved / "new.csv")], capsys)
    assert status == 2 and len(lines) == 1 and message in lines[0]


def test_predict_rejects_another_major_version_and_foreign_models(saved, tmp_path,
                                                                  capsys):
    model = joblib.load(saved / "out" / "model.joblib")
    model.compare_info_["versions"]["imbestimators"] = "99.0.0"
    joblib.dump(model, tmp_path / "old.joblib")
    status, lines = predict_errors([str(tmp_path / "old.joblib"),
                                    str(saved / "new.csv")], capsys)
    assert status == 2 and "written by imbestimators 99.0.0" in lines[0]
    del model.compare_info_
    joblib.dump(model, tmp_path / "plain.joblib")
    status, lines = predict_errors([str(tmp_path / "plain.joblib"),
                                    str(saved / "new.csv")], capsys)
    assert status == 2 and "not written by imbestimators compare" in lines[0]


def test_predict_rejects_an_empty_file_and_an_unknown_id_column(saved, tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("a,b,c,colour,note\n")
    model = str(saved / "out" / "model.joblib")
    status, lines = predict_errors([model, str(tmp_path / "empty.csv")], capsys)
    assert status == 2 and "has a header but no rows" in lines[0]
    status, lines = predict_errors([model, str(saved / "new.csv"), "--id-column", "key"],
                                   capsys)
    assert status == 2 and "--id-column 'key' is not a column" in lines[0]


def test_select_unknown_failed_or_without_out(saved, tmp_path, capsys):
    train = str(saved / "train.csv")
    base = ["compare", train, "--target", "label", "--quick", "--configs",
            "logreg_class_weight"]
    assert main(base + ["--select", "nn_focal", "--out", str(tmp_path)]) == 2
    assert "--select 'nn_focal' is not among the candidates run" in \
        capsys.readouterr().err
    assert main(base + ["--select", "logreg_class_weight"]) == 2
    assert "give --out DIR" in capsys.readouterr().err
    assert main(base + ["--repeats", "0"]) == 2
    assert "--repeats must be at least 1" in capsys.readouterr().err


def test_repeats_pair_the_folds(saved, tmp_path, capsys):
    status = main(["compare", str(saved / "train.csv"), "--target", "label", "--quick",
                   "--cv", "2", "--repeats", "3", "--configs",
                   "logreg_class_weight,hgb_class_weight", "--out", str(tmp_path),
                   "--select", "hgb_class_weight"])
    assert status == 0, capsys.readouterr().err
    with open(tmp_path / "leaderboard.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["n_folds"]) for r in rows] == [6, 6]
    assert rows[0]["p_vs_best"] == "" and rows[0]["tied_with_best"] == "True"
    assert 0.0 <= float(rows[1]["p_vs_best"]) <= 1.0
    assert joblib.load(tmp_path / "model.joblib").compare_info_["candidate"] == \
        "hgb_class_weight"
    report = (tmp_path / "report.md").read_text()
    assert "hgb_class_weight was chosen with --select" in report


def test_corrected_ttest_against_a_hand_computation():
    # d = (.02, .01, .03, .02, .02): mean .02, s² = 2e-4 / 4 = 5e-5;
    # 5-fold CV: n_test / n_train = 1/4, so the variance of the mean is
    # (1/5 + 1/4) · 5e-5 = 2.25e-5 and t = .02 / sqrt(2.25e-5) = 4.21637 on 4 df.
    t = 0.02 / np.sqrt(2.25e-5)
    assert t == pytest.approx(4.21637, rel=1e-5)
    expected = 2 * (1 - stats.t.cdf(t, 4))
    d = [0.02, 0.01, 0.03, 0.02, 0.02]
    assert corrected_ttest(d, 1 / 4) == pytest.approx(expected, rel=1e-9)
    # The correction widens the plain paired t-test's interval.
    assert corrected_ttest(d, 1 / 4) > stats.ttest_1samp(d, 0).pvalue
    assert corrected_ttest([0.0] * 5, 1 / 4) == 1.0
    assert corrected_ttest([0.01] * 5, 1 / 4) == 0.0
    # Against the best: the sign does not matter (two-sided); the best has none.
    best = np.array([0.8, 0.7, 0.9, 0.8, 0.8])
    tests = compare_with_best([best, best - d, best + d], cv=5)
    assert tests[0] == (None, None)
    (t_worse, p_worse), (t_better, p_better) = tests[1], tests[2]
    assert t_worse == pytest.approx(t) and t_better == pytest.approx(-t)
    assert p_worse == pytest.approx(p_better) == pytest.approx(expected)


def row(name, value, t, p, seconds):
    return {"candidate": name, "ap_mean": value, "p_vs_best": p,
            "tied_with_best": p is None or p >= 0.05,
            "within_one_se": t is None or abs(t) <= 1, "fit_time_s": seconds}


def test_recommendation_is_the_cheapest_within_one_standard_error():
    rows = [row("nn", 0.80, None, None, 9.0), row("hgb", 0.79, 0.5, 0.6, 1.0),
            row("lr", 0.70, 1.9, 0.12, 0.1), row("focal", 0.60, 5.0, 0.01, 0.01)]
    name, reason = recommend(rows, "ap")
    # lr is tied on the test (p 0.12) but two standard errors below: not it.
    assert name == "hgb"
    assert "2 candidates are within one standard error of the best" in reason
    assert "(nn, hgb)" in reason and "3 of the 4 candidates are tied" in reason
    name, reason = recommend([row("nn", 0.8, None, None, 9.0),
                              row("lr", 0.7, 4.0, 0.001, 0.1)], "ap")
    assert name == "nn" and "no other candidate is within one standard error" in reason
