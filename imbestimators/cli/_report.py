"""The leaderboard in the terminal, and the report files of ``--out``."""

import csv
import html
from pathlib import Path

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss

from ._compare import metric_names
from ._metrics import COST
from ._statistics import ALPHA, compare_with_best
from ._threshold import RECALLS

N_CURVES = 5  # candidates in the precision-recall plot
N_MATRICES = 6  # candidates in the confusion-matrix plot


def leaderboard_rows(ranked_results, cost_matrix, metric, cv):
    """One dict per candidate, best first: the rows of ``leaderboard.csv``.

    ``p_vs_best`` is the corrected resampled t-test of the candidate's fold
    scores of ``metric`` against the best's, paired by fold; ``tied_with_best``
    is ``p_vs_best >= 0.05`` (the best itself is tied with itself);
    ``within_one_se`` is ``|t| <= 1``: the mean difference is at most one
    corrected standard error (the recommendation's rule).
    """
    tests = compare_with_best(
        [[s[metric] for s in r.fold_scores] for r in ranked_results], cv
    )
    rows = []
    for rank, (result, (t, p)) in enumerate(zip(ranked_results, tests), start=1):
        row = {"rank": rank, "candidate": result.name, "description": result.description,
               "estimator": result.estimator}
        for name in metric_names(cost_matrix):
            row[f"{name}_mean"] = result.mean(name)
            row[f"{name}_std"] = result.std(name)
        row["p_vs_best"] = p
        row["tied_with_best"] = p is None or p >= ALPHA
        row["within_one_se"] = t is None or abs(t) <= 1
        row["fit_time_s"] = float(np.mean(result.fit_times))
        row["n_folds"] = len(result.fold_scores)
        rows.append(row)
    return rows


def recommend(rows, metric):
    """The candidate to use and why: the cheapest (mean fit time) of those
    within one corrected standard error of the best (Breiman's one-standard-
    error rule on the paired differences; the p >= 0.05 ties are wider and
    can hold candidates far below the best on few folds)."""
    near = [row for row in rows if row["within_one_se"]]
    pick = min(near, key=lambda row: row["fit_time_s"])
    best = rows[0]
    value = f"{metric} {pick[metric + '_mean']:.3f}"
    tied = sum(row["tied_with_best"] for row in rows)
    ties = (f" {tied} of the {len(rows)} candidates are tied with the best on the paired "
            f"test (p >= {ALPHA})." if tied > 1 else "")
    if len(near) == 1:
        return pick["candidate"], (
            f"Recommended: {pick['candidate']} ({value}), the best; no other candidate "
            f"is within one standard error of it over the folds.{ties}"
        )
    names = ", ".join(row["candidate"] for row in near)
    if pick is best:
        why = "the best, and the fastest of them"
    else:
        why = (f"the fastest of them ({pick['fit_time_s']:.2f} s per fold against "
               f"{best['fit_time_s']:.2f} s for the best, {best['candidate']})")
    return pick["candidate"], (
        f"Recommended: {pick['candidate']} ({value}). {len(near)} candidates are within "
        f"one standard error of the best over the folds ({names}); "
        f"{pick['candidate']} is {why}.{ties}"
    )


def _table(rows, cost_matrix, metric):
    """Header and cells of the leaderboard; the ranking metric is starred."""
    metrics = metric_names(cost_matrix)
    header = ["rank", "candidate"] + [m + (" *" if m == metric else "") for m in metrics]
    header += ["vs best", "fit s / fold"]
    cells = [
        [str(row["rank"]), row["candidate"]]
        + [f"{row[m + '_mean']:.3f} ± {row[m + '_std']:.3f}" for m in metrics]
        + [_versus_best(row), f"{row['fit_time_s']:.2f}"]
        for row in rows
    ]
    return header, cells


def _versus_best(row):
    if row["p_vs_best"] is None:
        return "best"
    return f"{'tied' if row['tied_with_best'] else 'worse'}, p={row['p_vs_best']:.2g}"


def format_leaderboard(rows, cost_matrix, metric):
    """The leaderboard as aligned plain text."""
    header, cells = _table(rows, cost_matrix, metric)
    widths = [max(len(line[i]) for line in [header] + cells) for i in range(len(header))]

    def line(values):
        return "  ".join(
            v.ljust(w) if i < 2 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths))
        )

    text = [line(header), "-" * len(line(header))] + [line(c) for c in cells]
    better = "lower" if metric == COST else "higher"
    text.append(f"* ranked by {metric} ({better} is better); mean ± std over the folds; "
                "vs best: Nadeau-Bengio corrected paired t-test over the folds.")
    return "\n".join(text)


