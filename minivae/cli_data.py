"""Command line for your own data: ``minivae train``, ``minivae score``, ``minivae sample``.

::

    minivae train --model vae data.csv -o model.npz [--latent 2 --hidden 32 --epochs 100 ...]
    minivae score model.npz data.csv -o scores.csv [--score reconstruction --n-mc 10]
    minivae sample model.npz -n 100 -o samples.csv [--noise --seed 0]

Input is a CSV file (comma-separated numbers, quoted or not, with or without one
header line: ``--header auto|yes|no``, see :func:`read_table`) or a ``.npy`` array
of shape (n_rows, n_features). ``train`` standardises the
columns by default (mean and standard deviation of the training rows, after an
optional log1p of chosen columns) and stores that preprocessing inside the
model file, so ``score`` and ``sample`` work in the original units. The model
file is an ordinary minivae model (``minivae.load`` reads it); the
preprocessing sits beside the parameters under ``cli/...`` keys.

``score`` writes one number per row, the anomaly score: HIGHER = MORE
ANOMALOUS (the reconstruction score (3.1), or −ln p(x) / −ELBO with
``--score likelihood`` / ``--score elbo``).

A malformed option value (``--epochs 0``, ``--lr nan``, ``--hidden 8,x``) is
refused by argparse before anything runs: exit status 2. A missing file, a
malformed CSV, a wrong number of columns, a NaN, or a request the model cannot
meet ends the command with exit status 1. Either way one line on stderr names
the problem, never a traceback.

These are functions for ``minivae.cli``: ``add_data_parsers(subparsers)``
registers the three commands, each with its ``run_*`` function as ``func``.
"""

import argparse
import csv
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from . import models
from ._atomic import write_atomic
from .anomaly import model_anomaly_score
from .cli import _hidden_sizes, _nonnegative_float, _positive_float, _positive_int, _seed
from .preprocessing import Standardizer

__all__ = ["add_data_parsers", "run_train", "run_score", "run_sample", "read_table", "DataError"]


class DataError(ValueError):
    """A user-facing problem with an input file or option; its message is one line."""


# ====================================================================== files
_HEADER_CHOICES = ("auto", True, False)


def read_table(path, header="auto"):
    """Read a numeric table from a CSV or ``.npy`` file.

    Parameters
    ----------
    path : str or Path
        ``.npy``: a 2-D (or 1-D, one column) numeric array. Anything else is
        read as CSV with the standard library's ``csv`` module: comma-separated
        numbers, every row with the same count. A field may be quoted
        (``"1.5"``, as spreadsheets and ``QUOTE_ALL`` exports write it) and
        surrounded by spaces. Blank lines are skipped.
    header : {"auto", True, False}, default "auto"
        Whether the first non-blank line holds column names.

        * ``"auto"``: it does if any of its fields is not a number
          (``a,b,c``, ``x1,2,3``). A first line of numbers only is **data**:
          a header of numeric names such as ``1,2,3`` cannot be told from a
          row of values, so pass ``header=True`` for one.
        * ``True``: the first line is the header, whatever it holds.
        * ``False``: there is no header; a first line that is not all numbers
          is an error, like any other non-numeric field.

        Ignored for ``.npy`` files except that ``True`` is refused (an array
        has no header line).

    Returns
    -------
    X : ndarray of shape (n_rows, n_columns), float64
    names : list of str or None
        The header's column names (stripped of spaces and quotes), if there was
        a header.

    Raises
    ------
    DataError
        Missing or unreadable file (or a directory), malformed CSV (an
        unclosed quote, text after a closing quote), a non-numeric field,
        ragged rows, a header with an empty name (pandas' index column, a
        trailing comma), NaN or infinity, no data rows, ``header=True`` for a
        ``.npy`` file. The message names the file and,
        for a CSV, the line.
    ValueError
        If ``header`` is not ``"auto"``, True or False.
    """
    if not any(header is choice or (isinstance(header, str) and header == choice)
               for choice in _HEADER_CHOICES):
        raise ValueError(f"header must be 'auto', True or False, got {header!r}")
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a file")
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.suffix.lower() == ".npy":
        if header is True:
            raise DataError(f"{path}: a .npy array has no header line; drop header=True (--header yes)")
        try:
            X = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable .npy array ({exc})") from None
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.dtype == object or not np.issubdtype(X.dtype, np.number):
            raise DataError(f"{path}: expected a 2-D numeric array, got shape {X.shape} of {X.dtype}")
        X, names, lines = X.astype(np.float64), None, None
    else:
        X, names, lines = _read_csv(path, header)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{path}: no data (shape {X.shape})")
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        where = f"line {lines[row]}" if lines is not None else f"row {row + 1}"
        raise DataError(f"{path}: {int(bad.sum())} NaN or infinite value(s), the first on "
                        f"{where}, column {col + 1}")
    return X, names


