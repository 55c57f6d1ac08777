from pathlib import Path

import pytest
import torch


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
        for parent in Path(__file__).resolve().parents:
            candidate = parent / "shared" / "data" / f"{name}.csv.gz"
            if candidate.exists():
                return candidate
        pytest.skip(f"../shared/data/{name}.csv.gz is not available")
    return path