def write_report(out, dataset, results, failed, rows, *, metric, cost_matrix, cv,
                 repeats, seed, command, reason, saved, versions, points, notify):
    """Write leaderboard.csv, the plots, report.md and report.html into ``out``.

    ``results`` are the successful candidates, best first.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "leaderboard.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    images = _plots(out, dataset, results, cost_matrix, points, notify)
    blocks = _blocks(dataset, results, failed, rows, images, metric=metric,
                     cost_matrix=cost_matrix, cv=cv, repeats=repeats, seed=seed,
                     command=command, reason=reason, saved=saved, versions=versions,
                     points=points)
    (out / "report.md").write_text(_markdown(blocks))
    title = f"imbestimators compare: {dataset.name}"
    (out / "report.html").write_text(_html(blocks, title))


def _plots(out, dataset, results, cost_matrix, points, notify):
    """Draw the PNG plots; ``{}`` with a notice when matplotlib is missing."""
    try:
        import matplotlib.figure  # noqa: F401 (is the plot extra installed?)
    except ImportError:
        notify("matplotlib is not installed: no plots "
               "(pip install 'imbestimators[plot]').")
        return {}
    from ._plots import confusion_matrices, precision_recall, reliability, training_curves

    y_index = dataset.y_index
    positive = dataset.positive_index
    images = {
        "pr_curves.png": precision_recall(results[:N_CURVES], y_index, positive,
                                          points),
        "confusion_matrices.png": confusion_matrices(
            results[:N_MATRICES], y_index, dataset.classes, cost_matrix
        ),
        "confusion_rates.png": confusion_matrices(
            results[:N_MATRICES], y_index, dataset.classes, cost_matrix, normalize="true"
        ),
        "training_curves.png": training_curves(results),
        "reliability.png": (reliability(results[:N_CURVES], y_index, positive)
                            if len(dataset.classes) == 2 else None),
    }
    saved = {}
    for name, figure in images.items():
        if figure is not None:
            figure.savefig(out / name, dpi=100)
            saved[name] = True
    return saved


def _blocks(dataset, results, failed, rows, images, *, metric, cost_matrix, cv, repeats,
            seed, command, reason, saved, versions, points):
    """The report as a list of (kind, content) blocks, rendered to Markdown and HTML."""
    classes, counts = np.unique(dataset.y, return_counts=True)
    class_text = ", ".join(f"{c!s}: {n}" for c, n in zip(classes, counts))
    decision = (
        "minimum expected cost under the given cost matrix" if cost_matrix is not None
        else "most probable class"
    )
    saved_text = (
        f"Saved: {saved}, refitted on all rows, as model.joblib (score new rows with "
        "imbestimators predict model.joblib NEW.csv); model.py rebuilds it."
        if saved else "No model was saved."
    )
    blocks = [
        ("h1", f"imbestimators compare: {dataset.name}"),
        ("p", reason),
        ("p", saved_text),
        ("p", f"{len(dataset.y)} samples, {dataset.X.shape[1]} feature columns; classes "
              f"{class_text}; the minority class {dataset.positive!s} is the positive "
              "class of the binary metrics."),
    ]
    if dataset.description:
        blocks.append(("p", dataset.description))
    blocks.append((
        "p", f"{cv}-fold stratified cross-validation"
             + (f" repeated {repeats} times" if repeats > 1 else "")
             + f" (seed {seed}), the same folds for every candidate; preprocessing is "
             "fitted on each training fold only. 'vs best': the Nadeau-Bengio corrected "
             "resampled t-test of the ranking metric's fold scores against the best's, "
             f"paired by fold; 'tied' when p >= {ALPHA}. Decisions: {decision}. "
             f"Reproduce with: {command}",
    ))
    blocks.append(("p", "Written by " + ", ".join(f"{k} {v}" for k, v in versions.items())
                   + "."))
    if dataset.notices:
        blocks.append(("ul", dataset.notices))
    header, cells = _table(rows, cost_matrix, metric)
    blocks += [("h2", "Leaderboard"), ("table", (header, cells))]
    if failed:
        blocks += [("p", "Failed candidates:"),
                   ("ul", [f"{r.name}: {r.error}" for r in failed])]
    blocks += [("h2", "Calibration"), ("p", _CALIBRATION_TEXT),
               ("table", _calibration_table(results, dataset))]
    if points and len(dataset.classes) == 2:
        blocks += [("h2", "Operating points"), ("p", _POINTS_TEXT.format(
            positive=dataset.positive, metric=next(iter(points.values()))["metric"])),
            ("table", _points_table(points))]
    elif points:
        blocks += [("h2", "Operating points"), ("p", _OFFSETS_TEXT),
                   ("table", _offsets_table(points, dataset.classes))]
    captions = {
        "pr_curves.png": ("Precision-recall curves",
                          "Out-of-fold probabilities of the best candidates, pooled over "
                          "the folds (multiclass: micro-averaged over the classes)."),
        "confusion_matrices.png": ("Confusion matrices",
                                   "Out-of-fold decisions of the best candidates."),
        "confusion_rates.png": ("Confusion rates",
                                "The same decisions as rates of each true class (rows "
                                "sum to 1; the diagonal is each class's recall)."),
        "reliability.png": ("Reliability",
                            "Out-of-fold probability of the positive class against how "
                            "often it is right, in ten bins of equal size: class "
                            "weights and resampling push the curve below the diagonal "
                            "(probabilities too high)."),
        "training_curves.png": ("Training curves",
                                "Loss per epoch of the networks, one line per fold "
                                "(dashed: validation part used for early stopping; a "
                                "star: the epoch whose weights early stopping "
                                "restored)."),
    }
    for name, (title, caption) in captions.items():
        if name in images:
            blocks += [("h2", title), ("p", caption), ("img", name)]
    blocks += [("h2", "Candidates"),
               ("p", "Each candidate as it ran (parameters that differ from the "
                     "defaults), behind the per-fold preprocessing."),
               ("ul", [f"{r['candidate']}: {r['estimator']}" for r in rows])]
    return blocks


_CALIBRATION_TEXT = (
    "How good the probabilities are as probabilities (lower is better), from the "
    "out-of-fold probabilities pooled over the folds: the Brier score (binary: of the "
    "positive class; multiclass: half the squared distance to the one-hot truth) and "
    "the log-loss. Weighting and resampling trade calibration for ranking; the "
    "network's prior_correction=True undoes the weights' shift."
)


def _calibration_table(results, dataset):
    y_index = dataset.y_index
    positive = dataset.positive_index
    labels = np.arange(len(dataset.classes))
    cells = []
    for result in results:
        proba = np.clip(result.oof_proba, 0.0, 1.0)
        brier = (brier_score_loss(y_index == positive, proba[:, positive])
                 if len(labels) == 2 else _multiclass_brier(y_index, proba))
        cells.append([result.name, f"{brier:.4f}",
                      f"{log_loss(y_index, proba, labels=labels):.4f}"])
    return ["candidate", "Brier score", "log-loss"], cells


def _multiclass_brier(y_index, proba):
    """The mean over rows of the squared distance between the probabilities
    and the one-hot truth: scikit-learn's multiclass ``brier_score_loss``
    (from version 1.7), on every supported version."""
    truth = np.eye(proba.shape[1])[y_index]
    return float(np.mean(np.sum((truth - proba) ** 2, axis=1)))


_POINTS_TEXT = (
    "The threshold on the probability of {positive} tuned for {metric} on the "
    "out-of-fold probabilities (marked on the precision-recall curves). 'tuned' is "
    "cross-validated: each fold is decided with the threshold tuned on the other "
    "folds; 'default' is the default decision's score on the same folds. Precision "
    "at recall r: the best precision of a threshold whose recall is at least r. "
    "--tune-threshold saves the model with its threshold."
)


def _points_table(points):
    header = ["candidate", "threshold", "tuned", "default"] + [
        f"precision at recall {r}" for r in RECALLS]
    cells = [
        [name, f"{p['threshold']:.3g}", f"{p['tuned']:.3f}", f"{p['default']:.3f}"]
        + [f"{v:.3f}" for v in p["precision_at_recall"]]
        for name, p in points.items()
    ]
    return header, cells


_OFFSETS_TEXT = (
    "The decision rule tuned for the expected cost on the out-of-fold "
    "probabilities: the class of minimum expected cost under the adjusted "
    "probabilities softmax(log p + offset), one offset per class (the first "
    "class's is 0; a positive offset makes its class likelier). 'tuned' is "
    "cross-validated: each fold is decided with the offsets tuned on the other "
    "folds; 'default' is the cost without offsets on the same folds. "
    "--tune-threshold saves the model with its offsets."
)


def _offsets_table(points, classes):
    header = (["candidate"] + [f"offset {c!s}" for c in classes]
              + ["tuned", "default"])
    cells = [
        [name] + [f"{b:+.2f}" for b in p["offsets"]]
        + [f"{p['tuned']:.3f}", f"{p['default']:.3f}"]
        for name, p in points.items()
    ]
    return header, cells


def _markdown(blocks):
    parts = []
    for kind, content in blocks:
        if kind == "h1":
            parts.append(f"# {content}")
        elif kind == "h2":
            parts.append(f"## {content}")
        elif kind == "p":
            parts.append(content)
        elif kind == "ul":
            parts.append("\n".join(f"- {item}" for item in content))
        elif kind == "img":
            parts.append(f"![{content}]({content})")
        else:
            header, cells = content
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(c) + " |" for c in cells]
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
    "color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
    "padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}"
    "th{background:#eee}img{max-width:100%}"
)


def _html(blocks, title):
    esc = html.escape
    parts = []
    for kind, content in blocks:
        if kind in ("h1", "h2", "p"):
            parts.append(f"<{kind}>{esc(content)}</{kind}>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in content) + "</ul>")
        elif kind == "img":
            parts.append(f'<img src="{esc(content)}" alt="{esc(content)}">')
        else:
            header, cells = content
            rows = "".join(
                "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                for row in cells
            )
            parts.append(
                "<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
                + rows + "</table>"
            )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(parts) + "\n</body></html>\n"
    )
