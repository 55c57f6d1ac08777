"""Compare candidate defaults of NeuralClassifier(class_weight='balanced').

Each configuration runs on the same 3-fold stratified splits of each dataset
(subsampled to 3 000 rows), one torch thread, and prints per-dataset average
precision, balanced accuracy and fit time, then the means::

    python benchmarks/tune_defaults.py base,ep50,cos \
        ecoli,satimage,abalone,sick_euthyroid,us_crime,libras_move,thyroid_sick,\
coil_2000,wine_quality,yeast_me2,oil,ozone_level_8hr,mammography,arrhythmia

(``base`` is the configuration with max_epochs=100, no piecewise-linear
encoding and no dropout, the defaults before these studies; ``raw50`` is base
with 50 epochs; ``bins4``/``bins8``/``bins16`` add the encoding with that many
bins; ``bins8_do1`` adds dropout 0.1 and is the default now.) The
piecewise-linear study ran on all 23 binary tabular datasets::

    python benchmarks/tune_defaults.py raw50,bins8,bins16,bins8_do1 \
        abalone,abalone_19,arrhythmia,car_eval_34,car_eval_4,coil_2000,ecoli,\
letter_img,libras_move,mammography,oil,optical_digits,ozone_level_8hr,pen_digits,\
protein_homo,satimage,sick_euthyroid,solar_flare_m0,thyroid_sick,us_crime,\
wine_quality,yeast_me2,yeast_ml8

An optional third argument changes the 3 000-row subsample, e.g. for early
stopping and fewer epochs on the four datasets of more than 10 000 rows::

    python benchmarks/tune_defaults.py bins8,bins8_es,bins8_es_ap,bins8_ep20 \
        mammography,pen_digits,letter_img,protein_homo 30000
"""

import sys
import warnings

import numpy as np
import torch
from bench_defaults import DATA, evaluate, load_csv
from skorch.callbacks import LRScheduler
from sklearn.model_selection import StratifiedKFold, train_test_split
from torch.optim.lr_scheduler import CosineAnnealingLR

from imbestimators import NeuralClassifier

torch.set_num_threads(1)
warnings.filterwarnings("ignore")
# The defaults before these studies: 100 epochs, raw (standardised) inputs,
# no dropout.
BASE = dict(class_weight="balanced", max_epochs=100, piecewise_bins=None, dropout=0.0)


def cosine(epochs):
    return [LRScheduler(policy=CosineAnnealingLR, T_max=epochs)]


CONFIGS = {
    "base": BASE,
    "wd1e-4": dict(BASE, weight_decay=1e-4, optimizer="adamw"),
    "ep200": dict(BASE, max_epochs=200),
    "ep50": dict(BASE, max_epochs=50),
    "cos": dict(BASE, callbacks=cosine(100)),
    "cos50": dict(BASE, max_epochs=50, callbacks=cosine(50)),
    "cos_lr3": dict(BASE, learning_rate=3e-3, callbacks=cosine(100)),
    "cos_wd3": dict(BASE, weight_decay=1e-3, optimizer="adamw", callbacks=cosine(100)),
    "es_ap": dict(BASE, early_stopping=True, scoring="average_precision", max_epochs=200),
    "h256_do": dict(BASE, hidden_layer_sizes=(256,), dropout=0.2),
    "cos_do": dict(BASE, hidden_layer_sizes=(256,), dropout=0.2, callbacks=cosine(100)),
    "ep50_do": dict(BASE, max_epochs=50, hidden_layer_sizes=(256,), dropout=0.2),
    "ep50_wd": dict(BASE, max_epochs=50, weight_decay=1e-3, optimizer="adamw"),
    "ep30": dict(BASE, max_epochs=30),
    "raw50": dict(BASE, max_epochs=50),
    "bins4": dict(BASE, max_epochs=50, piecewise_bins=4),
    "bins8": dict(BASE, max_epochs=50, piecewise_bins=8),
    "bins16": dict(BASE, max_epochs=50, piecewise_bins=16),
    "bins8_raw": dict(BASE, max_epochs=50, piecewise_bins=8, standardize=False),
    "bins8_do": dict(BASE, max_epochs=50, piecewise_bins=8, dropout=0.3),
    "bins8_ep25": dict(BASE, max_epochs=25, piecewise_bins=8),
    "bins6": dict(BASE, max_epochs=50, piecewise_bins=6),
    "bins8_h256": dict(BASE, max_epochs=50, piecewise_bins=8, hidden_layer_sizes=(256,)),
    "bins8_do1": dict(BASE, max_epochs=50, piecewise_bins=8, dropout=0.1),  # default
    "bins8_es": dict(BASE, max_epochs=50, piecewise_bins=8, early_stopping=True),
    "bins8_es_ap": dict(BASE, max_epochs=50, piecewise_bins=8, early_stopping=True,
                        scoring="average_precision"),
    "bins8_ep20": dict(BASE, max_epochs=20, piecewise_bins=8),
    "bins8_h64x2": dict(BASE, max_epochs=50, piecewise_bins=8, hidden_layer_sizes=(64, 64)),
}


def main(names, datasets, max_rows=3000):
    configs = {k: CONFIGS[k] for k in names}
    results = {k: [] for k in configs}
    for name in datasets:
        X, y = load_csv(DATA / f"{name}.csv.gz")
        X = X.astype(np.float32)
        if len(y) > max_rows:
            X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y,
                                          random_state=0)
        folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
        line = f"{name:<16}"
        for key, params in configs.items():
            rows = evaluate(NeuralClassifier(random_state=0, **params), X, y, folds)
            ap = np.mean([r["average_precision"] for r in rows])
            ba = np.mean([r["balanced_accuracy"] for r in rows])
            seconds = sum(r["fit_time"] for r in rows)
            results[key].append((ap, ba, seconds))
            line += f" | {key}: {ap:.3f} {ba:.3f} {seconds:4.1f}s"
        print(line, flush=True)
    for key, values in results.items():
        values = np.array(values)
        print(f"{key:<12} meanAP {values[:, 0].mean():.4f} "
              f"meanBA {values[:, 1].mean():.4f} time {values[:, 2].sum():.0f}s")


if __name__ == "__main__":
    main(sys.argv[1].split(","), sys.argv[2].split(","),
         *(int(arg) for arg in sys.argv[3:4]))
