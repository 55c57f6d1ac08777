"""Loss names, and turning a user's ``loss=`` into a catalogue loss."""

import inspect

from torch import nn

from ._base import BaseLoss
from ._cost import ExpectedCostLoss
from ._cross_entropy import CrossEntropyLoss, WeightedBCELoss
from ._focal import AsymmetricLoss, ClassBalancedLoss, FocalLoss, PolyLoss
from ._margin import LDAMLoss, LogitAdjustedLoss
from ._overlap import (
    DiceLoss,
    JaccardLoss,
    LovaszHingeLoss,
    MCCLoss,
    SoftFBetaLoss,
    TverskyLoss,
)
from ._ranking import PairwiseAUCLoss
from ._torch_criterion import TorchCriterionLoss

# One entry per string name; add new losses of the catalogue here.
_LOSSES = {
    "cross_entropy": CrossEntropyLoss,
    "weighted_bce": WeightedBCELoss,
    "focal": FocalLoss,
    "class_balanced": ClassBalancedLoss,
    "asymmetric": AsymmetricLoss,
    "poly": PolyLoss,
    "ldam": LDAMLoss,
    "logit_adjusted": LogitAdjustedLoss,
    # The balanced softmax (Ren et al. 2020) is logit adjustment with tau = 1,
    # LogitAdjustedLoss's default.
    "balanced_softmax": LogitAdjustedLoss,
    "fbeta": SoftFBetaLoss,
    "dice": DiceLoss,
    "tversky": TverskyLoss,
    "jaccard": JaccardLoss,
    "lovasz_hinge": LovaszHingeLoss,
    "mcc": MCCLoss,
    "auc": PairwiseAUCLoss,
    "expected_cost": ExpectedCostLoss,
}


def available_losses():
    """Names accepted by :func:`get_loss` and ``NeuralClassifier(loss=...)``.

    Returns
    -------
    names : list of str
        Sorted loss names.

    Examples
    --------
    >>> from imbestimators.losses import available_losses
    >>> "cross_entropy" in available_losses()
    True
    """
    return sorted(_LOSSES)


def get_loss(name, **params):
    """Build the loss registered under ``name`` with ``params``.

    Parameters
    ----------
    name : str
        One of :func:`available_losses`.
    **params : dict
        Constructor arguments of that loss.

    Returns
    -------
    loss : BaseLoss

    Examples
    --------
    >>> from imbestimators.losses import get_loss
    >>> get_loss("cross_entropy", label_smoothing=0.1)
    CrossEntropyLoss(label_smoothing=0.1)
    """
    if not isinstance(name, str) or name not in _LOSSES:
        raise ValueError(
            f"Unknown loss {name!r}; valid names are {available_losses()}."
        )
    return _LOSSES[name](**params)


def check_loss(loss):
    """Turn the ``loss`` parameter of an estimator into a :class:`BaseLoss`.

    Parameters
    ----------
    loss : str, BaseLoss, torch.nn.Module instance or class
        A name from :func:`available_losses`, a loss of the catalogue, or a
        PyTorch criterion such as ``torch.nn.BCEWithLogitsLoss()`` (a class is
        instantiated without arguments).

    Returns
    -------
    loss : BaseLoss
        The user's object itself when it already is a catalogue loss (callers
        must copy it before changing it).

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import check_loss
    >>> check_loss("cross_entropy")
    CrossEntropyLoss()
    >>> check_loss(torch.nn.CrossEntropyLoss).n_outputs(2)
    2
    """
    if isinstance(loss, str):
        return get_loss(loss)
    if isinstance(loss, BaseLoss):
        return loss
    if inspect.isclass(loss) and issubclass(loss, nn.Module):
        loss = loss()
        if isinstance(loss, BaseLoss):
            return loss
    if isinstance(loss, nn.Module):
        return TorchCriterionLoss(loss)
    raise TypeError(
        "loss must be a loss name (one of "
        f"{available_losses()}), an imbestimators loss object, or a torch.nn "
        f"criterion; got {type(loss).__name__}."
    )