def _read_csv(path, header):
    """``(X, names, line numbers of X's rows)`` of a CSV file; see :func:`read_table`."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it as UTF-8 text ({type(exc).__name__}: {exc})") from None
    # newline="" hands the csv module the line endings untouched (LF, CRLF or CR), as
    # its documentation asks; skipinitialspace lets `1, "2"` through like `1,"2"`;
    # strict turns an unclosed quote (which would swallow the rest of the file into
    # one field) or text after a closing quote into an error instead of a guess.
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True)
    records = []
    while True:
        start = reader.line_num + 1              # a quoted field may span lines
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            why = ("a quote opened there is never closed" if "end of data" in str(exc)
                   else f"malformed CSV: {exc}")
            raise DataError(f"{path}: line {start}: {why}") from None
        fields = [f.strip() for f in fields]
        if len(fields) <= 1 and not any(fields):
            continue                             # a blank line
        records.append((start, fields))
    if not records:
        raise DataError(f"{path}: the file is empty")
    names = None
    first_line, first = records[0]
    if header is True or (header == "auto" and not all(_is_number(c) for c in first)):
        names, records = first, records[1:]
        if "" in names:
            # An unnamed column: pandas' to_csv writes its index that way, and training
            # on row numbers would go unnoticed.
            j = names.index("")
            why = ("an index column written by pandas? write the file with index=False or drop "
                   "the column" if j == 0 else
                   "a trailing comma? remove it from every line" if j == len(names) - 1 else None)
            raise DataError(f"{path}: line {first_line}: the header's field {j + 1} is empty"
                            + (f" ({why})" if why else "; give every column a name"))
        if not records:
            raise DataError(f"{path}: a header line but no data rows")
    n_cols = len(first)
    rows, lines = [], []
    for lineno, cells in records:
        if len(cells) != n_cols:
            where = f", as many as the header on line {first_line}" if names is not None else ""
            hint = ""
            if any(";" in c or "\t" in c for c in first):
                hint = " (fields must be separated by commas)"
            elif len(cells) == n_cols + 1 and cells[-1] == "":
                hint = " (a trailing comma? remove it from every line)"
            raise DataError(f"{path}: line {lineno} has {len(cells)} values, expected {n_cols}"
                            f"{where}{hint}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            col, bad = next((j, c) for j, c in enumerate(cells) if not _is_number(c))
            if bad == "":
                raise DataError(f"{path}: line {lineno}: field {col + 1} is empty (a missing "
                                "value); no row is dropped silently, fill it or remove the line") from None
            hint = ""
            if lineno == first_line and header is False:
                hint = " (the first line looks like a header: drop header=False / --header no)"
            elif ";" in bad or "\t" in bad:
                hint = " (fields must be separated by commas)"
            elif "," in bad:
                hint = " (a decimal comma? write 1.5, not 1,5)"
            raise DataError(f"{path}: line {lineno}: {bad!r} is not a number{hint}") from None
        lines.append(lineno)
    return np.array(rows, dtype=np.float64), names, lines


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_numeric_header_row(values, names):
    """True if ``names`` are all numbers and ``values`` (a parsed row) equal them."""
    if not names or len(names) != len(values) or not all(_is_number(n) for n in names):
        return False
    return bool(np.all(np.array([float(n) for n in names]) == values))


def _write_table(path, X, names=None):
    """Write rows as CSV (a header line if ``names``) to ``path``, or stdout for None / "-".

    The header goes through ``csv.writer``, so a name with a comma or a quote is
    quoted and reads back intact.
    """
    buf = io.StringIO()
    if names:
        csv.writer(buf, lineterminator="\n").writerow(names)
    np.savetxt(buf, X, delimiter=",", fmt="%.10g")
    if path in (None, "-"):
        sys.stdout.write(buf.getvalue())
        return
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"cannot write {path}: no directory {path.parent}")
    write_atomic(path, lambda fh: fh.write(buf.getvalue().encode("utf-8")))


# ====================================================================== model file with preprocessing
def _save_with_preprocessing(model, path, prep):
    """``model.save(path)``, then add the preprocessing arrays under ``cli/`` keys."""
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"cannot write {path}: no directory {path.parent}")
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["cli/meta"] = np.array(json.dumps(prep["meta"]))
    for key in ("mean", "scale"):
        arrays[f"cli/{key}"] = prep[key]
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def _load_with_preprocessing(path):
    """Load a model written by ``train``: ``(model, Standardizer or None, meta)``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such model file: {path}")
    model = models.load(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["cli/meta"])) if "cli/meta" in data.files else {}
            mean = data["cli/mean"] if "cli/mean" in data.files else None
            scale = data["cli/scale"] if "cli/scale" in data.files else None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: unreadable model file ({exc})") from None
    scaler = None
    if meta.get("standardize"):
        scaler = Standardizer(log1p_columns=tuple(meta.get("log1p_columns", ())))
        scaler.mean_, scaler.scale_ = mean, scale
        scaler.log1p_indices_ = [int(j) for j in meta.get("log1p_columns", ())]
        scaler.n_features_in_ = len(mean)
    return model, scaler, meta


