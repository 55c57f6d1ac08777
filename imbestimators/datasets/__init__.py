"""Bundled real imbalanced datasets (with attribution), a CSV loader, the
locator of the project's larger collection, and a synthetic dense problem."""

from ._base import load_csv, load_ecoli, load_yeast_me2
from ._home import fetch_csv, get_data_home
from ._synthetic import make_rare_foreground

__all__ = ["fetch_csv", "get_data_home", "load_csv", "load_ecoli", "load_yeast_me2",
           "make_rare_foreground"]
