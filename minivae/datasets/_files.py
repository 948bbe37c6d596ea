"""Data files: where they live, their checksums, downloads, caches and clear read errors.

The loaders in ``uci`` and ``mnist`` read the original files from the data
home: the ``data_home`` argument, else ``$MINIVAE_DATA``, else
``~/.minivae/data``. A missing file is downloaded from its official address,
checked against the SHA-256 written below, and saved atomically (temporary
file, then rename). A file that does not match is never saved and raises
``ChecksumError``. Files already present are checked too (``verify=True``),
because the row counts the loaders promise hold only for these exact bytes.

Derived caches (the parsed KDD rows) never go into the data home, which may
be shared or read-only: they go into the cache home, ``$MINIVAE_CACHE``, else
``$XDG_CACHE_HOME/minivae``, else ``~/.cache/minivae``. Deleting it is always
safe.

A file that cannot be read -- truncated or corrupt gzip, a wrong IDX header,
a CSV row with a missing value such as ``nan`` or ``?`` -- raises one
``DataFileError`` naming the file. No row is ever dropped silently.
"""

import csv
import gzip
import hashlib
import http.client
import io
import math
import os
import stat
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .._atomic import write_atomic

import numpy as np

__all__ = ["ChecksumError", "DataFileError", "Dataset", "get_data_home", "get_cache_home"]


class ChecksumError(OSError):
    """A data file's SHA-256 is not the one this module expects."""


class DataFileError(ValueError):
    """A data file is truncated or corrupt, or holds a row that cannot be read.

    The message names the file and, for text files, the offending line.
    """


@dataclass(frozen=True)
class _Remote:
    sha256: str
    urls: tuple
    zip_member: str = None   # the file sits inside a zip archive at each URL
    canonical_csv: bool = False   # hash and save the CSV in canonical form (see _canonical_csv)


_MNIST_URLS = ("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")

# Checksums of the files documented in data/*/PROVENANCE.md. HTRU2's is the
# checksum of the canonical CSV (header removed, LF line endings), because UCI's
# archive and the GitHub copies differ only in headers and line endings.
_REMOTE = {
    "htru2/HTRU_2.csv": _Remote(
        sha256="b2b388ceaa9718d00f6feba97bfe7096ee61996526cee2bea94e9dd034e9cbbe",
        urls=(
            "https://archive.ics.uci.edu/static/public/372/htru2.zip",
            "https://archive.ics.uci.edu/ml/machine-learning-databases/00372/HTRU2.zip",
        ),
        zip_member="HTRU_2.csv",
        canonical_csv=True,
    ),
    "kddcup99/kddcup.data_10_percent.gz": _Remote(
        sha256="8045aca0d84e70e622d1148d7df782496f6333bf6eb979a1b0837c42a9fd9561",
        urls=(
            "http://kdd.ics.uci.edu/databases/kddcup99/kddcup.data_10_percent.gz",
            "https://archive.ics.uci.edu/ml/machine-learning-databases/kddcup99-mld/"
            "kddcup.data_10_percent.gz",
        ),
    ),
    "mnist/train-images-idx3-ubyte.gz": _Remote(
        sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        urls=tuple(u + "train-images-idx3-ubyte.gz" for u in _MNIST_URLS),
    ),
    "mnist/train-labels-idx1-ubyte.gz": _Remote(
        sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        urls=tuple(u + "train-labels-idx1-ubyte.gz" for u in _MNIST_URLS),
    ),
    "mnist/t10k-images-idx3-ubyte.gz": _Remote(
        sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        urls=tuple(u + "t10k-images-idx3-ubyte.gz" for u in _MNIST_URLS),
    ),
    "mnist/t10k-labels-idx1-ubyte.gz": _Remote(
        sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        urls=tuple(u + "t10k-labels-idx1-ubyte.gz" for u in _MNIST_URLS),
    ),
}

_DOWNLOAD_TIMEOUT = 60.0

# What a failed download attempt can raise, besides OSError (URLError, timeouts,
# BadGzipFile): a connection dropped mid-transfer is http.client.IncompleteRead,
# an HTTPException; a broken zip member raises BadZipFile, zlib.error or EOFError;
# a payload that is not the expected CSV raises DataFileError (a ValueError).
_DOWNLOAD_ERRORS = (OSError, http.client.HTTPException, zipfile.BadZipFile, zlib.error,
                    EOFError, KeyError, ValueError)


