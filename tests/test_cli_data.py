"""Tests of minivae.cli_data: train / score / sample on a user's CSV or .npy file.

A round trip on a small generated CSV, and every bad input ending with exit
status 1 and a single line on stderr.
"""

import argparse

import numpy as np
import pytest

from minivae import models
from minivae.cli_data import DataError, add_data_parsers, read_table


def _main(argv):
    parser = argparse.ArgumentParser(prog="minivae")
    add_data_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def _csv(path, X, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(f"{v:.6g}" for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.2]])
    return X * [1.0, 100.0, 0.01] + [0.0, 1000.0, 5.0]      # columns on very different scales


@pytest.mark.parametrize("header", [None, ["a", "b", "c"]])
def test_train_score_sample_round_trip(tmp_path, capsys, header):
    X = _data()
    data = _csv(tmp_path / "data.csv", X, header)
    model = tmp_path / "model.npz"
    assert _main(["train", data, "-o", model, "--epochs", "5", "--hidden", "8", "--latent", "2"]) == 0
    assert models.load(model).n_features_in_ == 3          # still an ordinary model file

    far = np.vstack([X[:20], X[:20] + [0.0, 5000.0, 0.0]])   # 20 normal rows, 20 far off
    test = _csv(tmp_path / "test.csv", far, header)
    scores_path = tmp_path / "scores.csv"
    assert _main(["score", model, test, "-o", scores_path]) == 0
    scores, names = read_table(scores_path)
    assert names == ["anomaly_score"] and scores.shape == (40, 1)
    assert scores[20:].min() > scores[:20].max()           # the shifted rows score higher
    assert _main(["score", model, test, "-o", tmp_path / "again.csv"]) == 0
    np.testing.assert_array_equal(read_table(tmp_path / "again.csv")[0], scores)   # seeded

    samples_path = tmp_path / "samples.csv"
    assert _main(["sample", model, "-n", "50", "-o", samples_path, "--seed", "1"]) == 0
    S, s_names = read_table(samples_path)
    assert S.shape == (50, 3) and s_names == header
    # samples come back in the data's units (the middle column lives near 1000)
    assert abs(np.median(S[:, 1]) - 1000.0) < 300.0
    # --noise adds the decoder's N(0, ω²) noise (ω² = 1 in standardised units): wider samples.
    noisy_path = tmp_path / "noisy.csv"
    assert _main(["sample", model, "-n", "50", "-o", noisy_path, "--seed", "1", "--noise"]) == 0
    noisy = read_table(noisy_path)[0]
    assert noisy.shape == S.shape and np.all(noisy.std(axis=0) > S.std(axis=0))


def test_npy_input_and_log1p_by_name(tmp_path):
    X = np.abs(_data())
    np.save(tmp_path / "data.npy", X)
    model = tmp_path / "m.npz"
    assert _main(["train", tmp_path / "data.npy", "-o", model, "--epochs", "2", "--log1p", "0,2"]) == 0
    data = _csv(tmp_path / "h.csv", X, ["x", "bytes", "y"])
    assert _main(["train", data, "-o", model, "--epochs", "2", "--log1p", "bytes"]) == 0
    assert _main(["score", model, tmp_path / "data.npy", "-o", tmp_path / "s.csv"]) == 0


def _one_line_error(capsys, argv, match):
    assert _main(argv) == 1
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert match in err, err


def _bad_option(capsys, argv, match):
    """A malformed option value: argparse's one line and status 2, before anything runs (README)."""
    from minivae.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert match in err, err


