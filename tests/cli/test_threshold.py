"""The tuned operating point: thresholds, their cross-validated score, the
precision at fixed recalls, and --tune-threshold's saved model."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import FixedThresholdClassifier

from imbestimators.cli import main
from imbestimators.cli._threshold import (
    best_threshold,
    precision_at_recall,
    scores_at,
    tuned_operating_point,
)


def test_best_threshold_for_f1_by_hand():
    truth = np.array([0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.3, 0.8, 0.4, 0.9])
    # Deciding positive from 0.3 up: TP 3, FP 1, FN 0, F1 = 6/7 (the best;
    # from 0.8 up: F1 = 4/5; from 0.4 up: 3/4 · ... = 2/3).
    t = best_threshold(truth, score, "f1")
    np.testing.assert_array_equal(score >= t, [0, 0, 1, 1, 1, 1])


def test_best_threshold_for_cost_by_hand():
    truth = np.array([0, 0, 0, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.9])
    # A miss costs 10, a false alarm 1: catch both positives (from 0.35 up:
    # one false alarm, cost 1/6) rather than miss one (from 0.9 up: 10/6).
    costs = np.array([[0.0, 1.0], [10.0, 0.0]])
    t = best_threshold(truth, score, "expected_cost", costs)
    np.testing.assert_array_equal(score >= t, [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "expected_cost"])
def test_scores_at_every_threshold_equal_scikit_learns(metric):
    rng = np.random.default_rng(1)
    truth = (rng.random(200) < 0.3).astype(int)
    score = np.round(rng.random(200), 2)  # ties among the scores
    thresholds = np.array([-1.0, 0.0, 0.13, 0.5, 0.5000001, 0.99, 2.0])
    costs = np.array([[0.5, 2.0], [7.0, 0.25]])
    values = scores_at(metric, truth, score, thresholds, costs)
    for t, value in zip(thresholds, values):
        decided = (score >= t).astype(int)
        if metric == "f1":
            expected = f1_score(truth, decided, zero_division=0.0)
        elif metric == "balanced_accuracy":
            expected = recall_score(truth, decided, average="macro")
        else:
            expected = costs[truth, decided].mean()
        assert value == pytest.approx(expected, abs=1e-12), t


def test_precision_at_recall_by_hand():
    truth = np.array([1, 1, 0, 1, 0])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    # From 0.8 up: precision 1, recall 2/3; from 0.6 up: 3/4 and 1; from 0.5
    # up: 3/5 and 1. Recall >= 0.5: precision 1; recall >= 0.8: 3/4.
    assert precision_at_recall(truth, score, (0.5, 0.8)) == pytest.approx([1.0, 0.75])


def test_tuned_score_is_cross_validated():
    rng = np.random.default_rng(0)
    truth = (rng.random(300) < 0.2).astype(int)
    folds = [(np.setdiff1d(np.arange(300), test), test)
             for test in np.array_split(rng.permutation(300), 3)]
    # Separable scores: every fold's threshold (tuned on the others) is perfect.
    separable = truth + 0.1 * rng.random(300)
    point = tuned_operating_point(truth, separable, folds, "f1",
                                  default_decision=np.zeros(300))
    assert point["tuned"] == 1.0 and point["default"] == 0.0
    # Pure noise: a threshold tuned on all rows finds some F1 by chance, the
    # cross-validated score of tuning is lower.
    noise = rng.random(300)
    point = tuned_operating_point(truth, noise, folds, "f1",
                                  default_decision=np.zeros(300))
    in_sample = np.mean([
        2 * (truth[t] & (noise[t] >= point["threshold"])).sum()
        / (truth[t].sum() + (noise[t] >= point["threshold"]).sum()) for _, t in folds])
    assert point["tuned"] < in_sample


def test_tune_threshold_saves_a_fixed_threshold_model(binary_csv, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["compare", str(binary_csv), "--target", "label", "--quick", "--cv",
                   "3", "--configs", "logreg_class_weight", "--out", str(out),
                   "--tune-threshold"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "Operating point of logreg_class_weight: decide 1 when its probability" \
        in captured.out
    model = joblib.load(out / "model.joblib")
    final = model.named_steps["model"]
    assert isinstance(final, FixedThresholdClassifier) and final.pos_label == 1
    threshold = model.compare_info_["threshold"]
    assert final.threshold == threshold
    assert "## Operating points" in (out / "report.md").read_text()
    status = main(["predict", str(out / "model.joblib"), str(binary_csv),
                   "--out", str(tmp_path / "p.csv")])
    assert status == 0, capsys.readouterr().err
    predictions = pd.read_csv(tmp_path / "p.csv")
    expected = np.where(predictions["proba_1"] >= threshold, 1, 0)
    np.testing.assert_array_equal(predictions["prediction"], expected)
