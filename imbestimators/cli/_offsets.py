"""The operating point of a multiclass candidate under ``--cost-matrix``.

The decision is the minimum expected cost class of the adjusted
probabilities ``q = softmax(log(p) + b)`` (:func:`imbestimators.metrics.decide`
with ``offsets=b``). The per-class offsets ``b`` (``b_0 = 0``) are tuned to
minimise the mean cost on the out-of-fold rows, by coordinate search: one
class at a time, the best of :data:`GRID` given the others (after the first
sweep, the part within :data:`WINDOW` of its value), for at most
:data:`SWEEPS` sweeps over the classes. Their score is cross-validated like
the binary threshold's (:func:`._threshold.cross_validated`).
"""

import numpy as np

from ..metrics import decide
from ._metrics import COST
from ._threshold import advice, cross_validated

GRID = np.round(np.linspace(-5.0, 5.0, 201), 10)  # offsets tried, steps of 0.05
SWEEPS = 3
WINDOW = 1.0  # after the first sweep, offsets within this of their value are tried


def mean_costs(truth, proba, cost_matrix, offsets, k, grid=GRID):
    """Mean cost of the adjusted decisions for each value of ``grid`` as the
    offset of class ``k``, the other ``offsets`` fixed.

    Row ``r``'s expected cost of deciding ``j``, up to the row's scale, is
    ``A[r, j] + s * B[r, j]`` with ``s = exp(b_k)``, ``B[r, j] = p[r, k] C[k, j]``
    and ``A`` the other classes' part: ``K`` lines in ``s``
    (:func:`_costs_along`).
    """
    cost_matrix = np.asarray(cost_matrix, dtype=np.float64)
    weighted = np.asarray(proba, dtype=np.float64) * np.exp(offsets)
    weighted[:, k] = 0.0
    return _costs_along(weighted @ cost_matrix, np.outer(proba[:, k], cost_matrix[k]),
                        cost_matrix[truth], np.exp(grid))


def _costs_along(intercepts, slopes, row_costs, scales):
    """Mean cost, at each of ``scales``, of deciding each row's least
    ``intercepts + scale * slopes`` (``row_costs``: each decision's cost).

    The decision follows the lower envelope of a row's lines, whose slope
    only falls as the scale grows, so each row changes its decision at most
    ``K - 1`` times: the changes are found line after line (a few passes over
    the rows, instead of one per scale) and summed into the scales' bins.
    """
    current = np.argmin(intercepts + scales[0] * slopes, axis=1)
    start = np.take_along_axis(row_costs, current[:, None], axis=1).sum()
    # Only the rows whose decision differs at the two ends change it.
    moving = current != np.argmin(intercepts + scales[-1] * slopes, axis=1)
    intercepts, slopes = intercepts[moving], slopes[moving]
    row_costs, current = row_costs[moving], current[moving]
    where, change = [np.empty(0)], [np.empty(0)]
    while len(current):
        line = np.arange(len(current))
        fall = slopes[line, current][:, None] - slopes  # > 0: lines met from above
        with np.errstate(divide="ignore", invalid="ignore"):
            meets = np.where(fall > 0, (intercepts - intercepts[line, current][:, None])
                             / fall, np.inf)
        following = np.argmin(meets, axis=1)
        at = meets[line, following]
        within = at <= scales[-1]
        where.append(at[within])
        change.append((row_costs[line, following] - row_costs[line, current])[within])
        intercepts, slopes = intercepts[within], slopes[within]
        row_costs, current = row_costs[within], following[within]
    # A change at exactly a scale counts from the next one (a tie keeps the
    # line it had).
    bins = np.searchsorted(scales, np.concatenate(where), side="right")
    steps = np.bincount(bins, weights=np.concatenate(change), minlength=len(scales) + 1)
    return (start + np.cumsum(steps)[:len(scales)]) / len(moving)


def best_offsets(truth, proba, cost_matrix, grid=GRID, sweeps=SWEEPS):
    """The offsets (``b_0 = 0``) of least mean cost on ``(truth, proba)``, by
    coordinate search over ``grid``; ties go to the middle one of the tied
    values.

    Parameters
    ----------
    truth : ndarray of shape (n_samples,)
        Column indices of the true classes.
    proba : ndarray of shape (n_samples, n_classes)
        Out-of-fold probabilities.
    cost_matrix : ndarray of shape (n_classes, n_classes)
        ``C[true, predicted]`` in the order of the columns.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
    """
    proba = np.asarray(proba, dtype=np.float64)
    offsets = np.zeros(proba.shape[1])
    cost = np.inf
    for sweep in range(sweeps):
        before = cost
        for k in range(1, proba.shape[1]):
            # After the first sweep, the offsets move little: a window around
            # each keeps most rows' decisions fixed, which makes it fast.
            near = (grid if sweep == 0
                    else grid[np.abs(grid - offsets[k]) <= WINDOW + 1e-9])
            values = mean_costs(truth, proba, cost_matrix, offsets, k, near)
            cost = values.min()
            tied = near[np.isclose(values, cost, rtol=0, atol=1e-12)]
            offsets[k] = tied[len(tied) // 2]
        if cost > before - 1e-12:  # the sweep gained nothing
            break
    return offsets


def mean_cost(truth, proba, cost_matrix, offsets=None):
    """Mean cost of the shared decision rule with ``offsets``."""
    decided = decide(proba, np.arange(proba.shape[1]), cost_matrix, offsets)
    return float(np.asarray(cost_matrix)[truth, decided].mean())


def tuned_offsets(truth, proba, folds, cost_matrix):
    """The offsets tuned on all rows, and the cross-validated mean costs of
    the tuned and of the default (no offsets) decisions.

    Parameters
    ----------
    truth : ndarray of shape (n_samples,)
        Column indices of the true classes.
    proba : ndarray of shape (n_samples, n_classes)
        Out-of-fold probabilities.
    folds : list of (train, test)
        One partition of the rows (the test parts).
    cost_matrix : ndarray of shape (n_classes, n_classes)

    Returns
    -------
    dict with ``offsets``, ``tuned`` (mean over the folds of the tuned
    decision's cost, each fold's offsets tuned on the other folds) and
    ``default`` (the same mean without offsets).
    """
    tuned = cross_validated(
        lambda rows: best_offsets(truth[rows], proba[rows], cost_matrix),
        lambda rows, b: mean_cost(truth[rows], proba[rows], cost_matrix, b), folds)
    default = cross_validated(
        lambda rows: None,
        lambda rows, b: mean_cost(truth[rows], proba[rows], cost_matrix), folds)
    return {"offsets": best_offsets(truth, proba, cost_matrix).tolist(),
            "tuned": tuned, "default": default, "metric": COST}


def offset_points(results, y_index, folds, cost_matrix):
    """``{name: point}`` for multiclass ``results`` (:func:`tuned_offsets`)."""
    return {result.name: tuned_offsets(y_index, result.oof_proba, folds, cost_matrix)
            for result in results}


def describe_offsets(name, point, classes):
    """One sentence on a candidate's tuned offsets."""
    shown = ", ".join(f"{c!s} {b:+.2f}" for c, b in zip(classes, point["offsets"]))
    return (
        f"Operating point of {name}: decide by minimum expected cost on the "
        f"probabilities adjusted by the class offsets ({shown}; softmax(log p + "
        f"offset)), tuned for {point['metric']}: {point['tuned']:.3f} cross-validated, "
        f"against {point['default']:.3f} with the default decision "
        f"({advice(point, 'them')})."
    )
