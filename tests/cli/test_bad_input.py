"""Bad input: one line on stderr, exit status 2, no traceback, no work done."""

import numpy as np
import pytest
import torch

from imbestimators.cli import main


def run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines(), captured.out


def assert_one_line_error(status, lines, pattern):
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith("imbestimators compare: error:")
    assert pattern in lines[0]


def write(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_missing_file(tmp_path, capsys):
    status, lines, _ = run(["compare", str(tmp_path / "nope.csv")], capsys)
    assert_one_line_error(status, lines, "does not exist")


def test_missing_target_column(binary_csv, capsys):
    status, lines, _ = run(["compare", str(binary_csv), "--target", "class"], capsys)
    assert_one_line_error(status, lines, "--target 'class' is not a column")
    assert "a, b, c, d, label" in lines[0]


def test_default_target_missing(binary_csv, capsys):
    status, lines, _ = run(["compare", str(binary_csv)], capsys)
    assert_one_line_error(status, lines, "--target 'target' is not a column")


def test_one_class(tmp_path, make_table, capsys):
    table = make_table()
    table["label"] = 1
    status, lines, _ = run(["compare", write(tmp_path, table), "--target", "label"], capsys)
    assert_one_line_error(status, lines, "single class")


def test_continuous_target(tmp_path, make_table, capsys):
    table = make_table()
    table["label"] = table["a"] * 1.5
    status, lines, _ = run(["compare", write(tmp_path, table), "--target", "label"], capsys)
    assert_one_line_error(status, lines, "looks continuous")


def test_class_smaller_than_the_folds(tmp_path, make_table, capsys):
    table = make_table()
    table.loc[:2, "label"] = 2  # a third class of 3 samples
    status, lines, _ = run(["compare", write(tmp_path, table), "--target", "label"], capsys)
    assert_one_line_error(status, lines, "fewer than the 5 folds of --cv: use --cv 3")


def test_unreadable_csv(tmp_path, capsys):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00garbage\x00\n\x81\x82")
    status, lines, _ = run(["compare", str(path)], capsys)
    assert_one_line_error(status, lines, "cannot read")


def test_unknown_config(binary_csv, capsys):
    status, lines, _ = run(
        ["compare", str(binary_csv), "--target", "label", "--configs", "nn_magic"], capsys
    )
    assert_one_line_error(status, lines, "unknown candidates ['nn_magic']")


def test_missing_text_column(binary_csv, capsys):
    status, lines, _ = run(["compare", str(binary_csv), "--target", "label",
                            "--text-column", "body"], capsys)
    assert_one_line_error(status, lines, "--text-column 'body' is not a column")


@pytest.mark.parametrize("content, name, pattern", [
    ("[[0, 1], [5]]", "cost.json", "--cost-matrix"),
    ("[[0, 1, 2], [1, 0, 2], [1, 1, 0]]", "cost.json", "shape (2, 2)"),
    ('{"0": {"7": 1}}', "cost.json", "not a label"),
    ("0,1\n-1,0\n", "cost.csv", "non-negative"),
])
def test_bad_cost_matrix(binary_csv, tmp_path, capsys, content, name, pattern):
    path = tmp_path / name
    path.write_text(content)
    status, lines, _ = run(["compare", str(binary_csv), "--target", "label",
                            "--cost-matrix", str(path)], capsys)
    assert_one_line_error(status, lines, pattern)


def test_missing_cost_matrix_file(binary_csv, tmp_path, capsys):
    status, lines, _ = run(["compare", str(binary_csv), "--target", "label",
                            "--cost-matrix", str(tmp_path / "none.json")], capsys)
    assert_one_line_error(status, lines, "does not exist")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_device_without_cuda(binary_csv, capsys):
    status, lines, _ = run(["compare", str(binary_csv), "--target", "label",
                            "--device", "cuda"], capsys)
    assert_one_line_error(status, lines, "--device")


def test_target_without_a_file(capsys):
    status, lines, _ = run(["compare", "--target", "label"], capsys)
    assert_one_line_error(status, lines, "no data file was given")


@pytest.mark.parametrize("argv", [["compare", "--cv", "x"], ["compare", "--metric", "acc"],
                                  ["frobnicate"]])
def test_argparse_errors_are_status_2(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cv_below_two(capsys):
    status, lines, _ = run(["compare", "--cv", "1"], capsys)
    assert_one_line_error(status, lines, "--cv must be at least 2")


def test_labels_with_missing_values_are_dropped_with_a_notice(tmp_path, make_table, capsys):
    table = make_table()
    table["label"] = table["label"].astype(float)
    table.loc[[3, 4], "label"] = np.nan
    status = main(["compare", write(tmp_path, table), "--target", "label", "--quick",
                   "--cv", "2", "--configs", "logreg_class_weight"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "note: dropped 2 rows with no 'label' label." in captured.err
    assert "158 samples" in captured.out
