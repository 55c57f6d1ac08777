"""The report's figures.

matplotlib (the ``plot`` extra) is imported when they are drawn, and only its
object-oriented ``Figure`` is used: no pyplot state, no GUI backend.
"""

import math

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, precision_recall_curve
from sklearn.preprocessing import label_binarize

from ._metrics import decide


def precision_recall(results, y_index, positive, points=None):
    """Precision-recall curves of pooled out-of-fold probabilities; a dot at
    each tuned threshold of ``points`` (binary)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = figure.subplots()
    n_classes = results[0].oof_proba.shape[1]
    if n_classes == 2:
        truth = (y_index == positive).ravel()
    else:  # micro-average: every (sample, class) pair is one binary decision
        truth = label_binarize(y_index, classes=np.arange(n_classes)).ravel()
    for result in results:
        score = (result.oof_proba[:, positive] if n_classes == 2
                 else result.oof_proba.ravel())
        precision, recall, _ = precision_recall_curve(truth, score)
        line, = ax.plot(recall, precision, drawstyle="steps-post", label=result.name)
        point = (points or {}).get(result.name)
        if point is not None and n_classes == 2:
            decided = score >= point["threshold"]
            ax.plot(truth[decided].sum() / truth.sum(),
                    truth[decided].mean() if decided.any() else 1.0, "o",
                    color=line.get_color())
    ax.axhline(truth.mean(), color="grey", linestyle=":", label="chance")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title="Precision-recall (out-of-fold)")
    ax.legend(fontsize="small")
    return figure


def confusion_matrices(results, y_index, classes, cost_matrix, normalize=None):
    """One confusion matrix per candidate, from its out-of-fold decisions:
    counts, or with ``normalize='true'`` the rates per true class (each row
    sums to 1: recall on the diagonal)."""
    from matplotlib.figure import Figure

    columns = min(3, len(results))
    rows = math.ceil(len(results) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.8 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    labels = [str(c) for c in classes]
    for ax, result in zip(axes.flat, results):
        ConfusionMatrixDisplay.from_predictions(
            y_index, decide(result.oof_proba, cost_matrix),
            labels=np.arange(len(classes)), display_labels=labels, ax=ax,
            colorbar=False, normalize=normalize,
            values_format=".2f" if normalize else "d",  # counts, never 1e+04
        )
        ax.set_title(result.name, fontsize="medium")
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    return figure


def reliability(results, y_index, positive):
    """Reliability diagram (binary): mean predicted probability of the positive
    class against its observed frequency, in ten quantile bins."""
    from matplotlib.figure import Figure
    from sklearn.calibration import calibration_curve

    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = figure.subplots()
    truth = y_index == positive
    for result in results:
        observed, predicted = calibration_curve(truth, result.oof_proba[:, positive],
                                                n_bins=10, strategy="quantile")
        ax.plot(predicted, observed, "o-", label=result.name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    ax.set(xlabel="mean predicted probability", ylabel="observed frequency",
           xlim=(0, 1), ylim=(0, 1), title="Reliability (out-of-fold)")
    ax.legend(fontsize="small")
    return figure


def training_curves(results):
    """Loss per epoch of every network, one line per fold; None without networks."""
    from matplotlib.figure import Figure

    networks = [r for r in results if r.histories]
    if not networks:
        return None
    columns = min(3, len(networks))
    rows = math.ceil(len(networks) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax, result in zip(axes.flat, networks):
        for fold, history in result.histories:
            losses = history["epochs"]
            epochs = np.arange(1, len(losses) + 1)
            line, = ax.plot(epochs, [h["train_loss"] for h in losses],
                            label=f"fold {fold + 1}")
            valid = [h["valid_loss"] for h in losses]
            if all(v is not None for v in valid):
                ax.plot(epochs, valid, linestyle="--", color=line.get_color())
            restored = history["restored"]
            if restored is not None:  # the weights early stopping kept
                curve = valid if all(v is not None for v in valid) else [
                    h["train_loss"] for h in losses]
                ax.plot(restored, curve[restored - 1], "*", markersize=10,
                        color=line.get_color())
        ax.set(title=result.name, xlabel="epoch", ylabel="loss")
        ax.title.set_fontsize("medium")
    axes.flat[0].legend(fontsize="small")
    for ax in axes.flat[len(networks):]:
        ax.set_visible(False)
    return figure
