"""The locator of the dataset collection."""

import pytest

from imbestimators.datasets import fetch_csv, get_data_home
from imbestimators.datasets._base import _DATA


def test_explicit_folder_then_environment_then_shared_data_upwards(tmp_path, monkeypatch):
    monkeypatch.delenv("IMBESTIMATORS_DATA", raising=False)
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert get_data_home(tmp_path / "repo") == tmp_path / "repo"
    found = get_data_home(start=tmp_path / "repo" / "a" / "b")
    assert found == (tmp_path / "shared" / "data").resolve()
    monkeypatch.setenv("IMBESTIMATORS_DATA", str(tmp_path / "repo"))
    assert get_data_home(start=tmp_path / "repo" / "a") == tmp_path / "repo"


def test_bad_folders_are_named(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="data_home=.*is not a folder"):
        get_data_home(tmp_path / "missing")
    monkeypatch.setenv("IMBESTIMATORS_DATA", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="IMBESTIMATORS_DATA=.*is not a folder"):
        get_data_home()


def test_fetch_csv_reads_a_file_of_the_collection(tmp_path):
    X, y = fetch_csv("ecoli", data_home=_DATA)  # the bundled folder as a collection
    assert X.shape == (336, 7)
    with pytest.raises(FileNotFoundError, match="'nope' is not in"):
        fetch_csv("nope", data_home=tmp_path)
