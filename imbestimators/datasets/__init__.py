"""Bundled real imbalanced datasets (with attribution), a CSV loader and a
synthetic dense problem."""

from ._base import load_csv, load_ecoli, load_yeast_me2
from ._synthetic import make_rare_foreground

__all__ = ["load_csv", "load_ecoli", "load_yeast_me2", "make_rare_foreground"]
