"""``imbestimators demo``: a first look on a bundled real dataset."""

import time

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate

from ..datasets import load_yeast_me2
from ..neural import NeuralClassifier

_METRICS = ("average_precision", "balanced_accuracy", "f1", "roc_auc")


def run_demo(cv=5, seed=0, out=print):
    """Cross-validate two NeuralClassifiers on the yeast ME2 data and print a table."""
    X, y = load_yeast_me2(return_X_y=True)
    out(f"yeast_me2 (UCI, CC BY 4.0): {X.shape[0]} samples, {X.shape[1]} features, "
        f"{int(y.sum())} positives ({y.mean():.1%}); {cv}-fold stratified CV")
    candidates = {
        "NeuralClassifier()": NeuralClassifier(random_state=seed),
        "NeuralClassifier(class_weight='balanced')": NeuralClassifier(
            class_weight="balanced", random_state=seed
        ),
    }
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    header = f"{'model':<44}" + "".join(f"{m:>19}" for m in _METRICS) + f"{'fit s':>8}"
    out(header)
    out("-" * len(header))
    for name, model in candidates.items():
        start = time.perf_counter()
        scores = cross_validate(model, X, y, cv=folds, scoring=_METRICS)
        row = f"{name:<44}"
        for metric in _METRICS:
            values = scores[f"test_{metric}"]
            row += f"{np.mean(values):>12.3f} ± {np.std(values):.3f}"
        out(row + f"{time.perf_counter() - start:>8.1f}")
    return 0