def _check_columns(X, meta, path):
    n = meta.get("n_features", X.shape[1])
    if X.shape[1] != n:
        raise DataError(f"{path} has {X.shape[1]} columns, but the model was trained on {n}")


# ====================================================================== commands
def _log1p_columns(spec, names, n_features):
    """Column indices from "0,2" or "src_bytes,dst_bytes" (names need a header)."""
    if not spec:
        return ()
    cols = []
    for item in (s.strip() for s in spec.split(",")):
        if item.lstrip("-").isdigit():
            idx = int(item)
        elif names is not None and item in names:
            idx = names.index(item)
        else:
            known = f"; the header has {names}" if names else " (the data has no header)"
            raise DataError(f"--log1p: unknown column {item!r}{known}")
        if not 0 <= idx < n_features:
            raise DataError(f"--log1p: column {idx} is out of range for {n_features} columns")
        cols.append(idx)
    return tuple(cols)


# At most this many rows from ``sample``: 10⁷ rows of a few columns is already
# hundreds of MB of CSV.
MAX_SAMPLE_ROWS = 10_000_000


def _n_rows(text):
    """argparse type of ``sample -n``: a number of rows from 1 to ``MAX_SAMPLE_ROWS``."""
    value = _positive_int(text)
    if value > MAX_SAMPLE_ROWS:
        raise argparse.ArgumentTypeError(f"must be a number of rows from 1 to 10,000,000, got {value}")
    return value


def _make_user_model(args):
    common = dict(n_latent=args.latent, hidden_sizes=args.hidden,
                  activation=args.activation, n_epochs=args.epochs, batch_size=args.batch_size,
                  lr=args.lr, random_state=args.seed, verbose=args.verbose)
    if args.model == "vae":
        return models.VAE(sigma2=args.sigma2, **common)
    if args.model == "wae":
        return models.WAE(sigma2=args.sigma2, kernel=args.kernel, lam=args.lam, **common)
    if args.model == "emvae":
        return models.EMVAE(sigma2=args.sigma2, n_components=args.components, **common)
    return models.VampPriorVAE(sigma2=args.sigma2, n_pseudo=args.pseudo_inputs, **common)


