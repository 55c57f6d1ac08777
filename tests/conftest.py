import os
from pathlib import Path

import pytest
import torch

from imbestimators.datasets import get_data_home

# The project's collection beside the checkout, for the few tests on real
# data (they skip without it); the package itself never looks for it.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if _SHARED.is_dir():
    os.environ.setdefault("IMBESTIMATORS_DATA", str(_SHARED))


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # Tiny networks train faster on one thread, and two test processes do not
    # fight over the 2 CI cores.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def shared_dataset():
    """``shared_dataset(name)``: the path of ``../shared/data/<name>.csv.gz``.

    The real datasets sit beside the checkout, not in the package; a test that
    needs one is skipped where they are absent.
    """
    def path(name):
        home = get_data_home()
        candidate = None if home is None else home / f"{name}.csv.gz"
        if candidate is None or not candidate.exists():
            pytest.skip(f"../shared/data/{name}.csv.gz is not available")
        return candidate
    return path
