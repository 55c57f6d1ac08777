"""Where each label of ``y`` sits among known labels: the one place labels
become column indices."""

import numpy as np


def label_positions(y, labels, *, name="y", labels_name="labels"):
    """Positions of the values of ``y`` in ``labels`` (any order, any dtype).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels to look up.
    labels : ndarray of shape (n_labels,)
        Known labels, each once, in any order (``classes_`` is sorted; a
        user's ``labels=`` need not be).
    name, labels_name : str
        How the error message names ``y`` and ``labels``.

    Returns
    -------
    positions : ndarray of int of shape (n_samples,)
        ``labels[positions] == y``.

    Raises
    ------
    ValueError
        If ``y`` holds a label that is not in ``labels``; the message lists them.
    """
    y, labels = np.asarray(y), np.asarray(labels)
    sorter = np.argsort(labels, kind="stable")
    index = np.clip(np.searchsorted(labels, y, sorter=sorter), 0, len(labels) - 1)
    positions = sorter[index]
    unknown = labels[positions] != y
    if np.any(unknown):
        raise ValueError(
            f"{name} contains labels {np.unique(y[unknown]).tolist()!r} that are not "
            f"in {labels_name} {labels.tolist()!r}."
        )
    return positions
