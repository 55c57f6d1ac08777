"""Speed of NeuralClassifier against a hand-written PyTorch loop (issue 6).

Every comparison runs in this one process, side by side: each repeat runs the
baseline and NeuralClassifier back to back (alternating which goes first), so
both see the same machine load. The table gives the median time of each side
and the median of the per-repeat ratios.

Fairness: both sides train the same module (``imbestimators.neural.MLP``
64→256→256→1: a binary problem has one logit, trained with the
binary cross-entropy on that logit), the same Adam (lr 1e-3), the same batches
(a fresh ``torch.randperm`` per epoch, rows gathered with ``index_select``
from tensors built once), the same epochs and thread count; NeuralClassifier
runs with ``standardize=False, piecewise_bins=None, dropout=0.0``: the same
network as the loop's, with no extra work on the inputs.

Peak memory is the largest resident-set size (RSS) sampled every 2 ms by a
thread, minus the RSS just before the call, measured in a fresh process.

Run ``python benchmarks/bench_speed.py`` (about 5 minutes on 2 cores) or
``--quick`` for a smoke run on small sizes.
"""

import argparse
import multiprocessing
import statistics
import threading
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from imbestimators import NeuralClassifier
from imbestimators.neural import MLP

FULL = dict(n=100_000, d=64, hidden=(256, 256), n_predict=1_000_000, batch=256, epochs=3)
QUICK = dict(n=4_000, d=16, hidden=(32, 32), n_predict=50_000, batch=256, epochs=3)
CUDA = dict(n=1_000_000, d=128, hidden=(1024, 1024), n_predict=1_000_000, batch=1024,
            epochs=3)


