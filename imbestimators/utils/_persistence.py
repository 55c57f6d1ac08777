"""Version stamps in pickles, shared by the estimators."""

from .._version import __version__

_KEY = "_imbestimators_version"


def stamped_state(state):
    """A copy of ``state`` (``__getstate__``'s dict) with the installed version.

    A copy, because ``object.__getstate__`` may return the instance's own
    ``__dict__``, which must not gain the key.
    """
    state = dict(state)
    state[_KEY] = __version__
    return state


def checked_state(state, name):
    """A copy of ``state`` without its version stamp, refused across major versions.

    Raises ``ValueError`` naming the estimator ``name`` and both versions.
    Pickles made before stamps existed (no key) load.
    """
    state = dict(state)
    saved = state.pop(_KEY, None)
    if saved is not None and saved.split(".")[0] != __version__.split(".")[0]:
        raise ValueError(
            f"This {name} was saved by imbestimators {saved}, whose major version "
            f"differs from the installed {__version__}; load it with imbestimators "
            f"{saved.split('.')[0]}.x or fit it again."
        )
    return state
