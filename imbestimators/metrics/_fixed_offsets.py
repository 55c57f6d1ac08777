"""FixedOffsetsClassifier: the shared decision rule on probabilities whose
classes are shifted by fixed log-offsets."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..utils import check_cost_matrix
from ..utils._compat import HasMethods
from ..utils._persistence import checked_state, stamped_state
from ._decision import decide


def _estimator_has(name):
    return lambda self: hasattr(getattr(self, "estimator_", self.estimator), name)


class FixedOffsetsClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Decide on a classifier's probabilities shifted by fixed per-class offsets.

    ``predict`` takes the decision of :func:`imbestimators.metrics.decide` on
    the adjusted probabilities ``q = softmax(log(p) + offsets)``: the class of
    minimum expected cost ``argmin_j sum_i cost_matrix[i, j] q_i``, or the
    most probable one without a cost matrix. ``predict_proba`` returns the
    estimator's own, unadjusted probabilities. It is the multiclass
    counterpart of scikit-learn's ``FixedThresholdClassifier``: the offsets
    are not learned here (``imbestimators compare --tune-threshold`` tunes
    them on out-of-fold probabilities and saves the model with them).

    Parameters
    ----------
    estimator : classifier
        A classifier with ``fit`` and ``predict_proba``; a clone of it is
        fitted by :meth:`fit`.
    cost_matrix : array-like of shape (n_classes, n_classes), dict or None, \
            default=None
        ``C[i, j]`` is the cost of predicting ``classes_[j]`` when the truth is
        ``classes_[i]``, or a dict of dicts ``{true: {predicted: cost}}``
        (see :func:`imbestimators.utils.check_cost_matrix`). None: the most
        probable adjusted class.
    offsets : array-like of shape (n_classes,) or None, default=None
        Added to the log-probabilities of the classes, in the order of
        ``classes_``; only their differences matter. None: no offset.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The labels, as the fitted estimator orders them.
    cost_matrix_ : ndarray of shape (n_classes, n_classes) or None
        The validated cost matrix.
    offsets_ : ndarray of shape (n_classes,)
        The validated offsets (zeros when ``offsets`` is None).
    n_features_in_ : int
        Number of features seen by the estimator during fit (when it has it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of those features, when they were all strings.

    See Also
    --------
    imbestimators.metrics.decide : The decision rule.
    sklearn.model_selection.FixedThresholdClassifier : The binary threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from imbestimators.metrics import FixedOffsetsClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> model = FixedOffsetsClassifier(LogisticRegression(), offsets=[0.0, 0.0, 5.0])
    >>> model.fit(X, y).predict(X)  # class 2 made e^5 times likelier
    array([2, 2, 2, 2, 2, 2])
    >>> np.allclose(model.predict_proba(X), model.estimator_.predict_proba(X))
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "cost_matrix": [None, "array-like", dict],
        "offsets": [None, "array-like"],
    }

    def __init__(self, estimator, *, cost_matrix=None, offsets=None):
        self.estimator = estimator
        self.cost_matrix = cost_matrix
        self.offsets = offsets

    def fit(self, X, y, sample_weight=None):
        """Fit a clone of the estimator; check the costs and offsets against its classes.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Passed to the estimator unchanged.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the estimator's ``fit`` when given.

        Returns
        -------
        self : FixedOffsetsClassifier
            The fitted classifier.
        """
        self._validate_params()
        params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(self.estimator).fit(X, y, **params)
        self.classes_ = self.estimator_.classes_
        n_classes = len(self.classes_)
        self.cost_matrix_ = (None if self.cost_matrix is None
                             else check_cost_matrix(self.cost_matrix, self.classes_))
        if self.offsets is None:
            self.offsets_ = np.zeros(n_classes)
        else:
            try:
                self.offsets_ = np.asarray(self.offsets, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"offsets must be numbers; got {self.offsets!r}.") from exc
            if self.offsets_.shape != (n_classes,):
                raise ValueError(
                    f"offsets must have shape ({n_classes},), one per class of "
                    f"classes_ {self.classes_.tolist()!r}; got shape "
                    f"{self.offsets_.shape}."
                )
            if not np.all(np.isfinite(self.offsets_)):
                raise ValueError("offsets must be finite (no NaN or inf).")
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    def predict_proba(self, X):
        """The estimator's probabilities, without the offsets.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Passed to the estimator unchanged.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """The estimator's log-probabilities, without the offsets.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Passed to the estimator unchanged.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    def predict(self, X):
        """The decision on the probabilities adjusted by the offsets.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Passed to the estimator unchanged.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        return decide(self.predict_proba(X), self.classes_, self.cost_matrix_,
                      self.offsets_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator).input_tags
        tags.input_tags.sparse, tags.input_tags.allow_nan = inner.sparse, inner.allow_nan
        return tags

    def __getstate__(self):
        return stamped_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(checked_state(state, type(self).__name__))