def test_bad_inputs_exit_nonzero_with_one_line(tmp_path, capsys):
    X = _data(n=50)
    good = _csv(tmp_path / "good.csv", X)
    model = tmp_path / "m.npz"
    assert _main(["train", good, "-o", model, "--epochs", "1"]) == 0
    capsys.readouterr()

    _one_line_error(capsys, ["train", tmp_path / "missing.csv", "-o", model], "no such file")
    (tmp_path / "text.csv").write_text("1,2,3\n4,five,6\n")
    _one_line_error(capsys, ["train", tmp_path / "text.csv", "-o", model], "'five' is not a number")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    _one_line_error(capsys, ["train", tmp_path / "ragged.csv", "-o", model], "line 2 has 2 values")
    (tmp_path / "nan.csv").write_text("a,b,c\n1,2,3\n4,nan,6\n")
    _one_line_error(capsys, ["train", tmp_path / "nan.csv", "-o", model], "NaN")
    (tmp_path / "empty.csv").write_text("\n")
    _one_line_error(capsys, ["train", tmp_path / "empty.csv", "-o", model], "empty")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    _one_line_error(capsys, ["train", tmp_path / "bad.npy", "-o", model], "bad.npy")
    _one_line_error(capsys, ["train", good, "-o", model, "--log1p", "bytes"], "unknown column")
    _bad_option(capsys, ["train", good, "-o", model, "--hidden", "8,x"], "argument --hidden: must be comma")
    _one_line_error(capsys, ["train", good, "-o", tmp_path / "nodir" / "m.npz", "--epochs", "1"],
                    "no directory")

    two = _csv(tmp_path / "two.csv", X[:, :2])
    _one_line_error(capsys, ["score", model, two], "has 2 columns, but the model was trained on 3")
    _one_line_error(capsys, ["score", tmp_path / "nomodel.npz", good], "no such model file")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    _one_line_error(capsys, ["score", tmp_path / "junk.npz", good], "junk.npz")
    _bad_option(capsys, ["sample", model, "-n", "0"], "argument -n: must be an int >= 1")
    # Outputs never overwrite inputs, and models and tables keep their kinds of file.
    _one_line_error(capsys, ["train", good, "-o", good], "is also an input file")
    _one_line_error(capsys, ["train", good, "-o", tmp_path / "m.csv"], "must name a model file ending in .npz")
    _bad_option(capsys, ["train", good, "-o", tmp_path / "good.npz", "--epochs", "0"],
                "argument --epochs: must be an int >= 1, got 0")
    _one_line_error(capsys, ["sample", model, "-n", "3", "-o", model], "is also an input file")
    _one_line_error(capsys, ["score", model, good, "-o", good], "is also an input file")
    _one_line_error(capsys, ["score", model, good, "-o", tmp_path / "s.npz"], "looks like a model file")
    _bad_option(capsys, ["sample", model, "-n", "100000000"], "from 1 to 10,000,000")
    _one_line_error(capsys, ["score", model, good, "--n-mc", "1000000000"], "n_mc=1000000000 draws of ε")
    for argv, match in [
        (["score", model, good, "--n-mc", "0"], "argument --n-mc: must be an int >= 1, got 0"),
        (["score", model, good, "--seed", "-3"], "argument --seed: must be an int >= 0, got -3"),
        (["train", good, "-o", model, "--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
        (["train", good, "-o", model, "--lr", "-1"], "argument --lr: must be a finite number > 0"),
        (["train", good, "-o", model, "--sigma2", "0"], "argument --sigma2: must be a finite number > 0"),
        (["train", good, "-o", model, "--lam", "-0.5"], "argument --lam: must be a finite number >= 0"),
        (["train", good, "-o", model, "--hidden", "0"], "argument --hidden: must be comma-separated ints >= 1"),
        (["train", good, "-o", model, "--batch-size", "1.5"], "argument --batch-size: must be an int >= 1"),
        (["train", good, "-o", model, "--latent", "0"], "argument --latent: must be an int >= 1"),
        (["train", good, "-o", model, "--components", "-2"], "argument --components: must be an int >= 1"),
        (["train", good, "-o", model, "--pseudo-inputs", "x"], "argument --pseudo-inputs: must be an int >= 1"),
    ]:
        _bad_option(capsys, argv, match)
    assert good.read_text().startswith(f"{X[0, 0]:.6g}")          # the data file is intact
    named = _csv(tmp_path / "named.csv", X, ["a", "b", "c"])
    named_model = tmp_path / "named.npz"
    assert _main(["train", named, "-o", named_model, "--epochs", "1"]) == 0
    capsys.readouterr()
    _one_line_error(capsys, ["score", named_model, _csv(tmp_path / "swapped.csv", X, ["c", "b", "a"])],
                    "same names in the same order")


def test_read_table_reports_errors_as_data_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "nothing.csv")
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        read_table(tmp_path / "h.csv")
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n\n3,4\n")
    X, names = read_table(tmp_path / "ok.csv")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert names == ["a", "b"]


@pytest.mark.parametrize("model_name, cls", [("vae", "VAE"), ("wae", "WAE"), ("emvae", "EMVAE"),
                                              ("vampprior", "VampPriorVAE")])
def test_every_model_trains_scores_and_samples_from_the_command_line(tmp_path, model_name, cls):
    data = _csv(tmp_path / "data.csv", _data(n=120))
    model = tmp_path / "model.npz"
    assert _main(["train", "--model", model_name, data, "-o", model, "--epochs", "2",
                  "--hidden", "6", "--pseudo-inputs", "5"]) == 0
    assert type(models.load(model)).__name__ == cls
    assert _main(["score", model, data, "-o", tmp_path / "s.csv"]) == 0
    assert read_table(tmp_path / "s.csv")[0].shape == (120, 1)
    assert _main(["sample", model, "-n", "7", "-o", tmp_path / "x.csv"]) == 0
    assert read_table(tmp_path / "x.csv")[0].shape == (7, 3)


def test_reproduce_is_wired_into_the_main_command(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "minivae", "reproduce", "htru2", "--runs", "1",
                           "--quick", "--models", "vae", "--out", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    if "MINIVAE_DATA" not in os.environ:
        pytest.skip("MINIVAE_DATA is not set: no HTRU2 file to reproduce on")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "results.md").exists() and (out / "results.json").exists()
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------- the CSV reader
def _export(path, rows, quoting, header=None, lineterminator="\n", encoding="utf-8"):
    """Write ``rows`` as Python's csv module (and so most spreadsheets) would export them."""
    import csv

    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh, quoting=quoting, lineterminator=lineterminator)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("quoting", ["QUOTE_ALL", "QUOTE_NONNUMERIC", "QUOTE_MINIMAL"])
