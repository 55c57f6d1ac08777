"""``imbestimators compare`` end to end on tiny tables (``--quick``)."""

import csv
import importlib.util
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.impute import SimpleImputer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from imbestimators.cli import main
from imbestimators.cli._candidates import CANDIDATES, Candidate, Context
from imbestimators.cli._data import load_dataset
from imbestimators.neural import NeuralClassifier

QUICK = ["compare", "--quick", "--cv", "2", "--target", "label"]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def logreg_like_the_cli():
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=1000),
    )


def test_report_files_and_scores_on_shared_folds(binary_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    status = main(QUICK + [str(binary_csv), "--configs",
                           "logreg_class_weight,nn_class_weight", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "logreg_class_weight" in captured.out and "nn_class_weight" in captured.out

    rows = read_csv(out / "leaderboard.csv")
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert {r["candidate"] for r in rows} == {"logreg_class_weight", "nn_class_weight"}
    for metric in ("average_precision", "balanced_accuracy", "f1", "roc_auc"):
        assert f"{metric}_mean" in rows[0] and f"{metric}_std" in rows[0]
    ap = [float(r["average_precision_mean"]) for r in rows]
    assert ap[0] >= ap[1]  # ranked by the default metric
    assert all(r["n_folds"] == "2" for r in rows)

    # Independently: scikit-learn's cross_validate on the folds the command
    # promises (StratifiedKFold(cv, shuffle=True, random_state=seed)).
    table = pd.read_csv(binary_csv)
    y = table.pop("label").to_numpy()
    expected = cross_validate(
        logreg_like_the_cli(), table, y,
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring=["average_precision", "balanced_accuracy", "f1", "roc_auc"],
    )
    logreg = next(r for r in rows if r["candidate"] == "logreg_class_weight")
    for metric in ("average_precision", "balanced_accuracy", "f1", "roc_auc"):
        values = expected[f"test_{metric}"]
        assert float(logreg[f"{metric}_mean"]) == pytest.approx(values.mean(), abs=1e-12)
        assert float(logreg[f"{metric}_std"]) == pytest.approx(values.std(), abs=1e-12)

    html = (out / "report.html").read_text()
    images = re.findall(r'<img src="([^"]+)"', html)
    assert set(images) == {"pr_curves.png", "confusion_matrices.png", "training_curves.png",
                           "reliability.png", "confusion_rates.png"}
    for image in images:
        assert (out / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "report.md").read_text()
    assert "| 1 | " in markdown and "nn_class_weight" in markdown
    assert "--configs logreg_class_weight,nn_class_weight" in markdown  # reproduce line


def test_bundled_dataset_without_a_file(capsys):
    status = main(["compare", "--quick", "--configs", "logreg_class_weight"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "yeast_me2: 1484 samples" in captured.out
    assert "CC BY 4.0" in captured.out  # the attribution


def test_cost_matrix_ranks_by_expected_cost(binary_csv, tmp_path, capsys):
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps({"0": {"1": 1}, "1": {"0": 10}}))  # a miss costs 10
    out = tmp_path / "report"
    status = main(QUICK + [str(binary_csv), "--configs", "logreg_class_weight",
                           "--cost-matrix", str(cost), "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    [row] = read_csv(out / "leaderboard.csv")

    table = pd.read_csv(binary_csv)
    y = table.pop("label").to_numpy()
    C = np.array([[0.0, 1.0], [10.0, 0.0]])
    fold_costs = []
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(table, y):
        proba = logreg_like_the_cli().fit(table.iloc[train], y[train]).predict_proba(
            table.iloc[test])
        total = 0.0
        for p, truth in zip(proba, y[test]):
            risks = [p[0] * C[0, j] + p[1] * C[1, j] for j in range(2)]
            total += C[truth, int(np.argmin(risks))]
        fold_costs.append(total / len(test))
    assert float(row["expected_cost_mean"]) == pytest.approx(np.mean(fold_costs), abs=1e-12)
    assert "expected_cost *" in (out / "report.md").read_text()


def test_cost_matrix_from_csv_with_labels(tmp_path, make_table, capsys):
    table = make_table()
    table["label"] = np.where(table["label"] == 1, "fraud", "ok")
    data = tmp_path / "labels.csv"
    table.to_csv(data, index=False)
    cost = tmp_path / "cost.csv"
    cost.write_text("true,fraud,ok\nfraud,0,5\nok,1,0\n")
    status = main(QUICK + [str(data), "--configs", "logreg_class_weight",
                           "--cost-matrix", str(cost)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "expected_cost" in captured.out and "fraud" in captured.out


def test_text_column_is_sparse_tfidf_into_the_network(tmp_path, capsys):
    rng = np.random.default_rng(0)
    spam = ["win a free prize now", "free cash prize claim", "claim your free prize"]
    ham = ["see you at lunch", "meeting moved to noon", "call me when home",
           "lunch at noon then", "home soon see you"]
    y = (rng.random(90) < 0.25).astype(int)
    text = [spam[i % 3] if label else ham[i % 5] for i, label in enumerate(y)]
    data = tmp_path / "sms.csv"
    pd.DataFrame({"text": text, "length": [len(t) for t in text], "label": y}).to_csv(
        data, index=False)

    dataset = load_dataset(data, "label", text_columns=["text"], quick=True)
    features = dataset.preprocessor.fit_transform(dataset.X)
    assert sp.issparse(features) and features.shape[0] == 90
    net = NeuralClassifier(max_epochs=2, hidden_layer_sizes=(4,), random_state=0)
    net.fit(features.tocsr(), dataset.y)
    assert net.predict_proba(features.tocsr()).shape == (90, 2)

    status = main(QUICK + [str(data), "--text-column", "text",
                           "--configs", "nn_class_weight,hgb_class_weight"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    # Average precision on separable text; the trees read a 100-component SVD
    # of the TF-IDF matrix, here of a vocabulary of fewer than 30 words.
    for name in ("nn_class_weight", "hgb_class_weight"):
        [line] = [line for line in captured.out.splitlines()
                  if line[:1].isdigit() and name in line]
        assert float(line.split()[2]) > 0.9, line


def test_multiclass(tmp_path, make_table, capsys):
    pytest.importorskip("matplotlib")
    data = tmp_path / "three.csv"
    make_table(n=150, n_classes=3).to_csv(data, index=False)
    out = tmp_path / "report"
    status = main(QUICK + [str(data), "--configs", "logreg_class_weight",
                           "--metric", "f1", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    [row] = read_csv(out / "leaderboard.csv")
    assert 0.0 < float(row["f1_mean"]) <= 1.0
    assert (out / "pr_curves.png").exists()
    assert not (out / "training_curves.png").exists()  # no network ran


def test_categorical_and_missing_values_are_handled_with_notices(tmp_path, make_table,
                                                                 capsys):
    table = make_table()
    table.loc[::7, "a"] = np.nan
    table["colour"] = np.where(np.arange(len(table)) % 3 == 0, "red", "blue")
    table.loc[::11, "colour"] = np.nan
    data = tmp_path / "mixed.csv"
    table.to_csv(data, index=False)
    status = main(QUICK + [str(data), "--configs", "logreg_class_weight"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "note: one-hot encoding 1 non-numeric columns (colour" in captured.err
    assert "note: imputing 23 missing values in 1 numeric columns (a)" in captured.err
    assert "Traceback" not in captured.err


def test_ensemble_of_the_best_and_a_failing_candidate(binary_csv, monkeypatch, capsys):
    def broken(context):
        return LogisticRegression(C=-1.0)  # rejected at fit

    monkeypatch.setitem(CANDIDATES, "broken", Candidate("broken", broken, "always fails"))
    status = main(QUICK + [str(binary_csv), "--configs",
                           "broken,logreg_class_weight,hgb_class_weight,stack_best"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "note: candidate broken failed: fold" in captured.err
    assert "stack_best" in captured.out
    assert "broken" not in captured.out


def test_every_candidate_failing_is_status_1(binary_csv, monkeypatch, capsys):
    monkeypatch.setitem(CANDIDATES, "broken", Candidate(
        "broken", lambda context: LogisticRegression(C=-1.0), "always fails"))
    assert main(QUICK + [str(binary_csv), "--configs", "broken"]) == 1
    assert "every candidate failed" in capsys.readouterr().err


def test_without_matplotlib_plots_are_skipped(binary_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    out = tmp_path / "report"
    status = main(QUICK + [str(binary_csv), "--configs", "logreg_class_weight",
                           "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    notes = [line for line in captured.err.splitlines() if "matplotlib" in line]
    assert len(notes) == 1 and "no plots" in notes[0]
    assert not list(out.glob("*.png"))
    assert "<img" not in (out / "report.html").read_text()
    assert (out / "leaderboard.csv").exists()


def test_python_dash_m_entry_point():
    done = subprocess.run([sys.executable, "-m", "imbestimators", "compare", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "--cost-matrix" in done.stdout and "nn_class_weight" in done.stdout


def test_seed_and_n_jobs_choose_the_folds_not_the_scores(binary_csv, tmp_path, capsys):
    out = tmp_path / "report"
    status = main(QUICK + [str(binary_csv), "--configs", "logreg_class_weight",
                           "--seed", "3", "--n-jobs", "2", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    [row] = read_csv(out / "leaderboard.csv")
    table = pd.read_csv(binary_csv)
    y = table.pop("label").to_numpy()

    def expected(seed):
        return cross_validate(
            logreg_like_the_cli(), table, y, scoring="average_precision",
            cv=StratifiedKFold(2, shuffle=True, random_state=seed),
        )["test_score"]

    assert float(row["average_precision_mean"]) == pytest.approx(
        expected(3).mean(), abs=1e-12)
    assert float(row["average_precision_std"]) == pytest.approx(
        expected(3).std(), abs=1e-12)
    assert expected(3).mean() != pytest.approx(expected(0).mean(), abs=1e-6)
    assert "--seed 3 --n-jobs 2" in (out / "report.md").read_text()


def test_default_candidates_are_the_ones_promised():
    from imblearn.over_sampling import RandomOverSampler
    from sklearn.ensemble import HistGradientBoostingClassifier

    from imbestimators import WeightedStackingClassifier
    from imbestimators.cli import _check_configs
    from imbestimators.cli._candidates import Context

    context = Context(best=[("a", LogisticRegression()), ("b", LogisticRegression())])
    import importlib.util

    models = {name: CANDIDATES[name].factory(context) for name in _check_configs(None)
              if CANDIDATES[name].requires is None
              or importlib.util.find_spec(CANDIDATES[name].requires) is not None}
    expected_nn = {
        "nn_cross_entropy": {"loss": "cross_entropy", "class_weight": None},
        "nn_class_weight": {"class_weight": "balanced"},
        "nn_focal": {"loss": "focal"},
        "nn_logit_adjusted": {"loss": "logit_adjusted"},
        "nn_fbeta": {"loss": "fbeta"},
        "nn_balanced_batches": {"batch_sampling": "balanced"},
    }
    for name, params in expected_nn.items():
        assert isinstance(models[name], NeuralClassifier), name
        for key, value in params.items():
            assert models[name].get_params()[key] == value, (name, key)
    sampler, network = [step for _, step in models["nn_oversampling"].steps]
    assert isinstance(sampler, RandomOverSampler) and isinstance(network, NeuralClassifier)
    assert models["logreg_class_weight"][-1].class_weight == "balanced"
    assert isinstance(models["hgb_class_weight"], HistGradientBoostingClassifier)
    assert models["hgb_class_weight"].class_weight == "balanced"
    assert isinstance(models["stack_best"], WeightedStackingClassifier)
    assert [n for n, _ in models["stack_best"].estimators] == ["a", "b"]
    assert [n for n, c in CANDIDATES.items() if c.ensemble] == ["stack_best"]


def test_progress_bar_and_terminal_leaderboard(binary_csv, monkeypatch, capsys):
    import importlib

    # (``imbestimators.cli._compare`` as an attribute is the package's function.)
    compare_module = importlib.import_module("imbestimators.cli._compare")
    bars = []

    class RecordingBar:
        def __init__(self, total, **kwargs):
            self.total, self.done = total, 0
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n=1):
            self.done += n

    monkeypatch.setattr(compare_module, "tqdm", RecordingBar)
    status = main(QUICK + [str(binary_csv), "--device", "cpu", "--configs",
                           "logreg_class_weight,nn_class_weight"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    [bar] = bars
    assert bar.total == bar.done == 2 * 2  # candidates × folds
    assert "device cpu" in captured.out
    lines = captured.out.splitlines()
    [header] = [line for line in lines if line.startswith("rank")]
    for column in ("candidate", "average_precision *", "balanced_accuracy", "f1",
                   "roc_auc", "fit s / fold"):
        assert column in header
    rows = [line for line in lines if re.match(r"[12] +(logreg|nn)_class_weight ", line)]
    assert len(rows) == 2 and all(line.count("±") == 4 for line in rows)


def test_console_script_is_declared():
    from importlib.metadata import entry_points

    [script] = entry_points(group="console_scripts", name="imbestimators")
    assert script.value == "imbestimators.cli:main"


def test_confusion_matrices_print_large_counts_as_integers():
    pytest.importorskip("matplotlib")
    from types import SimpleNamespace

    from imbestimators.cli._plots import confusion_matrices

    y_index = np.r_[np.zeros(12_000, int), np.ones(345, int)]
    proba = np.column_stack([1 - y_index * 0.9, y_index * 0.9]).astype(float)
    figure = confusion_matrices([SimpleNamespace(name="m", oof_proba=proba)], y_index,
                                np.array(["no", "yes"]), None)
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert texts == {"12000", "0", "345"}
    # Rates per true class: 200 of the 12 000 negatives flagged, all positives.
    proba[:200] = [0.1, 0.9]
    figure = confusion_matrices([SimpleNamespace(name="m", oof_proba=proba)], y_index,
                                np.array(["no", "yes"]), None, normalize="true")
    texts = sorted(t.get_text() for t in figure.axes[0].texts)
    assert texts == sorted(["0.98", "0.02", "0.00", "1.00"])  # 11800/12000, 200/12000


def test_with_a_cost_matrix_the_candidates_do_not_count_the_imbalance_twice(
        binary_csv, tmp_path, monkeypatch, capsys):
    ran = {}

    def record(dataset, names, context, **kwargs):
        ran["names"] = names
        ran["models"] = {n: CANDIDATES[n].factory(context) for n in names}
        return []

    monkeypatch.setattr("imbestimators.cli.run_candidates", record)
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps([[0, 1], [10, 0]]))
    main(["compare", str(binary_csv), "--target", "label", "--cost-matrix", str(cost)])
    err = capsys.readouterr().err
    names = ran["names"]
    assert "hgb" in names and "logreg" in names
    assert not {"hgb_class_weight", "logreg_class_weight", "nn_oversampling",
                "nn_balanced_batches"} & set(names)
    assert "replaced by their plain counterparts" in err
    models = ran["models"]
    for name in ("nn_class_weight", "nn_logit_adjusted"):
        assert models[name].prior_correction is True
    assert models["hgb"].class_weight is None
    assert models["logreg"][-1].class_weight is None
    for package, weighted, plain in [("lightgbm", "lightgbm_class_weight", "lightgbm"),
                                     ("catboost", "catboost_balanced", "catboost"),
                                     ("xgboost", "xgboost_balanced", "xgboost")]:
        if importlib.util.find_spec(package) is not None:
            assert plain in names and weighted not in names, package
    # Without a cost matrix: the weighted ones, and no plain duplicates.
    main(["compare", str(binary_csv), "--target", "label"])
    assert {"hgb_class_weight", "logreg_class_weight"} <= set(ran["names"])
    assert not {"hgb", "logreg"} & set(ran["names"])
    assert ran["models"]["nn_class_weight"].prior_correction is False
    # Named explicitly under a cost matrix: run, with a notice.
    main(["compare", str(binary_csv), "--target", "label", "--cost-matrix", str(cost),
          "--configs", "hgb_class_weight"])
    assert "hgb_class_weight reweight(s) or resample(s) the classes" in \
        capsys.readouterr().err


def test_imbalanced_learn_and_boosting_candidates_run(binary_csv, tmp_path, capsys):
    names = ["nn_smote", "balanced_random_forest", "easy_ensemble", "nn_balanced_bagging"]
    for package, name in [("lightgbm", "lightgbm_class_weight"),
                          ("catboost", "catboost_balanced"),
                          ("xgboost", "xgboost_balanced")]:
        try:
            __import__(package)
            names.append(name)
        except ImportError:
            pass
    status = main(QUICK + [str(binary_csv), "--configs", ",".join(names),
                           "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = read_csv(tmp_path / "leaderboard.csv")
    assert sorted(r["candidate"] for r in rows) == sorted(names)
    # The generated table separates its classes: every candidate ranks well.
    assert all(float(r["roc_auc_mean"]) > 0.8 for r in rows), rows


@pytest.mark.parametrize("package, name", [("lightgbm", "lightgbm_class_weight"),
                                           ("xgboost", "xgboost_balanced")])
def test_a_candidate_whose_package_is_missing_is_skipped_with_a_notice(
        binary_csv, monkeypatch, capsys, package, name):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda module, *a: None if module == package else real(module, *a))
    status = main(QUICK + [str(binary_csv), "--configs", f"logreg_class_weight,{name}"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert f"skipping {name}: {package} not installed (pip install {package})" \
        in captured.err
    assert name not in captured.out.split("candidates ×")[1]


def test_xgboost_weights_the_classes_as_class_weight_balanced():
    xgboost = pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.array(["a", "b", "c"])[np.digitize(X[:, 0], [0.5, 1.5])]  # 69/23/8 %
    model = CANDIDATES["xgboost_balanced"].factory(Context(quick=True)).fit(X, y)
    assert model.classes_.tolist() == ["a", "b", "c"]
    # By hand: labels 0..k-1 and each row weighted n / (k n_class).
    index = np.searchsorted(["a", "b", "c"], y)
    counts = np.bincount(index)
    weights = len(y) / (3 * counts[index])
    reference = xgboost.XGBClassifier(n_estimators=50, random_state=0, n_jobs=1).fit(
        X, index, sample_weight=weights)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    unweighted = CANDIDATES["xgboost"].factory(Context(quick=True)).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), reference.predict_proba(X))
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X),
                                  np.array(["a", "b", "c"])[proba.argmax(axis=1)])


def test_xgboost_candidates_rank_on_string_labels(tmp_path, make_table, capsys):
    pytest.importorskip("xgboost")
    table = make_table(n=150, n_classes=3)
    table["label"] = np.array(["low", "mid", "high"])[table["label"]]
    data = tmp_path / "three.csv"
    table.to_csv(data, index=False)
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps({"low": {"mid": 1, "high": 2}, "mid": {"low": 3, "high": 1},
                                "high": {"low": 6, "mid": 3}}))
    status = main(QUICK + [str(data), "--configs", "xgboost_balanced,logreg_class_weight",
                           "--out", str(tmp_path / "without")])
    assert status == 0, capsys.readouterr().err
    rows = read_csv(tmp_path / "without" / "leaderboard.csv")
    assert sorted(r["candidate"] for r in rows) == ["logreg_class_weight",
                                                    "xgboost_balanced"]
    assert all(float(r["roc_auc_mean"]) > 0.8 for r in rows), rows
    # The plain XGBoost under a cost matrix beats the best constant decision
    # ('mid' for every row: 0.6 · 1 + 0.15 · 3 = 1.05 per row).
    status = main(QUICK[:1] + ["--cv", "2", "--target", "label", str(data),
                               "--cost-matrix", str(cost), "--configs", "xgboost",
                               "--out", str(tmp_path / "with")])
    assert status == 0, capsys.readouterr().err
    [row] = read_csv(tmp_path / "with" / "leaderboard.csv")
    assert row["candidate"] == "xgboost" and float(row["expected_cost_mean"]) < 0.8


def test_multiclass_brier_score_by_hand():
    from imbestimators.cli._report import _multiclass_brier

    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    # (0.3² + 0.2² + 0.1² + 0.2² + 0.3² + 0.5²) / 2 rows
    assert _multiclass_brier(np.array([0, 2]), proba) == pytest.approx(0.26, rel=1e-12)


def test_calibration_table_and_reliability_plot(binary_csv, tmp_path, capsys):
    out = tmp_path / "report"
    status = main(QUICK + [str(binary_csv), "--configs", "logreg_class_weight",
                           "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    table = pd.read_csv(binary_csv)
    y = table.pop("label").to_numpy()
    proba = np.zeros(len(y))
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(table, y):
        proba[test] = logreg_like_the_cli().fit(table.iloc[train], y[train]).predict_proba(
            table.iloc[test])[:, 1]
    brier = np.mean((proba - (y == 1)) ** 2)  # the minority class 1 is positive
    loss = -np.mean(np.log(np.where(y == 1, proba, 1 - proba)))
    report = (out / "report.md").read_text()
    row = next(line for line in report.splitlines()
               if line.startswith("| logreg_class_weight |") and line.count("|") == 4)
    _, _, shown_brier, shown_loss, _ = row.split("|")
    assert float(shown_brier) == pytest.approx(brier, abs=6e-5)
    assert float(shown_loss) == pytest.approx(loss, abs=6e-5)
    assert (out / "reliability.png").exists()


@pytest.mark.slow
def test_dask_cluster_runs_the_fits_with_the_same_scores(binary_csv, tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    argv = QUICK + [str(binary_csv), "--configs", "logreg_class_weight,hgb_class_weight"]
    assert main(argv + ["--out", str(tmp_path / "local")]) == 0
    # Worker processes, as on a real cluster (threads of one process would
    # share torch's global generator: concurrent network fits would not repeat).
    # One thread each: joblib's first tasks on a worker each open the worker's
    # client, and two threads doing so at once can fail dask's handshake.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        status = main(argv + ["--out", str(tmp_path / "dask"),
                              "--dask-scheduler", cluster.scheduler_address])
    assert status == 0, capsys.readouterr().err
    local = read_csv(tmp_path / "local" / "leaderboard.csv")
    remote = read_csv(tmp_path / "dask" / "leaderboard.csv")
    for a, b in zip(local, remote):
        assert a["candidate"] == b["candidate"]
        assert float(a["average_precision_mean"]) == pytest.approx(
            float(b["average_precision_mean"]), abs=1e-6)


def test_unreachable_dask_scheduler_is_one_line(binary_csv, capsys, monkeypatch):
    import dask.distributed

    def refuse(address, timeout):
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(dask.distributed, "Client", refuse)
    status = main(QUICK + [str(binary_csv), "--dask-scheduler", "tcp://10.9.9.9:8786"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(lines) == 1
    assert "--dask-scheduler 'tcp://10.9.9.9:8786': cannot connect" in lines[0]


def test_training_curves_know_the_restored_epoch():
    from imbestimators.cli._compare import _history

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + rng.normal(size=300) > 1.2).astype(int)
    net = NeuralClassifier(early_stopping=True, max_epochs=40, n_iter_no_change=5,
                           hidden_layer_sizes=(32,), random_state=0).fit(X, y)
    history = _history(make_pipeline(StandardScaler(), net))
    valid = [h["valid_loss"] for h in history["epochs"]]
    restored = history["restored"]
    assert len(valid) == len(net.history_) and restored is not None
    # The restored epoch is the best validation loss (to early stopping's tol).
    assert valid[restored - 1] <= min(valid) + net.tol
    assert _history(NeuralClassifier(max_epochs=2).fit(X, y))["restored"] is None


def test_text_features_are_not_divided_by_their_standard_deviation():
    # One informative word among many rare ones: dividing a TF-IDF column by
    # its standard deviation makes a rare word as loud as the informative one.
    rng = np.random.default_rng(0)

    def documents(n):
        y = (rng.random(n) < 0.2).astype(int)
        text = [" ".join([*rng.choice([f"w{i}" for i in range(1500)], 6), "common"]
                         + (["alpha"] if rng.random() < (0.7 if label else 0.1) else []))
                for label in y]
        return np.array(text), y

    (train, y_train), (test, y_test) = documents(600), documents(2000)
    linear = CANDIDATES["logreg_class_weight"].factory(Context(sparse=True))
    by_deviation = make_pipeline(StandardScaler(with_mean=False),
                                 LogisticRegression(class_weight="balanced", max_iter=1000))
    scores = []
    for model in (linear, by_deviation):
        model = make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2), model)
        model.fit(train, y_train)
        scores.append(average_precision_score(y_test, model.predict_proba(test)[:, 1]))
    assert scores[0] > scores[1] + 0.1, scores
