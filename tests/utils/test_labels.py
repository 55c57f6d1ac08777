import numpy as np
import pytest

from imbestimators.utils._labels import label_positions


@pytest.mark.parametrize("labels", [["b", "a", "c"], [2, 0, 1]])
def test_positions_in_any_order(labels):
    labels = np.asarray(labels)
    y = labels[[2, 0, 0, 1]]
    # Written from the definition: the index i with labels[i] == value.
    expected = [[i for i, label in enumerate(labels) if label == value][0] for value in y]
    np.testing.assert_array_equal(label_positions(y, labels), expected)


def test_unknown_labels_are_named():
    with pytest.raises(ValueError, match=r"y_pred contains labels \[9\] that are not in "
                                         r"classes_ \[0, 1\]"):
        label_positions([0, 9, 1], np.array([0, 1]), name="y_pred", labels_name="classes_")