@pytest.mark.parametrize("lineterminator", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_read_table_accepts_quoted_numbers_any_line_ending_and_a_bom(tmp_path, quoting, lineterminator,
                                                                    encoding):
    import csv

    X = _data(n=5)
    # as strings, so QUOTE_ALL and QUOTE_NONNUMERIC both quote every number
    rows = [[repr(float(v)) for v in row] for row in X]
    for header in (None, ["a", "b, the second", 'c "3"']):
        path = _export(tmp_path / "x.csv", rows, getattr(csv, quoting), header, lineterminator, encoding)
        Y, names = read_table(path)
        np.testing.assert_array_equal(Y, X)              # repr round-trips float64 exactly
        assert names == header


def test_read_table_header_argument(tmp_path):
    path = tmp_path / "numeric.csv"
    path.write_text("1,2,3\n4,5,6\n")
    # auto: a line of numbers is data (a numeric header cannot be told from a row)
    X, names = read_table(path)
    assert X.shape == (2, 3) and names is None
    X, names = read_table(path, header=True)
    np.testing.assert_array_equal(X, [[4, 5, 6]])
    assert names == ["1", "2", "3"]
    assert read_table(path, header=False)[0].shape == (2, 3)
    # auto: one non-numeric field makes a header
    (tmp_path / "mixed.csv").write_text('"1","x",3\n4,5,6\n')
    assert read_table(tmp_path / "mixed.csv")[1] == ["1", "x", "3"]
    # header=False refuses a header line, naming file and line
    (tmp_path / "named.csv").write_text("\n\na,b\n1,2\n")
    with pytest.raises(DataError, match=r"named\.csv: line 3: 'a' is not a number \(the first line "
                                        r"looks like a header"):
        read_table(tmp_path / "named.csv", header=False)
    for bad in ("yes", 1, None, "Auto"):
        with pytest.raises(ValueError, match=f"header must be 'auto', True or False, got {bad!r}"):
            read_table(path, header=bad)
    np.save(tmp_path / "a.npy", np.ones((3, 2)))
    assert read_table(tmp_path / "a.npy", header=False)[0].shape == (3, 2)
    with pytest.raises(DataError, match=r"a\.npy: a \.npy array has no header line"):
        read_table(tmp_path / "a.npy", header=True)


@pytest.mark.parametrize("text, match", [
    ('1,2\n"3,4\n5,6\n', r"line 2: a quote opened there is never closed"),
    ('1,2\n"3"x,4\n', r"line 2: malformed CSV"),
    ("a,b\n1,2\n3,\n", r"line 3: field 2 is empty \(a missing value\)"),
    ("a,b\n\n1,2\n\n3,nan\n", r"NaN or infinite value\(s\), the first on line 5, column 2"),
    ("1;2\n3;4\n", r"line 2: '3;4' is not a number \(fields must be separated by commas\)"),
    ('a,b\n"1,5",2\n', r"line 2: '1,5' is not a number \(a decimal comma"),
    ('a,b\n"1\n2",3\n', r"line 2: '1\\n2' is not a number"),
    ("a,b\n1,2,3\n", r"line 2 has 3 values, expected 2"),
    # pandas' to_csv with its index: the index column would be trained on silently.
    (",a,b\n0,1,2\n1,3,4\n", r"line 1: the header's field 1 is empty \(an index column written by pandas"),
    ("a,b,\n1,2,\n", r"line 1: the header's field 3 is empty \(a trailing comma"),
    ("a,,b\n1,2,3\n", r"line 1: the header's field 2 is empty; give every column a name"),
    ("a,b\n1,2,\n3,4,\n", r"line 2 has 3 values, expected 2, .*\(a trailing comma"),
    ("# my data\na,b\n1,2\n", r"line 2 has 2 values, expected 1, as many as the header on line 1"),
    ("a;b\n1,5;2,5\n", r"line 2 has 3 values, expected 1, .*\(fields must be separated by commas\)"),
])
def test_read_table_errors_name_the_file_and_line(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode())
    with pytest.raises(DataError, match=r"bad\.csv: .*" + match):
        read_table(path)


def test_read_table_of_a_directory_says_so(tmp_path):
    (tmp_path / "data.csv").mkdir()
    with pytest.raises(DataError, match=r"data\.csv is a directory, not a file"):
        read_table(tmp_path / "data.csv")


def test_command_line_header_option_and_a_numeric_header_is_never_taken_as_a_row(tmp_path, capsys):
    X = _data(n=60)
    numeric = _csv(tmp_path / "numeric.csv", X, ["1", "2", "3"])
    model = tmp_path / "m.npz"
    assert _main(["train", numeric, "-o", model, "--epochs", "1", "--header", "yes"]) == 0
    capsys.readouterr()
    # scoring the same file: with --header yes one score per data row ...
    assert _main(["score", model, numeric, "-o", tmp_path / "s.csv", "--header", "yes"]) == 0
    assert read_table(tmp_path / "s.csv")[0].shape == (60, 1)
    # ... and with the default (auto) an error, not a silent extra row
    capsys.readouterr()
    _one_line_error(capsys, ["score", model, numeric], "pass --header yes if it is a header")
    # a data file without the header scores as before
    plain = _csv(tmp_path / "plain.csv", X)
    assert _main(["score", model, plain, "-o", tmp_path / "p.csv"]) == 0
    np.testing.assert_array_equal(read_table(tmp_path / "p.csv")[0], read_table(tmp_path / "s.csv")[0])
    # --header no on a named file: one line naming the file and line 1
    named = _csv(tmp_path / "named.csv", X, ["a", "b", "c"])
    capsys.readouterr()
    _one_line_error(capsys, ["train", named, "-o", model, "--header", "no"], "named.csv: line 1: 'a'")


def test_sampled_csv_keeps_header_names_with_commas_and_quotes(tmp_path, capsys):
    import csv

    header = ["bytes, sent", 'say "hi"', "c"]
    data = _export(tmp_path / "d.csv", _data(n=60).tolist(), csv.QUOTE_MINIMAL, header)
    model = tmp_path / "m.npz"
    assert _main(["train", data, "-o", model, "--epochs", "1"]) == 0
    assert _main(["sample", model, "-n", "4", "-o", tmp_path / "s.csv"]) == 0
    S, names = read_table(tmp_path / "s.csv")
    assert S.shape == (4, 3) and names == header
