import numpy as np
import pytest
import torch

from imbestimators.utils import check_class_weight, check_cost_matrix, check_device


def test_balanced_class_weight_is_scikit_learn_formula():
    y = np.array([0] * 90 + [1] * 10)
    weights = check_class_weight("balanced", np.array(["neg", "pos"]), y)
    np.testing.assert_allclose(weights, [100 / (2 * 90), 100 / (2 * 10)])


def test_dict_class_weight_accepts_numpy_labels_and_defaults_to_one():
    classes = np.array([3, 7, 9])
    weights = check_class_weight({np.int64(7): 2.5}, classes, np.array([0, 1, 2]))
    np.testing.assert_array_equal(weights, [1.0, 2.5, 1.0])


@pytest.mark.parametrize("bad, match", [({"x": 1.0}, "keys \\['x'\\]"),
                                        ({"a": -1.0}, "non-negative"),
                                        ({"a": np.nan}, "finite"),
                                        ([1.0, 2.0], "dict")])
def test_bad_class_weight(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_class_weight(bad, np.array(["a", "b"]), np.array([0, 1]))


def test_cost_matrix_from_dict_of_dicts():
    matrix = check_cost_matrix({"spam": {"ham": 5}, "ham": {"spam": 1}},
                               classes=np.array(["ham", "spam"]))
    np.testing.assert_array_equal(matrix, [[0, 1], [5, 0]])


@pytest.mark.parametrize("bad, match", [({"eggs": {"ham": 1}}, "row for 'eggs'"),
                                        ({"ham": {"eggs": 1}}, "column for 'eggs'"),
                                        ([[0, 1]], "shape \\(2, 2\\)"),
                                        ("abc", "cost_matrix")])
def test_bad_cost_matrix(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_cost_matrix(bad, classes=np.array(["ham", "spam"]))


def test_check_device():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert check_device("auto").type == expected
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(TypeError, match="device must be"):
        check_device(0.5)
    with pytest.raises(ValueError, match="not a valid torch device"):
        check_device("nonsense")
