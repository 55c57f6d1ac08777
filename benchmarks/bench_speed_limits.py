"""How fast can a PyTorch MLP fit get on this CPU? The bound behind issue 6's 4th target.

Target 4 asks for ``NeuralClassifier.fit`` to be at least 2x faster than
scikit-learn's ``MLPClassifier`` at equal architecture and epochs. Both run
the same float32 matrix products (``MLPClassifier`` keeps float32 input in
float32, through NumPy's BLAS), so the question is how much of a fit is
*not* matrix products, and whether any PyTorch-level change removes it.

On ``bench_speed.py``'s workload (100 000 x 64 float32 rows, MLP 64->256->256->1,
Adam, batches of 256, 3 epochs, 2 threads) this script times, in one process
and in rotating order each repeat:

* ``plain loop``: the hand-written loop of ``bench_speed.py`` with torch's
  fused Adam, the baseline of targets 1-3;
* ``hand-written backward``: the same loop whose MLP forward and backward are
  one ``torch.autograd.Function`` (``addmm`` + in-place ReLU forward, the
  backward written out), so autograd records one node per step instead of
  one per layer; its gradients are checked against autograd's first;
* ``Adam kernel called directly``: the plain loop whose optimiser step is
  torch's private fused Adam kernel called on kept lists, without
  ``torch.optim``'s per-step Python (its weights are checked against
  ``torch.optim.Adam``'s first);
* ``no optimiser step``: the plain loop without ``optimizer.step()``, which
  gives Adam's share;
* ``matrix products only``: the eight products of one step (3 forward,
  3 weight gradients, 2 input gradients) at their shapes, and nothing else,
  for every step: the floor of any implementation that runs them at this
  BLAS's speed;
* ``torch.compile`` (with ``--compile``): the loop with its forward, loss
  and backward under ``torch.compile``, timed after compilation, with the
  compilation time printed apart;
* ``MLPClassifier``.

Ratios are medians of the ratios within each repeat. The last column is
``MLPClassifier``'s time over the row's: the speed-up over
it that the row's approach would give at best. Context lines compare one
256x256x256 product in torch float32 (MKL), in NumPy float32
(``MLPClassifier``'s BLAS) and in torch under bfloat16 autocast; another
compares the first layer on the default 8-bin piecewise-linear encoding as a
dense product with the same layer as gathered prefix sums (issue 14).

Run ``python benchmarks/bench_speed_limits.py`` (about 2 minutes on 2 cores
with the default 5 repeats, 4 with ``--repeats 9 --compile``) or ``--quick``
for a smoke run.
"""

import argparse
import statistics
import time
import warnings

import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from bench_speed import (
    FULL, QUICK, make_data, median_time, plain_fit, product_speeds, sklearn_mlp,
)
from imbestimators.neural import MLP


class _ReLUMLPFunction(torch.autograd.Function):
    """A ReLU MLP's forward and backward as one autograd node."""

    @staticmethod
    def forward(ctx, X, *params):
        weights, biases = params[0::2], params[1::2]
        inputs, h = [X], X
        for i, (W, b) in enumerate(zip(weights, biases)):
            h = torch.addmm(b, h, W.t())
            if i < len(weights) - 1:
                h = h.relu_()
                inputs.append(h)
        ctx.save_for_backward(*inputs, *weights)
        return h

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        n_layers = len(saved) // 2
        inputs, weights = saved[:n_layers], saved[n_layers:]
        grads = [None] * (2 * n_layers)
        for i in range(n_layers - 1, -1, -1):
            grads[2 * i] = grad.t() @ inputs[i]
            grads[2 * i + 1] = grad.sum(0)
            if i > 0:
                # The ReLU's derivative, from its output.
                grad = (grad @ weights[i]).mul_(inputs[i] > 0)
        return (None, *grads)


def hand_written_forward(module):
    params = [p for layer in module.layers if isinstance(layer, torch.nn.Linear)
              for p in (layer.weight, layer.bias)]
    return lambda X: _ReLUMLPFunction.apply(X, *params)


def check_hand_written_backward(d, hidden):
    """The hand-written gradients equal autograd's (else the row means nothing)."""
    torch.manual_seed(0)
    module = MLP(d, 1, hidden)
    X, y = torch.randn(64, d), (torch.rand(64) < 0.3).float()
    grads = []
    for forward in (module, hand_written_forward(module)):
        module.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(forward(X).squeeze(1), y).backward()
        grads.append([p.grad.clone() for p in module.parameters()])
    for ours, reference in zip(*grads):
        torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)


