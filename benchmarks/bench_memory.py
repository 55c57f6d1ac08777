"""Peak memory of NeuralClassifier on a large float32 X, relative to X's size.

Fits ``--rows`` × ``--features`` float32 rows (default 2 000 000 × 100, 763 MiB)
and prints, for fit and for predict_proba, the peak resident memory above the
level before the call, in MiB and as a multiple of the size of X. Tensors are
built from X without a copy and batches are sliced from them, so neither
number should grow with the number of epochs.

Run::

    python benchmarks/bench_memory.py                 # the full size
    python benchmarks/bench_memory.py --rows 200000   # a quick smoke run
"""

import argparse
import functools
import threading
import time

import numpy as np
import torch

from imbestimators import NeuralClassifier


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class PeakRSS:
    """Sample the resident set size every few milliseconds inside the block."""

    def __init__(self, interval=0.005):
        self.interval = interval

    def __enter__(self):
        self.start = _rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.features), dtype=np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 1.5).astype(np.int64)
    x_mib = X.nbytes / 2**20
    print(f"X: {args.rows} × {args.features} float32 = {x_mib:.0f} MiB; "
          f"torch threads: {torch.get_num_threads()}; device: {args.device}")
    print(f"{'epochs':>6} {'phase':>8} {'seconds':>8} {'peak MiB above start':>21} "
          f"{'× size of X':>12}")
    for epochs in args.epochs:
        clf = NeuralClassifier(hidden_layer_sizes=(64,), max_epochs=epochs,
                               batch_size=args.batch_size, device=args.device,
                               random_state=0)
        for phase, call in (("fit", functools.partial(clf.fit, X, y)),
                            ("predict", functools.partial(clf.predict_proba, X))):
            tic = time.perf_counter()
            with PeakRSS() as rss:
                call()
            extra = (rss.peak - rss.start) / 2**20
            print(f"{epochs:>6} {phase:>8} {time.perf_counter() - tic:>8.1f} "
                  f"{extra:>21.0f} {extra / x_mib:>12.2f}")
        del clf


if __name__ == "__main__":
    main()
