"""Item 6: running out of memory gives a MemoryError that says what to lower
(simulated: the allocation failures are raised by monkeypatched functions)."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from imbestimators import NeuralClassifier
from imbestimators.neural import _classifier, _net

SMALL = dict(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
CUDA_OOM = "CUDA out of memory. Tried to allocate 20.00 GiB"


def _fail(exc):
    def raiser(*args, **kwargs):
        raise exc
    return raiser


class _FailInBatch(Callback):
    def __init__(self, exc):
        self.exc = exc

    def on_batch_begin(self, net, **kwargs):
        raise self.exc


@pytest.mark.parametrize("exc", [
    torch.cuda.OutOfMemoryError(CUDA_OOM),
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't "
                 "allocate memory: you tried to allocate 8000000000 bytes."),
    MemoryError("Unable to allocate 7.45 GiB for an array"),
], ids=["cuda", "torch_cpu", "numpy"])
def test_out_of_memory_when_moving_data(binary_data, monkeypatch, exc):
    X, y = binary_data
    monkeypatch.setattr(_classifier, "as_tensor", _fail(exc))
    with pytest.raises(MemoryError) as info:
        NeuralClassifier(**SMALL).fit(X, y)
    message = str(info.value)
    for advice in ("batch_size", "device='cpu'", "float32", "200 × 4"):
        assert advice in message
    assert info.value.__cause__ is exc


def test_out_of_memory_during_training(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(callbacks=[_FailInBatch(torch.cuda.OutOfMemoryError(CUDA_OOM))],
                           batch_size=32, **SMALL)
    with pytest.raises(MemoryError, match=r"to fit.*batch_size \(now 32\)"):
        clf.fit(X, y)
    with pytest.raises(MemoryError, match="to fit"):
        clf.set_params(warm_start=True).partial_fit(X, y)


def test_out_of_memory_when_predicting(binary_data, monkeypatch):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL).fit(X.astype(np.float32), y)
    monkeypatch.setattr(_net, "_padded_forward",
                        _fail(torch.cuda.OutOfMemoryError(CUDA_OOM)))
    with pytest.raises(MemoryError, match="to predict") as info:
        clf.predict_proba(X.astype(np.float32))
    assert "pass X as float32" not in str(info.value)  # it already is


def test_other_runtime_errors_pass_through(binary_data):
    X, y = binary_data
    error = RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        NeuralClassifier(callbacks=[_FailInBatch(error)], **SMALL).fit(X, y)
