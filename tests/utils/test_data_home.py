"""The locator of a dataset collection."""

import pytest

from imbestimators.datasets import fetch_csv, get_data_home
from imbestimators.datasets._base import _DATA


def test_explicit_folder_then_environment_then_none(tmp_path, monkeypatch):
    monkeypatch.delenv("IMBESTIMATORS_DATA", raising=False)
    assert get_data_home() is None  # the package looks nowhere else
    assert get_data_home(tmp_path) == tmp_path
    monkeypatch.setenv("IMBESTIMATORS_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    with pytest.raises(FileNotFoundError, match="'nope' is not in"):
        fetch_csv("nope")


def test_bad_folders_are_named(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="data_home=.*is not a folder"):
        get_data_home(tmp_path / "missing")
    monkeypatch.setenv("IMBESTIMATORS_DATA", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="IMBESTIMATORS_DATA=.*is not a folder"):
        get_data_home()
    monkeypatch.delenv("IMBESTIMATORS_DATA")
    with pytest.raises(FileNotFoundError, match="set IMBESTIMATORS_DATA"):
        fetch_csv("ecoli")


def test_fetch_csv_reads_a_file_of_the_collection():
    X, y = fetch_csv("ecoli", data_home=_DATA)  # the bundled folder as a collection
    assert X.shape == (336, 7)
