"""The ``imbestimators`` command line."""

import argparse
import sys

from ._demo import run_demo


def main(argv=None):
    """Entry point of the ``imbestimators`` console script.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="imbestimators",
        description="Neural classifiers for imbalanced and cost-sensitive problems.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="cross-validate NeuralClassifier on a bundled imbalanced dataset"
    )
    demo.add_argument("--cv", type=int, default=5, help="number of stratified folds")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(cv=args.cv, seed=args.seed)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
