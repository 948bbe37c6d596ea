"""Loaders for the UCI anomaly-detection sets of the thesis's chapter 3: HTRU2 and KDD Cup 1999.

``load_htru2`` and ``load_kddcup99`` read the original files from the data
home (see ``get_data_home``), downloading and checksumming them when missing
(``minivae.datasets._files``). Each documents the row counts it promises, the
numbers the thesis reports. The feature-name tuples let preprocessing choose
columns by name (``minivae.preprocessing.Standardizer(log1p_columns=...)``).
"""

import io
import math
import zipfile

import numpy as np

from .._atomic import write_atomic
from ._files import (
    DataFileError,
    Dataset,
    _canonical_csv,
    _data_file,
    _gunzip,
    _writable_cache_dir,
    get_cache_home,
)

__all__ = [
    "load_htru2",
    "load_kddcup99",
    "HTRU2_FEATURE_NAMES",
    "KDD_FEATURE_NAMES",
    "KDD_SYMBOLIC_FEATURES",
    "KDD_COUNT_LIKE_FEATURES",
    "KDD_THESIS_FEATURES",
    "KDD_HEAVY_TAILED_FEATURES",
]


# =====================================================================================
# HTRU2 (thesis §3.4; Lyon et al. 2016)
# =====================================================================================

HTRU2_FEATURE_NAMES = (
    "profile_mean", "profile_std", "profile_excess_kurtosis", "profile_skewness",
    "dm_snr_mean", "dm_snr_std", "dm_snr_excess_kurtosis", "dm_snr_skewness",
)


def load_htru2(return_X_y=True, data_home=None, download=True, verify=True):
    """Load HTRU2: 17,898 pulsar candidates, 8 features, 1,639 pulsars (thesis §3.4).

    Parameters
    ----------
    return_X_y : bool, default True
        Return ``(X, y)``; otherwise a ``Dataset`` with feature names.
    data_home : path or None
        Data directory (default ``$MINIVAE_DATA`` or ``~/.minivae/data``); the
        file is ``htru2/HTRU_2.csv``.
    download : bool, default True
        Fetch the file from UCI if it is missing.
    verify : bool, default True
        Check the file's SHA-256 (of its canonical form: header lines dropped,
        LF line endings, so a copy with a header or CR line endings passes).
        With ``verify=False`` any CSV of 9 numeric columns is read; a row with
        a missing value (``nan``, ``?``, empty) or a word after the first data
        row raises ``DataFileError`` naming the file and line.

    Returns
    -------
    X : ndarray of shape (17898, 8), float64
        Mean, standard deviation, excess kurtosis and skewness of the integrated
        pulse profile, then the same four of the DM-SNR curve.
    y : ndarray of shape (17898,), int64
        1 = pulsar (1,639 rows, the anomalies of the thesis), 0 = not (16,259).

    Notes
    -----
    The thesis trains on the non-pulsars and scores all rows (chapter 3).

    References
    ----------
    Lyon, R. J., Stappers, B. W., Cooper, S., Brooke, J. M. & Knowles, J. D. (2016).
    Fifty years of pulsar candidate selection. MNRAS 459(1), 1104-1123.
    UCI Machine Learning Repository, doi:10.24432/C5DK6R.
    """
    path, _ = _data_file("htru2/HTRU_2.csv", data_home, download, verify)
    # _data_file has checked that every non-header line is all finite numbers
    text = _canonical_csv(path.read_bytes()).decode("ascii")
    try:
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:   # rows of different lengths
        raise DataFileError(f"{path}: {exc}") from None
    if table.shape[1] != 9:
        raise DataFileError(f"{path}: expected 9 columns (8 features and the class), "
                            f"got {table.shape[1]}")
    if not np.isin(table[:, 8], (0.0, 1.0)).all():
        bad = table[~np.isin(table[:, 8], (0.0, 1.0)), 8][0]
        raise DataFileError(f"{path}: the class column must hold 0 or 1, found {bad!r}")
    X = np.ascontiguousarray(table[:, :8])
    y = table[:, 8].astype(np.int64)
    if return_X_y:
        return X, y
    return Dataset(X, y, HTRU2_FEATURE_NAMES, None, "HTRU2 pulsar candidates (UCI); y = 1 for pulsars")



# =====================================================================================
# KDD Cup 1999, 10 % training file (thesis §3.3)
# =====================================================================================

# The 41 features in file order (kddcup.names); field 42 is the label.
KDD_FEATURE_NAMES = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
)

# Declared "symbolic" in kddcup.names. Four of them are 0/1 flags and parse as numbers.
KDD_SYMBOLIC_FEATURES = (
    "protocol_type", "service", "flag", "land", "logged_in", "is_host_login", "is_guest_login",
)

# Declared "continuous" but really small counts. On the http rows every one of
# them takes only values in 0..4, mostly 0 (seven are constant 0). The thesis
# drops num_failed_logins "and similar features" (§3.3); these are they.
KDD_COUNT_LIKE_FEATURES = (
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "num_compromised", "root_shell",
    "su_attempted", "num_root", "num_file_creations", "num_shells", "num_access_files",
    "num_outbound_cmds",
)