def make_data(n, d, seed=0):
    """A binary problem with 10% positives and signal in a few columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    score = X[:, :4].sum(axis=1) + rng.standard_normal(n, dtype=np.float32)
    y = (score > np.quantile(score, 0.9)).astype(np.int64)
    return X, y


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------- baselines

def plain_fit(X, y, cfg, device, train_rows=None, valid_rows=None, fused=None):
    """The hand-written loop: pre-built tensors, a permutation, index_select."""
    torch.manual_seed(0)
    module = MLP(X.shape[1], 1, cfg["hidden"]).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=fused)
    X_t = torch.from_numpy(X).to(device)
    y_t = torch.from_numpy(y).to(device=device, dtype=torch.float32)
    if train_rows is not None:
        X_valid = X_t[torch.as_tensor(valid_rows, device=device)]
        train = torch.as_tensor(train_rows, device=device)
        X_t, y_t = X_t[train], y_t[train]
    generator = torch.Generator(device=device).manual_seed(0)
    n = X_t.shape[0]
    for _ in range(cfg["epochs"]):
        module.train()
        order = torch.randperm(n, generator=generator, device=device)
        for idx in order.split(cfg["batch"]):
            optimizer.zero_grad(set_to_none=True)
            logits = module(X_t.index_select(0, idx)).squeeze(1)
            loss = F.binary_cross_entropy_with_logits(logits, y_t.index_select(0, idx))
            loss.backward()
            optimizer.step()
        if train_rows is not None:
            module.eval()
            with torch.inference_mode():
                module(X_valid)
    _sync(device)
    return module


def plain_predict(module, X, block, device):
    """The raw module forward over the same blocks as ``predict_proba``."""
    module.eval()
    with torch.inference_mode():
        X_t = torch.from_numpy(X).to(device)
        out = torch.cat([module(Xb) for Xb in X_t.split(block)])
        return out.cpu()


def ours(cfg, device, **params):
    return NeuralClassifier(
        hidden_layer_sizes=cfg["hidden"], standardize=False, piecewise_bins=None,
        dropout=0.0, batch_size=cfg["batch"],
        max_epochs=cfg["epochs"], learning_rate=1e-3, random_state=0, device=device,
        **params,
    )


def sklearn_mlp(cfg):
    return MLPClassifier(
        hidden_layer_sizes=cfg["hidden"], solver="adam", learning_rate_init=1e-3,
        batch_size=cfg["batch"], max_iter=cfg["epochs"], alpha=0.0, shuffle=True,
        random_state=0,
    )


# ---------------------------------------------------------------- timing

def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(baseline, candidate, repeats):
    """Paired timings; returns (baseline times, candidate times, paired ratios)."""
    base, cand = [], []
    for r in range(repeats):
        if r % 2:
            cand.append(timed(candidate))
            base.append(timed(baseline))
        else:
            base.append(timed(baseline))
            cand.append(timed(candidate))
    return base, cand, [c / b for b, c in zip(base, cand)]


def comparisons(cfg, device, repeats):
    """The rows of the table: (name, baseline name, timings, target, kind)."""
    X, y = make_data(cfg["n"], cfg["d"])
    X_big, _ = make_data(cfg["n_predict"], cfg["d"], seed=1)
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.1, random_state=0)
    rows = []

    # Warm-up: first calls pay for lazy initialisation on both sides.
    plain_fit(X[:2048], y[:2048], dict(cfg, epochs=1), device)
    ours(dict(cfg, epochs=1), device).fit(X[:2048], y[:2048])

    rows.append(("fit", "plain loop", compare(
        lambda: plain_fit(X, y, cfg, device),
        lambda: ours(cfg, device).fit(X, y),
        repeats,
    ), "<= 1.10x"))
    # NeuralClassifier uses torch's fused Adam; the same loop with it too shows
    # the wrapper's own overhead.
    rows.append(("fit", "plain loop, fused Adam", compare(
        lambda: plain_fit(X, y, cfg, device, fused=True),
        lambda: ours(cfg, device).fit(X, y),
        repeats,
    ), "<= 1.10x"))

    # The default network at the same widths: the 8-bin piecewise-linear
    # encoding (a first layer over 8x the inputs), standardisation, dropout.
    rows.append(("fit, default network", "plain loop, fused Adam", compare(
        lambda: plain_fit(X, y, cfg, device, fused=True),
        lambda: NeuralClassifier(hidden_layer_sizes=cfg["hidden"], batch_size=cfg["batch"],
                                 max_epochs=cfg["epochs"], random_state=0,
                                 device=device).fit(X, y),
        repeats,
    ), "<= 1.30x"))
    # What the feature gates (one factor per feature on the first layer's
    # weights) cost in it: the same network with and without them.
    rows.append(("fit, default network", "the same, feature_gates=False", compare(
        lambda: NeuralClassifier(hidden_layer_sizes=cfg["hidden"], batch_size=cfg["batch"],
                                 max_epochs=cfg["epochs"], random_state=0,
                                 feature_gates=False, device=device).fit(X, y),
        lambda: NeuralClassifier(hidden_layer_sizes=cfg["hidden"], batch_size=cfg["batch"],
                                 max_epochs=cfg["epochs"], random_state=0,
                                 device=device).fit(X, y),
        repeats,
    ), "-"))

    def plain_es():
        train, valid = next(split.split(np.zeros(len(y)), y))
        plain_fit(X, y, cfg, device, np.sort(train), np.sort(valid))

    rows.append(("fit, early stopping (AP)", "plain loop + valid forward", compare(
        plain_es,
        lambda: ours(cfg, device, early_stopping=True, validation_fraction=0.1,
                     scoring="average_precision").fit(X, y),
        repeats,
    ), "<= 1.25x"))

    clf = ours(cfg, device).fit(X, y)
    block = 16384 if device.type == "cuda" else 1024
    rows.append((f"predict_proba {len(X_big):,} rows", "module forward", compare(
        lambda: plain_predict(clf.net_.module_, X_big, block, device),
        lambda: clf.predict_proba(X_big),
        repeats,
    ), "<= 1.10x"))

    if device.type == "cpu":
        def fit_mlp():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                sklearn_mlp(cfg).fit(X, y)

        rows.append(("fit vs MLPClassifier", "sklearn MLPClassifier", compare(
            fit_mlp, lambda: ours(cfg, device).fit(X, y), repeats,
        ), ">= 2x faster"))
    return rows


def median_time(fn, repeats, warmup=50):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def product_speeds(cfg, repeats=2000):
    """Median seconds of one hidden-layer float32 product in torch and in NumPy.

    ``MLPClassifier`` keeps float32 input in float32 and runs its products
    through NumPy's BLAS: this shows whether either side has faster products.
    """
    n, h = cfg["batch"], cfg["hidden"][0]
    a, w = torch.randn(n, h), torch.randn(h, h)
    a_np, w_np = a.numpy(), w.numpy()
    return median_time(lambda: a @ w, repeats), median_time(lambda: a_np @ w_np, repeats)


# ---------------------------------------------------------------- memory

def _rss():
    import psutil

    return psutil.Process().memory_info().rss


def peak_growth(fn):
    """Largest RSS during ``fn()`` minus the RSS just before, sampled every 2 ms."""
    before = peak = _rss()
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return max(peak, _rss()) - before


def _memory_probe(cfg, threads, queue):
    torch.set_num_threads(threads)
    X, y = make_data(cfg["n"], cfg["d"])
    X_big, _ = make_data(cfg["n_predict"], cfg["d"], seed=1)
    clf = ours(cfg, "cpu")
    # A first small fit pays the one-time costs (lazy imports, allocator and
    # thread-pool set-up), which do not grow with the data.
    clone(clf).set_params(max_epochs=1).fit(X[:1000], y[:1000])
    fit = peak_growth(lambda: clf.fit(X, y))
    predict = peak_growth(lambda: clf.predict_proba(X_big))
    queue.put((fit / X.nbytes, X.nbytes, predict / X_big.nbytes, X_big.nbytes))


def memory(cfg, threads):
    """Peak RSS growth / X.nbytes for fit and predict, in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_probe, args=(cfg, threads, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


# ---------------------------------------------------------------- report

def print_table(title, rows):
    print(f"\n{title}")
    head = (f"{'comparison':<28} {'baseline':<28} {'baseline s':>10} {'ours s':>8} "
            f"{'ratio':>6}  {'target':<13} met")
    print(head)
    print("-" * len(head))
    for name, base_name, (base, cand, ratios), target in rows:
        ratio = statistics.median(ratios)
        if target == "-":  # a measurement, not a target
            met = "-"
        elif target.startswith(">="):
            # "x faster": the baseline's time over ours.
            ratio = statistics.median(b / c for b, c in zip(base, cand))
            met = "yes" if ratio >= float(target[3:].split("x")[0]) else "NO"
        else:
            met = "yes" if ratio <= float(target[3:].rstrip("x")) else "NO"
        print(f"{name:<28} {base_name:<28} {statistics.median(base):>10.3f} "
              f"{statistics.median(cand):>8.3f} {ratio:>5.2f}x  {target:<13} {met}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.repeats} repeats, "
          f"n={cfg['n']:,} x {cfg['d']}, hidden={cfg['hidden']}, batch={cfg['batch']}, "
          f"epochs={cfg['epochs']}")
    with threadpool_limits(args.threads):
        rows = comparisons(cfg, torch.device("cpu"), args.repeats)
    print_table("CPU (ratio = ours / baseline, median of paired runs)", rows)

    with threadpool_limits(args.threads):
        t_torch, t_numpy = product_speeds(cfg)
    print(f"\ncontext: one {cfg['batch']}x{cfg['hidden'][0]}x{cfg['hidden'][0]} float32 "
          f"product takes {t_torch * 1e6:.0f} us in torch and {t_numpy * 1e6:.0f} us in "
          f"NumPy (MLPClassifier's BLAS): {t_numpy / t_torch:.2f}x; "
          "benchmarks/bench_speed_limits.py shows what bounds the MLPClassifier ratio")

    fit_mem, fit_bytes, pred_mem, pred_bytes = memory(cfg, args.threads)
    print(f"\npeak RSS growth: fit {fit_mem:.2f}x X ({fit_bytes / 2**20:.0f} MiB), "
          f"predict_proba {pred_mem:.2f}x X ({pred_bytes / 2**20:.0f} MiB); "
          "target <= 2x")

    if torch.cuda.is_available():
        gpu = CUDA if not args.quick else QUICK
        rows = comparisons(gpu, torch.device("cuda"), args.repeats)
        print_table(f"CUDA ({torch.cuda.get_device_name()}), n={gpu['n']:,} x {gpu['d']}, "
                    f"hidden={gpu['hidden']}, batch={gpu['batch']}", rows)
    else:
        print("\nCUDA: pending (no CUDA device on this machine)")


if __name__ == "__main__":
    main()