class DirectAdam:
    """``torch.optim.Adam(fused=True)``'s update, calling its kernel directly."""

    def __init__(self, params, lr=1e-3):
        self.params, self.lr = list(params), lr
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = [torch.zeros(()) for _ in self.params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        torch._foreach_add_(self.steps, 1)
        torch._fused_adam_(
            self.params, [p.grad for p in self.params], self.exp_avg, self.exp_avg_sq,
            [], self.steps, amsgrad=False, lr=self.lr, beta1=0.9, beta2=0.999,
            weight_decay=0.0, eps=1e-8, maximize=False,
        )


def check_direct_adam(d, hidden):
    """Ten steps of DirectAdam give torch.optim.Adam's weights."""
    X, y = torch.randn(64, d), (torch.rand(64) < 0.3).float()
    weights = []
    for make in (lambda p: torch.optim.Adam(p, lr=1e-3, fused=True), DirectAdam):
        torch.manual_seed(0)
        module = MLP(d, 1, hidden)
        optimizer = make(module.parameters())
        for _ in range(10):
            optimizer.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(module(X).squeeze(1), y).backward()
            optimizer.step()
        weights.append(list(module.parameters()))
    for ours, reference in zip(*weights):
        torch.testing.assert_close(ours, reference, rtol=0, atol=0)


def loop(X, y, cfg, forward="autograd", step=True, compiled=None, adam="torch.optim"):
    """The plain loop of ``bench_speed.plain_fit`` with one part changed."""
    torch.manual_seed(0)
    module = MLP(X.shape[1], 1, cfg["hidden"])
    if adam == "direct":
        optimizer = DirectAdam(module.parameters())
    else:
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y).float()
    net = hand_written_forward(module) if forward == "hand-written" else module

    def loss_backward(Xb, yb):
        loss = F.binary_cross_entropy_with_logits(net(Xb).squeeze(1), yb)
        loss.backward()
        return loss

    loss_backward = compiled(loss_backward) if compiled else loss_backward
    generator = torch.Generator().manual_seed(0)
    for _ in range(cfg["epochs"]):
        for idx in torch.randperm(len(X_t), generator=generator).split(cfg["batch"]):
            optimizer.zero_grad(set_to_none=True)
            loss_backward(X_t.index_select(0, idx), y_t.index_select(0, idx))
            if step:
                optimizer.step()