# 41 − 7 symbolic − 12 count-like = 22: duration, the two byte counts, and the
# 19 traffic and host features (counts up to 511 and rates in [0, 1]).
KDD_THESIS_FEATURES = tuple(
    name for name in KDD_FEATURE_NAMES
    if name not in KDD_SYMBOLIC_FEATURES and name not in KDD_COUNT_LIKE_FEATURES
)

# Heavy-tailed columns worth a log1p before standardising (Standardizer).
KDD_HEAVY_TAILED_FEATURES = ("duration", "src_bytes", "dst_bytes")

# The fields that parse as numbers: everything but protocol_type, service, flag.
_KDD_NUMERIC = tuple(name for name in KDD_FEATURE_NAMES if name not in ("protocol_type", "service", "flag"))
_KDD_CACHE_VERSION = 2


def _parse_kdd(path, service):
    """Parse the gzipped CSV: the numeric fields, raw labels and a first-occurrence mask.

    Returns ``(X, labels, first)`` for the rows whose service is ``service``
    (all rows if None); ``X`` holds the 38 ``_KDD_NUMERIC`` fields and
    ``first[i]`` is False when row i repeats an earlier row in all 42 fields.
    A kept row with a missing value (``?``, ``nan``, an empty field) or the wrong
    number of fields raises ``DataFileError`` quoting it; none is skipped.
    """
    raw_lines = _gunzip(path).split(b"\n")
    if service is not None:
        # a substring test in C discards most lines; maxsplit=3 then checks the
        # candidates' third field without splitting all 42
        key = service.encode("ascii")
        needle = b"," + key + b","
        raw_lines = [line for line in raw_lines if needle in line and line.split(b",", 3)[2:3] == [key]]
    try:
        lines = [line.decode("ascii") for line in raw_lines if line.strip()]
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: holds non-ASCII bytes; it is not the KDD Cup CSV") from None
    if not lines:
        raise ValueError(f"service={service!r} matches no row of {path.name}")
    seen = set()
    first = np.empty(len(lines), dtype=bool)
    for i, line in enumerate(lines):
        first[i] = line not in seen
        seen.add(line)
    labels = np.array([line.rpartition(",")[2] for line in lines])
    cols = [KDD_FEATURE_NAMES.index(name) for name in _KDD_NUMERIC]
    # numpy's C parser: about half of the parse time for the 64,293 http rows
    try:
        X = np.loadtxt(lines, delimiter=",", usecols=cols, dtype=np.float64, ndmin=2)
    except ValueError:
        X = None
    if X is None or not np.isfinite(X).all():
        raise DataFileError(f"{path}: {_first_bad_kdd_row(lines, cols)}. No row is dropped "
                            "silently: repair the file or download it again")
    return X, labels, first


def _first_bad_kdd_row(lines, cols):
    """Describe the first line that does not hold 42 fields with finite numbers in ``cols``.

    Only called after parsing failed, so its Python loop costs nothing on good files.
    """
    for line in lines:
        fields = line.split(",")
        shown = line if len(line) <= 80 else line[:77] + "..."
        if len(fields) != len(KDD_FEATURE_NAMES) + 1:
            return f"a row has {len(fields)} fields instead of 42: {shown!r}"
        for c in cols:
            try:
                ok = math.isfinite(float(fields[c]))
            except ValueError:
                ok = False
            if not ok:
                return (f"a row has the missing or non-numeric value {fields[c]!r} in "
                        f"{KDD_FEATURE_NAMES[c]}: {shown!r}")
    return "a row cannot be parsed"


