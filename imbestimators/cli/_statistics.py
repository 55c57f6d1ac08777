"""Which differences on the leaderboard are real: a paired test over the folds."""

import numpy as np
from scipy import stats

ALPHA = 0.05  # a candidate is "tied with the best" when p >= ALPHA


def corrected_ttest(differences, test_train_ratio):
    """Two-sided p-value of the Nadeau-Bengio corrected resampled t-test
    (:func:`corrected_t` gives the statistic too).

    The folds of cross-validation share training rows, so their score
    differences are correlated and the plain paired t-test is too confident.
    Nadeau and Bengio (2003, *Inference for the Generalization Error*) widen
    the variance of the mean difference from ``s² / J`` to
    ``(1 / J + n_test / n_train) s²`` over ``J`` folds, with ``J - 1``
    degrees of freedom.

    Parameters
    ----------
    differences : array-like of shape (n_folds,)
        Per-fold score differences of two candidates, paired by fold.
    test_train_ratio : float
        ``n_test / n_train`` of one fold: ``1 / (k - 1)`` for k-fold CV.

    Returns
    -------
    p_value : float
        1.0 when every difference is 0; 0.0 when they are all equal and
        nonzero (no spread: the difference is certain).

    Examples
    --------
    >>> round(corrected_ttest([0.02, 0.01, 0.03, 0.02, 0.02], 1 / 4), 4)
    0.0135
    """
    return corrected_t(differences, test_train_ratio)[1]


def corrected_t(differences, test_train_ratio):
    """``(t, p)`` of the corrected resampled t-test (see :func:`corrected_ttest`).

    ``t`` is the mean difference over its corrected standard error: ``|t| <= 1``
    is the one-standard-error rule. With no spread, ``t`` is 0 (all
    differences 0) or infinite.

    Examples
    --------
    >>> t, p = corrected_t([0.02, 0.01, 0.03, 0.02, 0.02], 1 / 4)
    >>> round(t, 3), round(p, 4)
    (4.216, 0.0135)
    """
    d = np.asarray(differences, dtype=float)
    mean, var = d.mean(), d.var(ddof=1)
    if var == 0:
        return (0.0, 1.0) if mean == 0 else (float(np.sign(mean) * np.inf), 0.0)
    t = mean / np.sqrt((1 / len(d) + test_train_ratio) * var)
    return float(t), float(2 * stats.t.sf(abs(t), df=len(d) - 1))


def compare_with_best(fold_scores, cv):
    """``(t, p)`` of every candidate against the first (the best).

    ``fold_scores`` is one array of per-fold scores per candidate, best first,
    paired by fold; returns ``[(None, None), (t_2, p_2), ...]``.
    """
    best = np.asarray(fold_scores[0], dtype=float)
    return [(None, None)] + [
        corrected_t(best - np.asarray(scores, dtype=float), 1 / (cv - 1))
        for scores in fold_scores[1:]
    ]
