"""The ``imbestimators`` command line: ``compare`` and ``predict``."""

import argparse
import contextlib
import importlib.util
import shlex
import sys
from pathlib import Path

import joblib
import numpy as np

from ..utils import check_device
from ._candidates import CANDIDATES, Context
from ._compare import make_folds, ranked, run_candidates
from ._data import InputError, load_dataset, read_cost_matrix
from ._metrics import COST, METRICS, Scorer
from ._model import predict, save_model, versions
from ._offsets import describe_offsets, offset_points
from ._report import format_leaderboard, leaderboard_rows, recommend, write_report
from ._threshold import describe, operating_points

N_POINTS = 3  # candidates whose operating point the report tunes

__all__ = ["main"]


def _parser():
    parser = argparse.ArgumentParser(
        prog="imbestimators",
        description="Neural classifiers for imbalanced and cost-sensitive problems.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare", aliases=["demo"],
        help="cross-validate weighting, resampling, losses and ensembles on your data",
        description="Cross-validate imbalance-aware candidates on the same stratified "
                    "folds and rank them. Without DATA, runs on the bundled yeast ME2 "
                    "dataset (UCI, CC BY 4.0).",
        epilog="candidates: " + ", ".join(
            f"{c.name} ({c.description})" for c in CANDIDATES.values()
        ),
    )
    compare.add_argument("data", nargs="?", metavar="DATA.csv",
                         help="CSV file (optionally .gz) with a header row")
    compare.add_argument("--target", default=None, metavar="COLUMN",
                         help="label column of DATA.csv (default: 'target')")
    compare.add_argument("--metric", choices=METRICS, default="average_precision",
                         help="metric that ranks the candidates (default: %(default)s)")
    compare.add_argument("--cost-matrix", metavar="FILE",
                         help="JSON or CSV cost matrix C[true, predicted]: decisions "
                              "minimise expected cost, which then ranks the candidates")
    compare.add_argument("--cv", type=int, default=None,
                         help="number of stratified folds (default: 5, 3 with --quick)")
    compare.add_argument("--n-jobs", type=int, default=1,
                         help="fits run in parallel (joblib; -1: all cores)")
    compare.add_argument("--dask-scheduler", metavar="ADDRESS",
                         help="run the fits on a Dask cluster (joblib's Dask backend; "
                              "needs dask[distributed]), e.g. tcp://10.0.0.5:8786")
    compare.add_argument("--device", default="auto",
                         help="torch device of the networks: auto, cpu, cuda, cuda:N")
    compare.add_argument("--text-column", metavar="COLUMN", action="append", default=[],
                         help="free-text column: TF-IDF features (sparse) for the "
                              "models; repeat it for several")
    compare.add_argument("--na-values", metavar="MARKERS", default="",
                         help="comma-separated markers of missing values, besides "
                              "pandas' own ('', NA, N/A, null, NaN, ...) and '?'")
    compare.add_argument("--configs", metavar="NAMES",
                         help="comma-separated candidates to run (default: all)")
    compare.add_argument("--out", metavar="DIR",
                         help="write leaderboard.csv, report.md, report.html and plots "
                              "here")
    compare.add_argument("--repeats", type=int, default=1,
                         help="repeat the cross-validation with other shuffles "
                              "(default: %(default)s); more folds for the paired tests")
    compare.add_argument("--select", metavar="NAME",
                         help="the candidate --out saves as model.joblib (default: the "
                              "recommended one)")
    compare.add_argument("--tune-threshold", action="store_true",
                         help="save the model with the decision tuned on the "
                              "out-of-fold probabilities: binary, the threshold (F1, "
                              "balanced accuracy or cost); multiclass with --cost-matrix, "
                              "the class offsets of the minimum expected cost rule")
    compare.add_argument("--seed", type=int, default=0, help="seed of folds and models")
    compare.add_argument("--quick", action="store_true",
                         help="a first look: 4 candidates, 3 folds, 10 epochs, at most "
                              "10 000 rows (a stratified sample)")
    scorer = commands.add_parser(
        "predict", help="score new rows with the model.joblib compare saved",
        description="Probabilities per class and the decision (with the saved cost "
                    "matrix) for every row of NEW.csv, in input order.",
    )
    scorer.add_argument("model", metavar="MODEL.joblib",
                        help="the model file `compare --out DIR` wrote")
    scorer.add_argument("data", metavar="NEW.csv",
                        help="CSV (optionally .gz) with the model's columns")
    scorer.add_argument("--out", metavar="FILE",
                        help="write the predictions here (default: standard output)")
    scorer.add_argument("--id-column", metavar="COLUMN",
                        help="a column copied to the predictions, e.g. a row id")
    return parser


