"""Choosing and checking the torch device."""


def check_device(device):
    """Resolve ``device`` to an available ``torch.device``.

    Parameters
    ----------
    device : str or torch.device
        ``'auto'`` picks CUDA when available and the CPU otherwise; any other
        value is parsed by ``torch.device`` and must be available here.

    Returns
    -------
    device : torch.device

    Examples
    --------
    >>> from imbestimators.utils import check_device
    >>> check_device("cpu")
    device(type='cpu')
    """
    import torch  # here, so that importing the utilities does not load torch

    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            "device must be 'auto', a torch device string such as 'cpu' or "
            f"'cuda:0', or a torch.device; got {type(device).__name__}."
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu' or device='auto'."
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are available."
            )
    elif resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available here."
            )
    elif resolved.type != "cpu":
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'mps'."
        )
    return resolved