def get_data_home(data_home=None):
    """Return the data directory as an absolute Path (it need not exist yet).

    ``data_home`` if given, else ``$MINIVAE_DATA``, else ``~/.minivae/data``.
    A relative path is taken relative to the current directory. minivae only
    reads here, and writes only the files it downloads; it may be read-only.
    """
    if data_home is None:
        data_home = os.environ.get("MINIVAE_DATA") or os.path.join("~", ".minivae", "data")
    return Path(os.path.abspath(os.path.expanduser(os.fspath(data_home))))


def get_cache_home(cache_home=None):
    """Return the cache directory for derived files as an absolute Path.

    ``cache_home`` if given, else ``$MINIVAE_CACHE``, else
    ``$XDG_CACHE_HOME/minivae``, else ``~/.cache/minivae``. It holds only
    files that can be recomputed from the data (the parsed KDD rows); each is
    keyed on its source file's SHA-256, so deleting the directory is safe.
    """
    if cache_home is None:
        cache_home = os.environ.get("MINIVAE_CACHE")
    if not cache_home:
        xdg = os.environ.get("XDG_CACHE_HOME")
        cache_home = os.path.join(xdg, "minivae") if xdg else os.path.join("~", ".cache", "minivae")
    return Path(os.path.abspath(os.path.expanduser(os.fspath(cache_home))))


# Fields that mean "no value" in the CSV files people pass around; a row with one
# is an error, not a header and not something to skip.
_MISSING_MARKS = frozenset({"", "?", "na", "n/a", "nan", "-nan", "+nan", "null", "none"})


def _is_text_field(field):
    """True if ``field`` is a word (a header name), not a number and not a missing mark."""
    field = field.strip().strip("\"'")
    if field.lower() in _MISSING_MARKS:
        return False
    try:
        float(field)
    except ValueError:
        return True
    return False


def _canonical_csv(data):
    """Return a numeric CSV as ASCII bytes with header lines dropped, quotes removed and LF endings.

    UCI's HTRU_2.csv and its copies differ in header lines, line endings (LF,
    CR or CRLF) and, in spreadsheet exports, quotes around the numbers
    (``"1.5","2"``); this form makes their checksums comparable.

    Each line is split by the standard library's ``csv`` module, so a quoted
    field counts as its content and is written back without the quotes; an
    unquoted line is kept byte for byte. Blank lines are dropped. A line
    holding a word (``a,b,class``) before the first data line is a header and
    is dropped; a first line of numbers only is data, never a header (a
    numeric header would then fail the checksum, or the loader's column and
    class checks with ``verify=False``). Every other line must be all finite
    numbers: a missing value (``nan``, ``?``, an empty field), an infinity, a
    word after the data began or a malformed quote raises ``DataFileError``
    with the line number, so no row is ever dropped silently.

    Raises
    ------
    DataFileError
        If ``data`` is not ASCII, or a line is neither a header before the
        data nor a row of finite numbers. The caller adds the file name.
    """
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"not an ASCII CSV file (byte {data[exc.start]:#04x} at offset "
                            f"{exc.start}); is it compressed or corrupt?") from None
    rows = []
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if '"' not in line:
            fields = line.split(",")             # what csv would give, three times faster
        else:
            try:
                # one line at a time: a numeric row never spans lines, and an unclosed
                # quote must not swallow the rest of the file
                fields = next(csv.reader([line], strict=True))
            except csv.Error:
                fields = None
        try:
            values = [float(f) for f in fields] if fields is not None else None
        except ValueError:
            values = None
        if values is not None and all(math.isfinite(v) for v in values):
            rows.append(",".join(fields))
            continue
        if fields is not None and not rows and any(_is_text_field(f) for f in fields):
            continue   # a header line
        shown = line if len(line) <= 80 else line[:77] + "..."
        if fields is None:
            what = "is not valid CSV (a stray or unclosed quote)"
        elif values is None and rows and any(_is_text_field(f) for f in fields):
            what = "is not a row of numbers"
        else:
            what = "has a missing or non-finite value"
        raise DataFileError(f"line {number} {what}: {shown!r}. No row is dropped silently: "
                            "repair or remove that line")
    return ("\n".join(rows) + "\n").encode("ascii")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _gunzip(path):
    """Return the decompressed bytes of the gzip file ``path``, or raise DataFileError naming it."""
    try:
        return gzip.decompress(path.read_bytes())
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFileError(
            f"{path}: not a readable gzip file ({type(exc).__name__}: {exc}); it is truncated or "
            "corrupt. Delete it to download it again (and keep verify=True)"
        ) from None