def products_only(X, cfg):
    """The matrix products of every step of the fit, at their shapes, and nothing else."""
    widths = [X.shape[1], *cfg["hidden"], 1]
    layers = list(zip(widths[:-1], widths[1:]))
    W = [torch.randn(out, inp) for inp, out in layers]
    b = [torch.randn(out) for _, out in layers]
    n_steps = -(-len(X) // cfg["batch"]) * cfg["epochs"]
    a = [torch.randn(cfg["batch"], inp) for inp, _ in layers]
    g = [torch.randn(cfg["batch"], out) for _, out in layers]
    for _ in range(n_steps):
        for i in range(len(layers)):
            torch.addmm(b[i], a[i], W[i].t())          # forward
            g[i].t() @ a[i]                            # weight gradient
            if i > 0:
                g[i] @ W[i]                            # input gradient


def mlp_classifier(X, y, cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sklearn_mlp(cfg).fit(X, y)


def bfloat16_product_speed(cfg, repeats=200):
    """Median seconds of the hidden-layer product under CPU bfloat16 autocast."""
    n, h = cfg["batch"], cfg["hidden"][0]
    a, w = torch.randn(n, h), torch.randn(h, h)

    def product():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return a @ w

    return median_time(product, repeats, warmup=10)


def encoded_first_layer_speeds(cfg, bins=8, repeats=200):
    """Median seconds of one batch's first layer, forward and backward, on
    the piecewise-linear encoding (``bins`` inputs per feature): as the dense
    product ``NeuralClassifier`` runs, and as the prefix-sum form the encoding
    allows (per feature, the sum of the weight rows of the bins passed plus
    a fraction of the current bin's: two rows gathered per feature, summed by
    ``embedding_bag``), which needs ``bins / 2`` times fewer multiply-adds."""
    n, d, h = cfg["batch"], cfg["d"], cfg["hidden"][0]
    encoded = torch.rand(n, d * bins)
    weight = torch.randn(d * bins, h, requires_grad=True)
    rows = torch.randint(0, d * bins, (n, 2 * d))
    fractions = torch.rand(n, 2 * d)

    def dense():
        (encoded @ weight).sum().backward()

    def gathered():
        torch.nn.functional.embedding_bag(
            rows, weight, mode="sum", per_sample_weights=fractions).sum().backward()

    return (median_time(dense, repeats, warmup=20),
            median_time(gathered, repeats, warmup=20))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--threads", type=int, default=2, help="torch and BLAS threads")
    parser.add_argument("--compile", action="store_true", help="add the torch.compile row")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    torch.set_num_threads(args.threads)
    X, y = make_data(cfg["n"], cfg["d"])
    check_hand_written_backward(cfg["d"], cfg["hidden"])
    check_direct_adam(cfg["d"], cfg["hidden"])

    rows = {
        "plain loop (fused Adam)": lambda: plain_fit(X, y, cfg, torch.device("cpu"),
                                                     fused=True),
        "hand-written backward": lambda: loop(X, y, cfg, forward="hand-written"),
        "Adam kernel called directly": lambda: loop(X, y, cfg, adam="direct"),
        "no optimiser step": lambda: loop(X, y, cfg, step=False),
        "matrix products only": lambda: products_only(X, cfg),
        "MLPClassifier": lambda: mlp_classifier(X, y, cfg),
    }
    compile_s = None
    if args.compile:
        compiled = torch.compile(dynamic=False)
        start = time.perf_counter()
        # Compiles the full batch and the last, smaller one.
        loop(X, y, dict(cfg, epochs=1), compiled=compiled)
        compile_s = time.perf_counter() - start
        rows["torch.compile (compiled)"] = lambda: loop(X, y, cfg, compiled=compiled)

    times = {name: [] for name in rows}
    with threadpool_limits(args.threads):
        for fn in rows.values():
            fn()  # warm-up: lazy initialisation on every path
        names = list(rows)
        for r in range(args.repeats):
            for name in names[r % len(names):] + names[:r % len(names)]:
                start = time.perf_counter()
                rows[name]()
                times[name].append(time.perf_counter() - start)
        t_torch, t_numpy = product_speeds(cfg)
        t_bf16 = bfloat16_product_speed(cfg)
        t_dense, t_gathered = encoded_first_layer_speeds(cfg)

    # Ratios are taken within each repeat, then their median: the machine's
    # speed drifts between repeats more than it does within one.
    base, sk = times["plain loop (fused Adam)"], times["MLPClassifier"]

    def paired(numerators, denominators):
        return statistics.median(a / b for a, b in zip(numerators, denominators))
    print(f"torch {torch.__version__}, {args.threads} threads, {args.repeats} repeats, "
          f"n={cfg['n']:,} x {cfg['d']}, hidden={cfg['hidden']}, batch={cfg['batch']}, "
          f"epochs={cfg['epochs']}")
    n_steps = -(-cfg["n"] // cfg["batch"]) * cfg["epochs"]
    head = (f"{'fit':<28} {'median s':>9} {'ms/step':>8} {'/ plain loop':>13} "
            f"{'MLPClassifier / it':>19}")
    print(head)
    print("-" * len(head))
    for name, t in times.items():
        median = statistics.median(t)
        print(f"{name:<28} {median:>9.3f} {1e3 * median / n_steps:>8.2f} "
              f"{paired(t, base):>12.2f}x {paired(sk, t):>18.2f}x")
    if compile_s is not None:
        print(f"torch.compile's compilation (once per process): {compile_s:.1f} s")
    print(f"\ncontext: one {cfg['batch']}x{cfg['hidden'][0]}x{cfg['hidden'][0]} float32 "
          f"product takes {t_torch * 1e6:.0f} us in torch and {t_numpy * 1e6:.0f} us in "
          f"NumPy (MLPClassifier's BLAS): {t_numpy / t_torch:.2f}x")
    print(f"context: the same product under bfloat16 autocast takes {t_bf16 * 1e6:.0f} us: "
          f"{t_bf16 / t_torch:.1f}x the float32 one")
    print(f"context: the first layer on the 8-bin encoding (forward + backward, one "
          f"batch) takes {t_dense * 1e6:.0f} us as a dense product and "
          f"{t_gathered * 1e6:.0f} us as gathered prefix sums: "
          f"{t_gathered / t_dense:.2f}x")


if __name__ == "__main__":
    main()