def _run(command, body, args):
    try:
        return body(args)
    except (DataError, OSError, ValueError, TypeError, FloatingPointError, MemoryError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__   # one line, whatever it held
        print(f"minivae {command}: error: {message}", file=sys.stderr)
        return 1


def _check_output(output, inputs, model_file):
    """Refuse an output that would overwrite an input, or put CSV in a model file (or vice versa)."""
    if output in (None, "-"):
        return
    target = Path(output).resolve()
    for path in inputs:
        if Path(path).resolve() == target:
            raise DataError(f"-o {output} is also an input file; refusing to overwrite it")
    if model_file and target.suffix != ".npz":
        raise DataError(f"-o must name a model file ending in .npz, got {output}")
    if not model_file and target.suffix == ".npz":
        raise DataError(f"-o {output} looks like a model file; write the CSV to a .csv path")
    if target.is_dir():
        raise DataError(f"-o {output} is a directory; give a file name")


def _train(args):
    _check_output(args.output, [args.data], model_file=True)
    X, names = read_table(args.data, _HEADER_ARG[args.header])
    meta = {"n_features": X.shape[1], "columns": names, "standardize": not args.no_standardize,
            "log1p_columns": list(_log1p_columns(args.log1p, names, X.shape[1])), "model": args.model}
    prep = {"meta": meta, "mean": np.zeros(X.shape[1]), "scale": np.ones(X.shape[1])}
    Z = X
    if meta["standardize"]:
        scaler = Standardizer(log1p_columns=tuple(meta["log1p_columns"])).fit(X)
        Z = scaler.transform(X)
        prep["mean"], prep["scale"] = scaler.mean_, scaler.scale_
    elif meta["log1p_columns"]:
        raise DataError("--log1p needs standardisation (drop --no-standardize)")
    model = _make_user_model(args).fit(Z)
    _save_with_preprocessing(model, args.output, prep)
    loss = model.history_["loss"][-1]
    print(f"trained {type(model).__name__} on {X.shape[0]} rows x {X.shape[1]} columns, "
          f"final loss {loss:.4f}; saved {args.output}")
    return 0


def _score(args):
    _check_output(args.output, [args.model_file, args.data], model_file=False)
    model, scaler, meta = _load_with_preprocessing(args.model_file)
    X, names = read_table(args.data, _HEADER_ARG[args.header])
    _check_columns(X, meta or {"n_features": model.n_features_in_}, args.data)
    trained = (meta or {}).get("columns")
    if names is None and args.header == "auto" and _is_numeric_header_row(X[0], trained):
        # Trained with --header yes on numeric names ("1,2,3"), and this file starts with
        # exactly those names: header or data cannot be told apart, so ask.
        raise DataError(f"{args.data}: its first line {','.join(trained)} equals the column names "
                        "the model was trained with; pass --header yes if it is a header, "
                        "--header no if it is data")
    if names is not None and trained is not None and list(names) != list(trained):
        raise DataError(f"{args.data} has columns {names}, but the model was trained on {trained} "
                        "(same names in the same order are needed)")
    Z = scaler.transform(X) if scaler is not None else X
    scores = model_anomaly_score(model, Z, args.score, n_mc=args.n_mc, random_state=args.seed)
    _write_table(args.output, scores[:, None], ["anomaly_score"])
    if args.output not in (None, "-"):
        print(f"scored {len(scores)} rows (higher = more anomalous); wrote {args.output}")
    return 0


def _sample(args):
    _check_output(args.output, [args.model_file], model_file=False)
    model, scaler, meta = _load_with_preprocessing(args.model_file)
    if not hasattr(model, "sample"):
        raise DataError(f"a {type(model).__name__} has no prior to sample from; use a vae, wae, "
                        "emvae or vampprior model")
    S = model.sample(args.n, random_state=args.seed, noise=args.noise)
    if scaler is not None:
        S = scaler.inverse_transform(S)
    _write_table(args.output, S, meta.get("columns"))
    if args.output not in (None, "-"):
        print(f"wrote {args.n} samples to {args.output}")
    return 0


def run_train(args):
    """``minivae train``: fit a model on a CSV/.npy file and save it; returns the exit code."""
    return _run("train", _train, args)


def run_score(args):
    """``minivae score``: anomaly score per row (higher = more anomalous); returns the exit code."""
    return _run("score", _score, args)


def run_sample(args):
    """``minivae sample``: draw rows from a trained model, in the data's units; returns the exit code."""
    return _run("sample", _sample, args)


_HEADER_ARG = {"auto": "auto", "yes": True, "no": False}


def _add_header_option(parser):
    parser.add_argument("--header", choices=tuple(_HEADER_ARG), default="auto",
                        help="does the CSV's first line hold column names? auto (default): yes if "
                             "any of its fields is not a number; a numeric header such as 1,2,3 "
                             "needs --header yes")


def add_data_parsers(subparsers):
    """Register ``train``, ``score`` and ``sample`` on an argparse subparsers object."""
    train = subparsers.add_parser("train", help="train a model on your CSV or .npy data",
                                  description="Train a model on numeric data (CSV with or without "
                                              "a header, or .npy) and save it with its preprocessing.")
    train.add_argument("data", help="CSV or .npy file, one row per sample")
    train.add_argument("-o", "--output", required=True, help="model file to write (.npz)")
    _add_header_option(train)
    train.add_argument("--model", choices=("vae", "wae", "emvae", "vampprior"), default="vae")
    train.add_argument("--latent", type=_positive_int, default=2, help="latent dimension nz (default: 2)")
    train.add_argument("--hidden", type=_hidden_sizes, default=(32,), help="hidden widths, comma-separated (default: 32)")
    train.add_argument("--activation", default="swish", help="hidden activation (default: swish)")
    train.add_argument("--epochs", type=_positive_int, default=100, help="training epochs (default: 100)")
    train.add_argument("--batch-size", type=_positive_int, default=100, help="minibatch size (default: 100)")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (default: 0.001)")
    train.add_argument("--sigma2", type=_positive_float, default=1.0,
                       help="decoder variance ω², in standardised units (default: 1)")
    train.add_argument("--kernel", choices=("gaussian", "imq"), default="imq", help="WAE kernel")
    train.add_argument("--lam", type=_nonnegative_float, default=1.0, help="WAE MMD weight λ (default: 1)")
    train.add_argument("--components", type=_positive_int, default=2, help="EMVAE mixture components")
    train.add_argument("--pseudo-inputs", type=_positive_int, default=50,
                       help="VampPrior pseudo-inputs K (default: 50)")
    train.add_argument("--no-standardize", action="store_true",
                       help="train on the raw columns (default: standardise them)")
    train.add_argument("--log1p", default="",
                       help="columns to log1p before standardising: indices or header names, comma-separated")
    train.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    train.add_argument("--verbose", action="store_true", help="print the loss while training")
    train.set_defaults(func=run_train)

    score = subparsers.add_parser("score", help="anomaly score per row (higher = more anomalous)")
    score.add_argument("model_file", help="model file written by 'minivae train'")
    score.add_argument("data", help="CSV or .npy file with the training's columns")
    score.add_argument("-o", "--output", default=None, help="CSV file to write (default: stdout)")
    _add_header_option(score)
    score.add_argument("--score", choices=("reconstruction", "likelihood", "elbo"),
                       default="reconstruction",
                       help="reconstruction score (3.1), or minus score_samples (the model's ln p(x) "
                            "estimate; for a WAE, the reconstruction log-density at the code "
                            "mean), or −ELBO")
    score.add_argument("--n-mc", type=_positive_int, default=10, help="draws of z per row (default: 10)")
    score.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    score.set_defaults(func=run_score)

    sample = subparsers.add_parser("sample", help="draw new rows from a trained model")
    sample.add_argument("model_file", help="model file written by 'minivae train'")
    sample.add_argument("-n", type=_n_rows, default=100, help="number of rows (default: 100)")
    sample.add_argument("-o", "--output", default=None, help="CSV file to write (default: stdout)")
    sample.add_argument("--noise", action="store_true",
                        help="add the decoder's observation noise, x ~ N(f(z), ω²I) (default: the "
                             "decoder means f(z), which spread less than the data)")
    sample.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    sample.set_defaults(func=run_sample)
    return train, score, sample
