"""
=====================================================================
Blending models trained on different feature groups, scored honestly
=====================================================================

A common situation: several models, each trained on its own feature set
(say molecular fingerprints of different kinds), are blended with weights
tuned on a holdout, and the holdout score of the blend is then reported. That
score is optimistic: the weights were chosen to look good on exactly those
rows.

:class:`imbestimators.WeightedStackingClassifier` fits the weights on
out-of-fold (OOF) probabilities and reports two scores: ``oof_score_``, the
score of the tuned blend on the rows it was tuned on (optimistic, like the
holdout score), and ``cv_score_``, where each fold's rows are blended with
weights fitted on the other folds only (the honest one). By default
(``blend='auto'``) it keeps fitted weights only when those held-out folds show
them beating the plain average of the members by more than the gain's
standard error; otherwise it predicts with the plain average.

Here the feature groups are the three blocks of the ozone-level (8-hour)
data set of the UCI repository, in its column order: hourly wind speed,
hourly temperature, and upper-air and pressure measurements.
"""

# %%
# Data and one model per feature group
# ------------------------------------
# Each base is a pipeline whose first step selects its columns by name.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from imbestimators import NeuralClassifier, WeightedStackingClassifier
from imbestimators.datasets import get_data_home, load_csv, load_yeast_me2

# The project's dataset collection, if IMBESTIMATORS_DATA names it (the docs
# build sets it to ../shared/data).
shared = get_data_home()
if shared is not None:
    X, y = load_csv(shared / "ozone_level_8hr.csv.gz", as_frame=True)
    groups = {
        "wind": [f"V{i}" for i in range(1, 27)],
        "temperature": [f"V{i}" for i in range(27, 53)],
        "upper_air": [f"V{i}" for i in range(53, 73)],
    }
else:  # the bundled data set, split into arbitrary column blocks
    X, y = load_yeast_me2(return_X_y=True, as_frame=True)
    cols = list(X.columns)
    groups = {"wind": cols[:3], "temperature": cols[3:6], "upper_air": cols[6:]}
print(X.shape, np.bincount(y))


def select(columns):
    return ColumnTransformer([("group", "passthrough", columns)])


def network():
    return NeuralClassifier(hidden_layer_sizes=(32,), max_epochs=15,
                            learning_rate=3e-3, random_state=0)


estimators = [
    ("nn_wind", make_pipeline(select(groups["wind"]), network())),
    ("nn_temperature", make_pipeline(select(groups["temperature"]), network())),
    ("lr_upper_air", make_pipeline(select(groups["upper_air"]), StandardScaler(),
                                   LogisticRegression(max_iter=1000))),
    ("lr_all", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
]

# %%
# Weights fitted on the OOF probabilities
# ---------------------------------------
# ``refit=False`` keeps the fold models (no extra training of the networks);
# ``scoring='average_precision'`` makes ``optimizer='auto'`` use greedy
# ensemble selection.
stack = WeightedStackingClassifier(estimators, scoring="average_precision", cv=3,
                                   refit=False, random_state=0).fit(X, y)
names = [name for name, _ in estimators]
for name, w, s in zip(names, stack.weights_, stack.oof_scores_individual_):
    print(f"{name:15s} weight {w:.2f}   OOF average precision {s:.3f}")
print(f"uniform average        {stack.oof_score_uniform_:.3f}")
print(f"blend, in-sample       {stack.oof_score_:.3f}   (optimistic)")
print(f"blend, honest          {stack.cv_score_:.3f} ± {stack.cv_score_se_:.3f}")
print(f"decision: blend_={stack.blend_!r}, shrinkage {stack.shrinkage_:g}: "
      f"{stack.blend_evidence_['reason']}")
print("weights per fold of cv_score_:\n", stack.cv_weights_.round(2))

# %%
# What the plot shows
# -------------------
# The in-sample score of fitted weights is optimistic (they were chosen on
# those rows); the honest ``cv_score_`` is the number to quote, with its
# standard error. The spread of ``cv_weights_`` over the folds shows how much
# the weights themselves vary.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.barh(names, stack.weights_)
ax1.set_xlabel("weight")
ax1.set_title("Blend weights")
labels = names + ["uniform", "blend (in-sample)", "blend (honest cv)"]
values = [*stack.oof_scores_individual_, stack.oof_score_uniform_,
          stack.oof_score_, stack.cv_score_]
ax2.barh(labels, values, color=["C0"] * len(names) + ["C1", "C3", "C2"])
ax2.set_xlim(min(values) - 0.05, max(values) + 0.02)
ax2.set_xlabel("average precision (OOF rows)")
ax2.set_title("Scores")
fig.tight_layout()
plt.show()