def _kdd_table(path, digest, service, cache):
    """``_parse_kdd`` with a .npz cache in the cache home, keyed on the file's SHA-256.

    The cache lives in ``get_cache_home()`` (never beside the data, which may
    be shared or read-only), under a name holding the checksum and the service,
    and only for a single service: all 494,021 rows would take 150 MB. It is
    written only if the cache home can be written (silently skipped otherwise).
    """
    if not cache or service is None:
        return _parse_kdd(path, service)
    name = f"kddcup99-{digest[:16]}-{service}.npz"
    cache_path = get_cache_home() / name
    if cache_path.is_file():
        try:
            with np.load(cache_path, allow_pickle=False) as z:
                if int(z["version"]) == _KDD_CACHE_VERSION and str(z["source_sha256"]) == digest:
                    return z["X"], z["labels"], z["first"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass   # unreadable or foreign cache: parse again and overwrite it
    X, labels, first = _parse_kdd(path, service)
    directory = _writable_cache_dir()
    if directory is not None:
        try:
            write_atomic(directory / name, lambda f: np.savez(
                f, X=X, labels=labels, first=first,
                source_sha256=np.array(digest), version=np.array(_KDD_CACHE_VERSION)))
        except OSError:
            pass   # a cache is a convenience; a full disk must not break loading
    return X, labels, first


def load_kddcup99(service="http", features=None, drop_duplicates=False, return_X_y=True,
                  data_home=None, download=True, verify=True, cache=True):
    """Load the KDD Cup 1999 10 % training file, filtered by service (thesis §3.3).

    Parameters
    ----------
    service : str or None, default "http"
        Keep rows whose third field (service) equals this; None keeps all 494,021.
    features : sequence of str or None
        Feature columns, by name from ``KDD_FEATURE_NAMES`` (not protocol_type,
        service or flag, which are strings). None means ``KDD_THESIS_FEATURES``.
    drop_duplicates : bool, default False
        Drop rows equal in all 42 fields (features and label) to an earlier row.
    return_X_y : bool, default True
        Return ``(X, y)``; otherwise a ``Dataset`` with feature names and the
        original labels.
    data_home : path or None
        Data directory; the file is ``kddcup99/kddcup.data_10_percent.gz``.
    download : bool, default True
        Fetch the file from UCI if it is missing.
    verify : bool, default True
        Check the file's SHA-256. Without it, a truncated or corrupt file, or a
        kept row with a missing value (``?``, ``nan``), raises ``DataFileError``
        naming the file.
    cache : bool, default True
        Keep the parsed rows of ``service`` (about 22 MB for http) in
        ``kddcup99-<sha256 prefix>-<service>.npz`` in the cache home:
        ``$MINIVAE_CACHE``, else ``$XDG_CACHE_HOME/minivae``, else
        ``~/.cache/minivae`` (see ``get_cache_home``). Nothing is written into
        the data directory, which may be shared or read-only. Skipped silently
        when the cache home cannot be written.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float64
        The 22 columns of ``KDD_THESIS_FEATURES`` by default, in file order.
    y : ndarray of shape (n_rows,), int64
        1 if the label is not ``"normal."`` (an attack), else 0.

    Notes
    -----
    Counts for ``service="http"``: 64,293 rows, 61,886 normal and 2,407 attacks
    (back 2,203, neptune 192, phf 4, ipsweep 3, portsweep 3, satan 2), the
    numbers in the thesis. With ``drop_duplicates=True``: 62,054 rows, 60,883
    normal, 1,171 attacks. scikit-learn's "http" subset also requires
    logged_in = 1 (58,725 rows); the thesis did not.

    Which columns (the thesis: "only continuous features", without the
    count-like ones such as num_failed_logins, values 0-4): of the 41 features,
    the 7 symbolic ones go (``KDD_SYMBOLIC_FEATURES``), and so do the 12
    nominally continuous small counts in ``KDD_COUNT_LIKE_FEATURES`` -- on the
    http rows each takes only values in 0..4, seven of them are constant. That
    leaves 22: duration, src_bytes, dst_bytes and the 19 time- and host-based
    traffic features. Pass ``features`` to choose others, e.g. all 34 declared
    continuous ones.

    Parsing the 494,021 lines (decompress, filter, ``numpy.loadtxt`` on the
    kept rows) took 0.9 s on an idle core here (2 s on a busy machine); a
    cache hit takes under 0.1 s. ``service=None`` parses all rows in 4-5 s.

    References
    ----------
    Stolfo, S., Fan, W., Lee, W., Prodromidis, A. & Chan, P. (1999). KDD Cup 1999
    Data. UCI Machine Learning Repository, doi:10.24432/C51C7N.
    An, J. & Cho, S. (2015). Variational autoencoder based anomaly detection using
    reconstruction probability. SNU Data Mining Center.
    """
    # service names are like "http", "ftp_data", "Z39_50"; the name also goes into the cache's file name
    if service is not None and not (isinstance(service, str) and service.isascii()
                                    and service.replace("_", "").isalnum()):
        raise ValueError(f"service must be a service name such as 'http', or None, got {service!r}")
    if features is None:
        features = KDD_THESIS_FEATURES
    if isinstance(features, str):
        raise ValueError(f"features must be a sequence of feature names, got the string {features!r}")
    features = tuple(features)
    if not features:
        raise ValueError("features must name at least one feature, got an empty sequence")
    for name in features:
        if name not in _KDD_NUMERIC:
            raise ValueError(
                f"features: {name!r} is not a numeric KDD feature; choose from KDD_FEATURE_NAMES "
                "except protocol_type, service and flag"
            )
    path, digest = _data_file("kddcup99/kddcup.data_10_percent.gz", data_home, download, verify)
    X_all, labels, first = _kdd_table(path, digest, service, cache)
    if drop_duplicates:
        X_all, labels = X_all[first], labels[first]
    X = np.ascontiguousarray(X_all[:, [_KDD_NUMERIC.index(name) for name in features]])
    y = (labels != "normal.").astype(np.int64)
    if return_X_y:
        return X, y
    what = "all services" if service is None else f"service == {service!r}"
    return Dataset(X, y, features, labels, f"KDD Cup 1999 10 % file, {what}; y = 1 for attacks")
