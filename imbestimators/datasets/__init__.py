"""Bundled real imbalanced datasets (with attribution) and a CSV loader."""

from ._base import load_csv, load_ecoli, load_yeast_me2

__all__ = ["load_csv", "load_ecoli", "load_yeast_me2"]
