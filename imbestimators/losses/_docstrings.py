"""Docstring pieces shared by the losses, written once.

A loss's docstring names a piece as ``{{name}}`` on a line of its own, in the
indentation of a parameter; :class:`BaseLoss` puts the text in place when the
subclass is defined.
"""

PIECES = {
    "class_weight": """class_weight : array-like of shape (n_classes,), default=None
        One weight per class: sample ``i`` weighs ``class_weight[y_i]`` in the
        weighted mean. Filled in by ``NeuralClassifier(class_weight=...)``.""",
    "count_class_weight": """class_weight : array-like of shape (n_classes,), default=None
        Weight of the samples of each class in the soft counts.""",
    "reduction": """reduction : {'mean', 'sum', 'none'}, default='mean'
        ``'mean'`` is the weighted mean :math:`\\sum_i w_i l_i / \\sum_i w_i`,
        ``'sum'`` the weighted sum :math:`\\sum_i w_i l_i`, ``'none'`` the
        per-sample losses.""",
}


def fill(doc):
    """``doc`` with every ``{{name}}`` of :data:`PIECES` replaced by its text."""
    if doc:
        for name, text in PIECES.items():
            doc = doc.replace("{{%s}}" % name, text)
    return doc
