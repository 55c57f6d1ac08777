"""How long ``imbestimators compare`` takes on a user-sized raw CSV, per candidate.

Two tables from ``../shared/data/raw`` (or ``$IMBESTIMATORS_DATA/raw``): the
flights table subsampled to 50 000 rows with its 14 raw feature columns
(strings, dates, missing values), and the SMS spam text set (one free-text
column). Each runs ``compare`` as a user would (``--quick`` and the default),
and the table gives the wall time of the whole command and the mean fit time
per fold of every candidate::

    python benchmarks/bench_compare.py                 # --quick and the default
    python benchmarks/bench_compare.py --modes quick   # the first look only

Targets (issue 16): the default under 10 minutes on 50 000 × 15 raw columns
on 2 cores, ``--quick`` under 1 minute. Results are appended to
``OUT/compare_times.csv`` as each run ends.
"""

import argparse
import contextlib
import io
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from imbestimators.cli import main as cli  # noqa: E402
from imbestimators.datasets import get_data_home  # noqa: E402

ROWS = 50_000


def tables(home, out):
    """(name, csv path, extra compare arguments) of the timed tables."""
    flights = out / "flights_50k.csv.gz"
    if not flights.exists():
        frame = pd.read_csv(home / "raw" / "flights_delay60.csv.gz", low_memory=False)
        frame.sample(ROWS, random_state=0).to_csv(flights, index=False)
    return [
        ("flights 50 000 rows, raw columns", flights, []),
        ("SMS spam, text", home / "text_sms_spam.csv.gz", ["--text-column", "text"]),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="*", default=["quick", "default"],
                        choices=["quick", "default"])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/compare")
    args = parser.parse_args(argv)
    home = get_data_home() or Path(__file__).resolve().parents[2] / "shared" / "data"
    if not home.is_dir():
        parser.error("no dataset collection: set IMBESTIMATORS_DATA")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, path, extra in tables(home, out):
        for mode in args.modes:
            report = out / f"{path.name.split('.')[0]}_{mode}"
            argv = (["compare", str(path), "--out", str(report), "--n-jobs",
                     str(args.n_jobs)] + extra + (["--quick"] if mode == "quick" else []))
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                status = cli(argv)
            wall = time.perf_counter() - start
            board = pd.read_csv(report / "leaderboard.csv") if status == 0 else None
            row = {"table": name, "mode": mode, "status": status, "wall_s": round(wall, 1)}
            if board is not None:
                row.update({f"fit_s/{c}": round(t, 2)
                            for c, t in zip(board.candidate, board.fit_time_s)})
            rows.append(row)
            pd.DataFrame([row]).to_csv(out / "compare_times.csv", mode="a",
                                       header=not (out / "compare_times.csv").exists(),
                                       index=False)
            print(f"{name:<34} {mode:<8} status {status}  wall {wall:7.1f} s", flush=True)
    frame = pd.DataFrame(rows)
    print()
    print(frame[["table", "mode", "status", "wall_s"]].to_markdown(index=False))
    fits = frame.set_index(["table", "mode"]).filter(like="fit_s/").T
    fits.index = [i.split("/", 1)[1] for i in fits.index]
    print()
    print("mean fit time per fold (s):")
    print(fits.to_markdown())


if __name__ == "__main__":
    main()
