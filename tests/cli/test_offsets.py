"""The multiclass operating point under --cost-matrix: class offsets tuned on
out-of-fold probabilities, their cross-validated cost, and --tune-threshold's
saved FixedOffsetsClassifier."""

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from imbestimators.cli import main
from imbestimators.cli._offsets import GRID, best_offsets, mean_costs, tuned_offsets
from imbestimators.metrics import FixedOffsetsClassifier

COSTS = np.array([[0.0, 1.0, 4.0], [6.0, 0.0, 2.0], [8.0, 3.0, 0.0]])


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def by_hand(proba, cost_matrix, offsets):
    """argmin_j sum_i C[i, j] q_i, q = softmax(log p + b), row by row."""
    decided = []
    for p in proba:
        q = softmax((np.log(p) + offsets)[None, :])[0]
        decided.append(int(np.argmin([sum(cost_matrix[i, j] * q[i] for i in range(len(q)))
                                      for j in range(len(q))])))
    return np.array(decided)


def miscalibrated(n=50_000, shift=(0.0, -1.2, 0.0), seed=0):
    """Labels drawn from softmax(z); the model's probabilities softmax(z + shift)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3)) * 1.5
    truth = (z + rng.gumbel(size=z.shape)).argmax(axis=1)  # drawn from softmax(z)
    return truth, softmax(z + np.asarray(shift)), softmax(z)


def cost_of(truth, decided, cost_matrix=COSTS):
    return cost_matrix[truth, decided].mean()


def test_mean_costs_along_one_offset_match_the_rule_by_hand():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 60)
    proba = rng.dirichlet([1.0, 1.0, 1.0], 60)
    offsets = np.array([0.0, 0.3, -0.7])
    values = mean_costs(truth, proba, COSTS, offsets, 2)
    for g in range(0, len(GRID), 7):
        b = offsets.copy()
        b[2] = GRID[g]
        assert values[g] == pytest.approx(cost_of(truth, by_hand(proba, COSTS, b)),
                                          abs=1e-12), GRID[g]


def test_tuned_offsets_undo_a_shifted_class_and_lower_the_cost():
    truth, proba, calibrated = miscalibrated()
    offsets = best_offsets(truth, proba, COSTS)
    # The shift of class 1's log-probability is undone (class 0's offset is
    # 0 by definition; class 2 was not shifted).
    np.testing.assert_allclose(offsets, [0.0, 1.2, 0.0], atol=0.3)
    default = cost_of(truth, by_hand(proba, COSTS, np.zeros(3)))
    tuned = cost_of(truth, by_hand(proba, COSTS, offsets))
    bayes = cost_of(truth, by_hand(calibrated, COSTS, np.zeros(3)))
    assert tuned < default - 0.02
    assert tuned == pytest.approx(bayes, abs=0.01)
    # Cross-validated on 5 folds: the gain holds on rows the tuning did not see.
    folds = [(np.setdiff1d(np.arange(len(truth)), test), test)
             for test in np.array_split(np.arange(len(truth)), 5)]
    point = tuned_offsets(truth, proba, folds, COSTS)
    assert point["tuned"] < point["default"] - 0.02
    assert point["default"] == pytest.approx(default, abs=1e-12)  # equal-size folds


def test_calibrated_probabilities_need_no_offsets():
    truth, _, calibrated = miscalibrated(shift=(0.0, 0.0, 0.0))
    np.testing.assert_allclose(best_offsets(truth, calibrated, COSTS), 0.0, atol=0.3)


def test_cross_validated_cost_by_hand():
    # 0-1 costs: the decision is the most probable adjusted class. Fold A
    # wants class 1's offset in (log 1.25, log 2), fold B in (-log 2,
    # -log 1.25): each fold decided with the other's offsets gets one of its
    # two rows wrong. Tuned on its own rows, a fold would get none wrong
    # (cost 0); tuned on all four rows, one of four (0.25).
    costs = 1.0 - np.eye(3)
    truth = np.array([1, 0, 0, 1])
    proba = np.array([[0.5, 0.4, 0.1], [0.6, 0.3, 0.1],    # fold A
                      [0.4, 0.5, 0.1], [0.3, 0.6, 0.1]])   # fold B
    folds = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    point = tuned_offsets(truth, proba, folds, costs)
    assert point["tuned"] == 0.5
    # Without offsets: fold A gets row 0 wrong, fold B row 2.
    assert point["default"] == 0.5
    a = best_offsets(truth[:2], proba[:2], costs)
    b = best_offsets(truth[2:], proba[2:], costs)
    assert np.log(1.25) < a[1] < np.log(2) and -np.log(2) < b[1] < -np.log(1.25)


def test_tune_threshold_saves_the_offsets_of_a_multiclass_cost_matrix(
        tmp_path, make_table, capsys):
    table = make_table(n=300, n_classes=3)
    table["label"] = np.array(["low", "mid", "high"])[table["label"]]
    data = tmp_path / "three.csv"
    table.to_csv(data, index=False)
    cost = tmp_path / "cost.json"
    labels = ["high", "low", "mid"]  # the sorted labels: the order of COSTS here
    cost.write_text(json.dumps({t: {p: COSTS[i, j] for j, p in enumerate(labels)}
                                for i, t in enumerate(labels)}))
    out = tmp_path / "out"
    status = main(["compare", str(data), "--target", "label", "--quick", "--cv", "3",
                   "--configs", "logreg", "--cost-matrix", str(cost), "--out", str(out),
                   "--tune-threshold"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "Operating point of logreg: decide by minimum expected cost on the " \
        "probabilities adjusted by the class offsets (high +0.00" in captured.out
    model = joblib.load(out / "model.joblib")
    final = model.named_steps["model"]
    offsets = model.compare_info_["offsets"]
    assert isinstance(final, FixedOffsetsClassifier) and len(offsets) == 3
    np.testing.assert_array_equal(final.offsets_, offsets)
    np.testing.assert_array_equal(final.cost_matrix_, COSTS)
    # model.py rebuilds the same meta-estimator, offsets and costs included.
    namespace = {"__name__": "model_py"}
    exec(compile((out / "model.py").read_text(), "model.py", "exec"), namespace)
    assert repr(namespace["model"]) == repr(clone(model))
    assert str(namespace["model"].get_params(deep=True)) == str(
        clone(model).get_params(deep=True))
    report = (out / "report.md").read_text()
    assert "## Operating points" in report and "| offset high | offset low |" in report
    status = main(["predict", str(out / "model.joblib"), str(data),
                   "--out", str(tmp_path / "p.csv")])
    assert status == 0, capsys.readouterr().err
    predictions = pd.read_csv(tmp_path / "p.csv")
    proba = predictions[[f"proba_{c}" for c in labels]].to_numpy()
    # The probabilities are the estimator's own; the decisions its adjusted ones.
    np.testing.assert_allclose(proba, final.estimator_.predict_proba(
        model.named_steps["preprocess"].transform(table.drop(columns="label"))))
    expected = np.array(labels)[by_hand(proba, COSTS, np.array(offsets))]
    np.testing.assert_array_equal(predictions["prediction"], expected)


def test_tune_threshold_on_multiclass_needs_a_cost_matrix_and_out(tmp_path, make_table,
                                                                  capsys):
    path = tmp_path / "three.csv"
    make_table(n_classes=3).to_csv(path, index=False)
    assert main(["compare", str(path), "--target", "label", "--quick",
                 "--tune-threshold", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "with --cost-matrix the class offsets of a multiclass one: got 3 classes " \
        "and no cost matrix" in err and len(err.strip().splitlines()) == 1
    assert main(["compare", str(path), "--target", "label", "--quick",
                 "--tune-threshold"]) == 2
    assert "give --out DIR" in capsys.readouterr().err