def main(argv=None):
    """Entry point of the ``imbestimators`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        The exit status: 0 on success, 2 on bad input, 1 when every
        candidate failed.

    Examples
    --------
    >>> from imbestimators.cli import main
    >>> main(["compare", "--target", "label", "missing.csv"])
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the error
        return exc.code
    command = "predict" if args.command == "predict" else "compare"
    try:
        if command == "predict":
            predict(args.model, args.data, args.out, args.id_column,
                    lambda message: _notify(message, command))
            if args.out is not None:
                print(f"predictions written to {args.out}")
            return 0
        client = None
        if getattr(args, "dask_scheduler", None) is not None:
            _check_configs(args.configs)  # cheap checks first
            client = connect_dask(args.dask_scheduler)
        try:
            return _compare(args, argv, client)
        finally:
            if client is not None:
                client.close()
    except InputError as exc:
        print(f"imbestimators {command}: error: {exc}", file=sys.stderr)
        return 2


def _notify(message, command="compare"):
    print(f"imbestimators {command}: note: {message}", file=sys.stderr)


def _compare(args, argv, client=None):
    names = _check_configs(args.configs)
    notes = []  # printed once the input has passed its checks
    costs = "with" if args.cost_matrix is not None else "without"
    if args.configs is None:
        names = [n for n in names if CANDIDATES[n].default
                 and CANDIDATES[n].costs in ("any", costs)]
        if costs == "with":
            notes.append("with a cost matrix, the candidates that reweight or resample "
                         "the classes without a prior correction are replaced by their "
                         "plain counterparts (the cost matrix already weighs the classes).")
    else:
        twice = [n for n in names if CANDIDATES[n].costs == "without" and costs == "with"]
        if twice:
            notes.append(f"{', '.join(twice)} reweight(s) or resample(s) the classes: "
                         "with --cost-matrix the imbalance is counted twice.")
    absent = [n for n in names if CANDIDATES[n].requires is not None
              and importlib.util.find_spec(CANDIDATES[n].requires) is None]
    if absent:
        packages = sorted({CANDIDATES[n].requires for n in absent})
        notes.append(f"skipping {', '.join(absent)}: {', '.join(packages)} not installed "
                     f"(pip install {' '.join(packages)}).")
        names = [n for n in names if n not in absent]
    if args.quick and args.configs is None:
        skipped = [n for n in names if not CANDIDATES[n].quick]
        kept = ", ".join(n for n in names if n not in skipped)
        notes.append(f"--quick runs {kept} and skips {', '.join(skipped)}; name them in "
                     "--configs to run them.")
        names = [n for n in names if n not in skipped]
    cv = args.cv if args.cv is not None else (3 if args.quick else 5)
    if cv < 2:
        raise InputError(f"--cv must be at least 2; got {cv}.")
    if args.repeats < 1:
        raise InputError(f"--repeats must be at least 1; got {args.repeats}.")
    if args.select is not None:
        if args.out is None:
            raise InputError("--select names the candidate --out saves; give --out DIR.")
        if args.select not in names:
            raise InputError(
                f"--select {args.select!r} is not among the candidates run: {names!r}."
            )
    try:
        device = check_device(args.device)
    except (TypeError, ValueError) as exc:
        raise InputError(f"--device: {exc}") from exc
    if args.data is None and args.target not in (None, "target"):
        raise InputError("--target names a column of DATA.csv; no data file was given.")
    if args.data is None and args.text_column:
        raise InputError(
            "--text-column names a column of DATA.csv; no data file was given."
        )
    dataset = load_dataset(
        args.data, args.target or "target", list(dict.fromkeys(args.text_column)),
        args.quick, [v for v in args.na_values.split(",") if v], args.seed,
    )
    cost_matrix = (
        None if args.cost_matrix is None
        else read_cost_matrix(args.cost_matrix, dataset.classes)
    )
    classes, counts = np.unique(dataset.y, return_counts=True)
    if counts.min() < cv:
        raise InputError(
            f"class {classes[np.argmin(counts)]!r} has {counts.min()} samples, fewer than "
            f"the {cv} folds of --cv: use --cv {max(2, counts.min())} or more data."
        )
    if args.tune_threshold and args.out is None:
        raise InputError("--tune-threshold tunes the decision of the saved model: "
                         "give --out DIR.")
    if args.tune_threshold and len(classes) != 2 and cost_matrix is None:
        raise InputError("--tune-threshold tunes the threshold of a binary problem, or "
                         "with --cost-matrix the class offsets of a multiclass one: got "
                         f"{len(classes)} classes and no cost matrix.")
    metric = COST if cost_matrix is not None else args.metric
    n_jobs = args.n_jobs
    if device.type == "cuda" and n_jobs != 1:
        _notify("one GPU trains one network at a time: running the fits one by one.")
        n_jobs = 1

    positive = dataset.positive_index
    context = Context(
        seed=args.seed, quick=args.quick, device=args.device, sparse=dataset.sparse,
        scoring=Scorer(metric, classes, positive, cost_matrix), cost_matrix=cost_matrix,
    )
    print(f"{dataset.name}: {len(dataset.y)} samples, {dataset.X.shape[1]} feature "
          "columns, "
          + ", ".join(f"class {c!s}: {n}" for c, n in zip(classes, counts)))
    if dataset.description:
        print(dataset.description)
    dataset.notices[:0] = notes  # in the report too
    for notice in dataset.notices:
        _notify(notice)
    repeats = f" × {args.repeats} repeats" if args.repeats > 1 else ""
    print(f"{len(names)} candidates × {cv} stratified folds{repeats} (the same folds for "
          f"all), ranked by {metric}; device {device}.")

    folds = make_folds(dataset.y_index, cv, args.repeats, args.seed)
    with _backend(client) as dask_jobs:
        results = run_candidates(dataset, names, context, metric=metric, folds=folds,
                                 n_jobs=dask_jobs or n_jobs, notify=_notify)
    best = ranked(results, metric)
    if not best:
        print("imbestimators compare: error: every candidate failed.", file=sys.stderr)
        return 1
    rows = leaderboard_rows(best, cost_matrix, metric, cv)
    recommended, reason = recommend(rows, metric)
    print(format_leaderboard(rows, cost_matrix, metric))
    print(reason)
    points = {}
    shown = {r.name for r in best[:N_POINTS]} | {recommended, args.select}
    leading = [r for r in best if r.name in shown]
    if len(classes) == 2:
        points = operating_points(leading, dataset.y_index, positive,
                                  folds[:cv], metric, cost_matrix)
        print(describe(recommended, points[recommended], dataset.positive))
    elif cost_matrix is not None:
        points = offset_points(leading, dataset.y_index, folds[:cv], cost_matrix)
        print(describe_offsets(recommended, points[recommended], dataset.classes))
    if args.out is not None:
        chosen = args.select or recommended
        succeeded = chosen in [r.name for r in best]
        if succeeded:
            if chosen != recommended:
                reason = f"{chosen} was chosen with --select. {reason}"
            Path(args.out).mkdir(parents=True, exist_ok=True)
            print(f"refitting {chosen} on all {len(dataset.y)} rows …")
            tuned = points[chosen] if args.tune_threshold else {}
            save_model(args.out, CANDIDATES[chosen], CANDIDATES[chosen].factory(context),
                       dataset, cost_matrix, reason, tuned.get("threshold"),
                       tuned.get("offsets"))
        failed = [r for r in results if r.error is not None]
        write_report(args.out, dataset, best, failed, rows, metric=metric,
                     cost_matrix=cost_matrix, cv=cv, repeats=args.repeats, seed=args.seed,
                     command=shlex.join(["imbestimators"] + argv), reason=reason,
                     saved=chosen if succeeded else None, versions=versions(),
                     points=points, notify=_notify)
        print(f"report written to {args.out}/report.html")
        if not succeeded:
            raise InputError(f"--select {chosen!r} failed; no model was saved.")
        print(f"model saved as {args.out}/model.joblib (model.py rebuilds it)")
    return 0


@contextlib.contextmanager
def _backend(client):
    """joblib's Dask backend on ``client``'s cluster (yields the n_jobs that
    spreads the fits over its workers), or nothing to change."""
    if client is None:
        yield None
        return
    with joblib.parallel_backend("dask"):
        yield -1


def connect_dask(address):
    """A ``dask.distributed.Client``; an InputError when it cannot be made."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise InputError("--dask-scheduler needs dask.distributed: pip install "
                         "'dask[distributed]'.") from exc
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"--dask-scheduler {address!r}: cannot connect ({reason}).") \
            from exc


def _check_configs(configs):
    if configs is None:
        return list(CANDIDATES)
    names = [n.strip() for n in configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown or not names:
        raise InputError(
            f"--configs: unknown candidates {unknown!r}; choose from {list(CANDIDATES)!r}."
        )
    return list(dict.fromkeys(names))
