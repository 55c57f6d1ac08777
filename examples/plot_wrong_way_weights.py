"""
Class weights the wrong way round
=================================

A common question: *"11% of my samples are positive, so I set
``class_weight={0: 0.89, 1: 0.11}``, and now the model never predicts the
positive class. Why?"* Because those weights are the class *frequencies*: they
make the common class count even more and the rare class even less. Class
weights exist to do the opposite: a weight multiplies a sample's term in the
loss, so the rare class needs the *larger* weight.

This example trains the same small network four ways on the E. coli data
(10.4% positives, close to the question's 11%) and compares recall,
precision and accuracy of the positive class under 5-fold cross-validation:

* no class weights,
* the wrong-way dict ``{0: 0.89, 1: 0.11}``,
* the right-way dict ``{0: 0.11, 1: 0.89}``,
* ``class_weight='balanced'``.
"""

# %%
# Data
# ----
import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from imbestimators import NeuralClassifier
from imbestimators.datasets import load_ecoli

X, y = load_ecoli(return_X_y=True)
counts = np.bincount(y)
print(f"{len(y)} samples, {counts[1]} positives ({counts[1] / len(y):.1%})")

# %%
# What ``class_weight='balanced'`` computes
# -----------------------------------------
# scikit-learn's rule, used by :class:`imbestimators.NeuralClassifier` too, is
# ``n_samples / (n_classes * count_c)``: each class then carries the same total
# weight, half of the loss each.
balanced = len(y) / (2 * counts)
print("balanced weights:", {c: round(float(w), 3) for c, w in enumerate(balanced)})
print("total weight per class:", (balanced * counts).round(1))
print(f"positive / negative weight ratio: {balanced[1] / balanced[0]:.1f} "
      f"(= {counts[0]} / {counts[1]})")

# %%
# The right-way dict ``{0: 0.11, 1: 0.89}`` has nearly the same ratio
# (0.89 / 0.11 = 8.1), so it should behave like ``'balanced'``. Only the ratio
# matters: the loss is a weighted *mean*, Σ wᵢ lᵢ / Σ wᵢ, so multiplying every
# weight by the same number changes nothing. The wrong-way dict has the
# inverse ratio, 1 / 8.1: a positive counts as an eighth of a negative.
#
# Four models, same network, same folds
# -------------------------------------
choices = {
    "none": None,
    "wrong way {0: 0.89, 1: 0.11}": {0: 0.89, 1: 0.11},
    "right way {0: 0.11, 1: 0.89}": {0: 0.11, 1: 0.89},
    "'balanced'": "balanced",
}
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
results = {}
for name, class_weight in choices.items():
    model = NeuralClassifier(
        class_weight=class_weight, hidden_layer_sizes=(16,), batch_size=64,
        max_epochs=60, learning_rate=0.01, random_state=0,
    )
    pred = cross_val_predict(model, X, y, cv=cv)
    results[name] = {
        "recall": recall_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0.0),
        "accuracy": accuracy_score(y, pred),
        "predicted positive": pred.mean(),
    }

print(f"{'class_weight':32s}" + "".join(f"{m:>20s}" for m in results["none"]))
for name, scores in results.items():
    print(f"{name:32s}" + "".join(f"{v:20.3f}" for v in scores.values()))

# %%
# The wrong-way weights push the model further towards "always negative":
# recall drops and accuracy stays near the share of negatives, which is what
# a model that never predicts the positive class scores. The right-way dict
# and ``'balanced'`` trade precision (and some accuracy) for recall: they make
# a missed positive cost about 8 false alarms, which is a *decision* about
# costs. When the costs are known, state them directly instead
# (``cost_matrix``; see :ref:`sphx_glr_auto_examples_plot_asymmetric_costs.py`
# and the user guide on cost-sensitive learning).
import matplotlib.pyplot as plt  # noqa: E402 (a gallery section's own import)

metrics = ["recall", "precision", "accuracy"]
width = 0.2
fig, ax = plt.subplots(figsize=(9, 3.5))
for k, (name, scores) in enumerate(results.items()):
    ax.bar(np.arange(len(metrics)) + (k - 1.5) * width, [scores[m] for m in metrics],
           width, label=name)
ax.axhline(1 - counts[1] / len(y), color="grey", linestyle=":",
           label="accuracy of 'always negative'")
ax.set_xticks(np.arange(len(metrics)), metrics)
ax.set_ylim(0, 1)
ax.set_title("E. coli, 5-fold cross-validated predictions")
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()
plt.show()