def _dir_is_writable(directory):
    """True if we may write into ``directory``.

    A directory with no write permission bit at all counts as read-only even
    for root, who could write anyway: the shared data directory is kept
    read-only that way and must not receive caches or downloads.
    """
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _check_can_write(directory):
    """Raise PermissionError unless ``directory`` (or the ancestor that will hold it) is writable."""
    existing = directory
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not _dir_is_writable(existing):
        raise PermissionError(
            f"cannot save data into {directory}: {existing} is read-only; "
            "set MINIVAE_DATA (or pass data_home) to a writable directory"
        )


def _download(relpath, target):
    """Fetch ``relpath`` from its URLs, check its SHA-256 and save it atomically to ``target``."""
    remote = _REMOTE[relpath]
    # fail before any network traffic if the file could not be saved anyway
    _check_can_write(target.parent)
    failures, mismatches = [], []
    for url in remote.urls:
        request = urllib.request.Request(url, headers={"User-Agent": "minivae"})
        try:
            with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT) as response:
                payload = response.read()
            if remote.zip_member is not None:
                with zipfile.ZipFile(io.BytesIO(payload)) as archive:
                    payload = archive.read(remote.zip_member)
            if remote.canonical_csv:
                payload = _canonical_csv(payload)
        except _DOWNLOAD_ERRORS as exc:
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
            continue
        digest = _sha256(payload)
        if digest != remote.sha256:
            mismatches.append(f"{url}: got SHA-256 {digest}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, lambda f: f.write(payload))
        return
    if mismatches:
        raise ChecksumError(
            f"checksum mismatch for {relpath}: expected SHA-256 {remote.sha256}, but "
            + "; ".join(mismatches) + ". Nothing was saved."
            + (" Other URLs failed: " + "; ".join(failures) if failures else "")
        )
    raise OSError(
        f"could not download {relpath} into {target.parent}: " + "; ".join(failures)
        + f". Nothing was saved. Copy the file there by hand (SHA-256 {remote.sha256}), "
        "or point MINIVAE_DATA at a directory that holds it."
    )


def _data_file(relpath, data_home=None, download=True, verify=True):
    """Return ``(path, sha256)`` of a data file, downloading it if it is missing.

    The checksum is returned because the KDD cache is keyed on it. A CSV that
    cannot be put in canonical form raises ``DataFileError`` naming the file,
    with or without ``verify``.
    """
    remote = _REMOTE[relpath]
    path = get_data_home(data_home) / relpath
    if not path.is_file():
        if not download:
            raise FileNotFoundError(
                f"{path} not found and download=False; it can be fetched from {remote.urls[0]}"
            )
        _download(relpath, path)
    data = path.read_bytes()
    if remote.canonical_csv:
        try:
            data = _canonical_csv(data)
        except DataFileError as exc:
            raise DataFileError(f"{path}: {exc}") from None
    digest = _sha256(data)
    if verify and digest != remote.sha256:
        raise ChecksumError(
            f"{path} has SHA-256 {digest}, expected {remote.sha256}. It is not the file this "
            "loader's counts were checked on: delete it to download again, or pass "
            "verify=False to use it anyway"
        )
    return path, digest


def _writable_cache_dir(cache_home=None):
    """Return the cache home, created if needed, or None if it cannot be written.

    A cache is a convenience: an unwritable or uncreatable cache home disables
    writing it, silently, and never breaks loading.
    """
    directory = get_cache_home(cache_home)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory if _dir_is_writable(directory) else None


@dataclass(frozen=True)
class Dataset:
    """A loaded data set, returned when ``return_X_y=False``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,), int64
        Class: 1 = anomaly for HTRU2 (pulsar) and KDD (attack), the digit for MNIST.
    feature_names : tuple of str or None
    labels : ndarray of str or None
        The original label of each row (KDD: ``"normal."``, ``"back."``, ...).
    description : str
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple = None
    labels: np.ndarray = None
    description: str = ""
