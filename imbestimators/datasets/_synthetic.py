"""A synthetic dense (segmentation-like) problem with rare foreground pixels."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from ..utils._compat import Interval, validate_params


@validate_params(
    {
        "n_images": [Interval(Integral, 1, None, closed="left")],
        "size": [Interval(Integral, 1, None, closed="left")],
        "n_squares": [Interval(Integral, 0, None, closed="left")],
        "square": [Interval(Integral, 1, None, closed="left")],
        "signal": [Interval(Real, None, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_rare_foreground(n_images=32, *, size=24, n_squares=2, square=3, signal=1.2,
                         random_state=None):
    """Faint squares in Gaussian noise: images whose foreground pixels are rare.

    Each image has ``n_squares`` squares of ``square`` × ``square`` foreground
    pixels at random places (they may overlap); a pixel's value is standard
    normal noise plus ``signal`` on the foreground. With the defaults about 3%
    of the pixels are foreground, and a network trained with plain
    cross-entropy predicts background everywhere.

    Parameters
    ----------
    n_images : int, default=32
    size : int, default=24
        Height and width of the images.
    n_squares : int, default=2
        Squares per image.
    square : int, default=3
        Side of a square, at most ``size``.
    signal : float, default=1.2
        Added to the foreground pixels (in units of the noise's standard
        deviation).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    X : ndarray of shape (n_images, 1, size, size), float32
        One channel per image, as convolutional networks take it.
    y : ndarray of shape (n_images, size, size), int64
        1 on foreground pixels, 0 elsewhere: the dense binary target of
        :mod:`imbestimators.losses`.

    Examples
    --------
    >>> from imbestimators.datasets import make_rare_foreground
    >>> X, y = make_rare_foreground(8, random_state=0)
    >>> X.shape, y.shape
    ((8, 1, 24, 24), (8, 24, 24))
    >>> bool(y.mean() < 0.05)
    True
    """
    if square > size:
        raise ValueError(f"square={square} must be at most size={size}.")
    rng = check_random_state(random_state)
    y = np.zeros((n_images, size, size), dtype=np.int64)
    corners = rng.randint(0, size - square + 1, size=(n_images, n_squares, 2))
    for image, image_corners in zip(y, corners):
        for row, col in image_corners:
            image[row:row + square, col:col + square] = 1
    X = rng.standard_normal((n_images, 1, size, size)).astype(np.float32)
    X += np.float32(signal) * y[:, None]
    return X, y
