"""Data sets: the thesis's toy distributions and loaders for HTRU2, KDD Cup 1999, MNIST.

Toy generators (no files needed)
--------------------------------
``normal_1d``, ``normal_2d``, ``linear_2d``, ``banana``
    The four VAE toy sets of SPEC 4.1 (thesis Figs. 2.3-2.6 and 2.9-2.12).
``two_clusters``, ``three_clusters``
    The mixture sets of SPEC 4.1 (Fig. 2.13) and SPEC 7 (2.45).
``bars``
    Tiny binary images of horizontal or vertical bars, for image tutorials that
    must run without any download.

Each generator takes ``random_state`` (None, int or Generator): the same seed
gives bit-identical arrays. Its docstring states the analytic mean and
covariance, which the tests compare with sample moments.

Real data (SPEC 8)
------------------
``load_htru2``, ``load_kddcup99``, ``load_mnist`` read the original files from
the data home: the ``data_home`` argument, else the environment variable
``MINIVAE_DATA``, else ``~/.minivae/data``. The layout is::

    htru2/HTRU_2.csv
    kddcup99/kddcup.data_10_percent.gz
    mnist/train-images-idx3-ubyte.gz   mnist/train-labels-idx1-ubyte.gz
    mnist/t10k-images-idx3-ubyte.gz    mnist/t10k-labels-idx1-ubyte.gz

A missing file is downloaded from its official address (UCI; the MNIST site,
then the mirror torchvision uses), checked against the SHA-256 written in this
module, and saved atomically (temporary file, then rename). A file that does
not match is never saved and raises ``ChecksumError``. Files already present
are checked too (``verify=True``), because the row counts promised below hold
only for these exact bytes.

``Standardizer`` is the preprocessing the anomaly experiments use: optional
``log1p`` of chosen heavy-tailed columns, then centring and scaling with
statistics of the training normals (the thesis does not state its
preprocessing; SPEC 8.2 asks for it to be explicit).
"""

import gzip
import hashlib
import io
import os
import stat
import struct
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import (
    NotFittedError,
    check_array,
    check_dtype,
    check_positive_int,
    check_probability,
    check_random_state,
)

__all__ = [
    "normal_1d",
    "normal_2d",
    "linear_2d",
    "banana",
    "two_clusters",
    "three_clusters",
    "bars",
    "Dataset",
    "ChecksumError",
    "get_data_home",
    "load_htru2",
    "load_kddcup99",
    "load_mnist",
    "Standardizer",
    "HTRU2_FEATURE_NAMES",
    "KDD_FEATURE_NAMES",
    "KDD_SYMBOLIC_FEATURES",
    "KDD_COUNT_LIKE_FEATURES",
    "KDD_THESIS_FEATURES",
    "KDD_HEAVY_TAILED_FEATURES",
]


# =====================================================================================
# Toy generators (SPEC 4.1 and 7)
# =====================================================================================

def normal_1d(n=1000, random_state=None):
    """Draw ``n`` values from N(5, 3): mean 5, variance 3 (SPEC 4.1, case 1).

    Parameters
    ----------
    n : int, default 1000
        Number of samples (the thesis uses 1,000).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, 1), float64

    Notes
    -----
    x = 5 + sqrt(3) * e with e ~ N(0, 1), so E[x] = 5 and Var[x] = 3. The thesis
    writes N(5, 3) with the variance as second argument (Fig. 2.3).

    References
    ----------
    Kingma, D. P. & Welling, M. (2014). Auto-Encoding Variational Bayes. ICLR.
    """
    n = check_positive_int(n, "n")
    rng = check_random_state(random_state)
    return 5.0 + np.sqrt(3.0) * rng.standard_normal((n, 1))


def normal_2d(n=1000, random_state=None):
    """Draw ``n`` points from N((3, 5), I) (SPEC 4.1, case 2).

    Parameters
    ----------
    n : int, default 1000
        Number of samples. The thesis gives no size for this set; 1,000 matches
        its 1-D set.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, 2), float64

    Notes
    -----
    Mean (3, 5), covariance the 2x2 identity (Fig. 2.4).
    """
    n = check_positive_int(n, "n")
    rng = check_random_state(random_state)
    return np.array([3.0, 5.0]) + rng.standard_normal((n, 2))


def linear_2d(n=1000, random_state=None):
    """Case 2 pushed through x' = 2x + y, y' = x + y (SPEC 4.1, case 3).

    Parameters
    ----------
    n : int, default 1000
        Number of samples (no size in the thesis; 1,000 as for case 1).
    random_state : None, int or numpy.random.Generator
        The same seed gives exactly ``normal_2d(n, seed) @ A.T``.

    Returns
    -------
    X : ndarray of shape (n, 2), float64

    Notes
    -----
    With A = [[2, 1], [1, 1]] and v ~ N((3, 5), I), x' = A v is Gaussian with
    mean A (3, 5) = (11, 8) and covariance A Aᵀ = [[5, 3], [3, 2]] (Fig. 2.5).
    """
    v = normal_2d(n, random_state)
    A = np.array([[2.0, 1.0], [1.0, 1.0]])
    return v @ A.T


def banana(n=1000, random_state=None):
    """A standard 2-D normal bent into a banana: x' = x/2 + y², y' = 2y (SPEC 4.1, case 4).

    Parameters
    ----------
    n : int, default 1000
        Number of samples (no size in the thesis; 1,000 as for case 1).
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    X : ndarray of shape (n, 2), float64

    Notes
    -----
    Not Gaussian. With x, y ~ N(0, 1) independent: E[x'] = E[y²] = 1, E[y'] = 0;
    Var[x'] = 1/4 + Var[y²] = 1/4 + 2 = 9/4, Var[y'] = 4, and
    Cov[x', y'] = 2 E[y³] = 0. So mean (1, 0), covariance diag(9/4, 4) (Fig. 2.6;
    the thesis needs nh = 4 hidden units for it).
    """
    n = check_positive_int(n, "n")
    rng = check_random_state(random_state)
    e = rng.standard_normal((n, 2))
    x, y = e[:, 0], e[:, 1]
    return np.column_stack([0.5 * x + y**2, 2.0 * y])


def _gaussian_clusters(means, sizes, rng, shuffle, return_labels):
    """Stack ``sizes[k]`` draws of N(means[k], I) per cluster, optionally shuffled."""
    means = np.asarray(means, dtype=np.float64)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    X = means[labels] + rng.standard_normal((labels.size, means.shape[1]))
    if shuffle:
        order = rng.permutation(labels.size)
        X, labels = X[order], labels[order]
    if return_labels:
        return X, labels.astype(np.int64)
    return X


def _check_sizes(sizes, name, length):
    if isinstance(sizes, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of {length} positive ints, got {sizes!r}")
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of {length} positive ints, got {sizes!r}") from None
    if len(sizes) != length:
        raise ValueError(f"{name} must be a sequence of {length} positive ints, got {sizes!r}")
    return tuple(check_positive_int(s, name) for s in sizes)


def two_clusters(n1=2000, n2=1000, random_state=None, shuffle=True, return_labels=False):
    """``n1`` points from N(0, I) and ``n2`` from N((0, 10), I) (SPEC 4.1, Fig. 2.13).

    Parameters
    ----------
    n1, n2 : int, default 2000 and 1000
        Cluster sizes, as in the thesis.
    random_state : None, int or numpy.random.Generator
    shuffle : bool, default True
        Shuffle the rows (with the same Generator); otherwise cluster 0 comes first.
    return_labels : bool, default False
        Also return the cluster index (0 or 1) of each row.

    Returns
    -------
    X : ndarray of shape (n1 + n2, 2), float64
    labels : ndarray of shape (n1 + n2,), int64
        Only if ``return_labels``.

    Notes
    -----
    The sizes are fixed, not drawn. As a mixture with weights w = (n1, n2)/(n1 + n2)
    the analytic moments are mean (0, 10 w2) and covariance
    I + diag(0, 100 w1 w2); for the defaults mean (0, 10/3) and
    covariance diag(1, 1 + 200/9). A plain VAE smears its samples between the two
    clusters; this is the set that motivates WAE priors and EMVAE (SPEC 7).
    """
    n1 = check_positive_int(n1, "n1")
    n2 = check_positive_int(n2, "n2")
    rng = check_random_state(random_state)
    return _gaussian_clusters([[0.0, 0.0], [0.0, 10.0]], (n1, n2), rng, shuffle, return_labels)


def three_clusters(sizes=(800, 200, 400), random_state=None, shuffle=True, return_labels=False):
    """N((0, 5), I), N((-5, 3), I) and N((5, -3), I) with the given sizes (SPEC 7, eq. 2.45).

    Parameters
    ----------
    sizes : tuple of 3 ints, default (800, 200, 400)
        Cluster sizes, as in the thesis.
    random_state : None, int or numpy.random.Generator
    shuffle : bool, default True
        Shuffle the rows (with the same Generator); otherwise in cluster order.
    return_labels : bool, default False
        Also return the cluster index (0, 1 or 2) of each row.

    Returns
    -------
    X : ndarray of shape (sum(sizes), 2), float64
    labels : ndarray of shape (sum(sizes),), int64
        Only if ``return_labels``.

    Notes
    -----
    As a mixture with weights w_k = sizes[k] / sum(sizes), mean
    m = Σ_k w_k μ_k and covariance I + Σ_k w_k (μ_k − m)(μ_k − m)ᵀ. For the
    defaults w = (4/7, 1/7, 2/7), m = (5/7, 17/7) and covariance
    [[549, −400], [−400, 649]] / 49. The thesis's EMVAE with K = 6 ends with
    α ≈ (0.57, 0.29, 0.14) on three used components (SPEC 7).
    """
    sizes = _check_sizes(sizes, "sizes", 3)
    rng = check_random_state(random_state)
    means = [[0.0, 5.0], [-5.0, 3.0], [5.0, -3.0]]
    return _gaussian_clusters(means, sizes, rng, shuffle, return_labels)


def bars(n=1000, size=8, p=0.25, random_state=None, return_labels=False):
    """Binary ``size`` x ``size`` images of random horizontal or vertical bars, flattened.

    Each image first picks an orientation (horizontal or vertical, probability
    1/2 each), then switches each of its ``size`` bars on independently with
    probability ``p``. A small image set for Bernoulli-decoder tutorials that
    needs no download.

    Parameters
    ----------
    n : int, default 1000
        Number of images.
    size : int, default 8
        Side length; images have ``size**2`` pixels, row-major
        (``X[i].reshape(size, size)`` is image i).
    p : float in (0, 1), default 0.25
        Probability that a bar is on (2 bars per image on average for size 8).
    random_state : None, int or numpy.random.Generator
    return_labels : bool, default False
        Also return the orientation: 0 horizontal, 1 vertical.

    Returns
    -------
    X : ndarray of shape (n, size**2), float64, values 0 or 1
    labels : ndarray of shape (n,), int64
        Only if ``return_labels``.

    Notes
    -----
    Every pixel is on with probability p whatever the orientation, so its mean
    is p and its variance p(1 − p). Two different pixels of one row are both
    on with probability (p + p²)/2: together when the image is horizontal,
    independently when it is vertical. Images with no bar at all occur with
    probability (1 − p)^size.

    References
    ----------
    Földiák, P. (1990). Forming sparse representations by local anti-Hebbian
    learning. Biological Cybernetics 64, 165-170.
    """
    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    p = check_probability(p, "p")
    rng = check_random_state(random_state)
    vertical = rng.random(n) < 0.5
    on = rng.random((n, size)) < p
    # a horizontal image repeats bar r along row r, a vertical one bar c down column c
    images = np.where(vertical[:, None, None], on[:, None, :], on[:, :, None])
    X = images.reshape(n, size * size).astype(np.float64)
    if return_labels:
        return X, vertical.astype(np.int64)
    return X


# =====================================================================================
# Files: data home, checksums, download
# =====================================================================================

class ChecksumError(OSError):
    """A data file's SHA-256 is not the one this module expects."""


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


def get_data_home(data_home=None):
    """Return the data directory as an absolute Path (it need not exist yet).

    ``data_home`` if given, else ``$MINIVAE_DATA``, else ``~/.minivae/data``.
    A relative path is taken relative to the current directory.
    """
    if data_home is None:
        data_home = os.environ.get("MINIVAE_DATA") or os.path.join("~", ".minivae", "data")
    return Path(os.path.abspath(os.path.expanduser(os.fspath(data_home))))


def _canonical_csv(data):
    """Return a numeric CSV as ASCII bytes with header lines dropped and LF endings.

    UCI's HTRU_2.csv and its copies differ in header lines and line endings
    (LF, CR or CRLF) only; this form makes their checksums comparable.
    """
    text = data.decode("ascii")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    # a data line starts with a digit, a sign or a decimal point; anything else is a header
    rows = [line for line in lines if line and (line[0].isdigit() or line[0] in "+-.")]
    return ("\n".join(rows) + "\n").encode("ascii")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


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


def _write_atomic(path, write):
    """Write ``path`` by calling ``write(fileobj)`` on a temporary file, then renaming.

    A reader never sees a half-written file, and an interrupted write leaves
    no file behind under the final name.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
        except (OSError, zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
            # urllib.error.URLError and socket timeouts are OSErrors
            failures.append(f"{url}: {exc}")
            continue
        digest = _sha256(payload)
        if digest != remote.sha256:
            mismatches.append(f"{url}: got SHA-256 {digest}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, lambda f: f.write(payload))
        return
    if mismatches:
        raise ChecksumError(
            f"checksum mismatch for {relpath}: expected SHA-256 {remote.sha256}, but "
            + "; ".join(mismatches) + ". Nothing was saved."
            + (" Other URLs failed: " + "; ".join(failures) if failures else "")
        )
    raise OSError(
        f"could not download {relpath} into {target.parent}: " + "; ".join(failures)
        + f". Copy the file there by hand (SHA-256 {remote.sha256}), "
        "or point MINIVAE_DATA at a directory that holds it."
    )


def _data_file(relpath, data_home=None, download=True, verify=True):
    """Return ``(path, sha256)`` of a data file, downloading it if it is missing.

    The checksum is returned because the KDD cache is keyed on it.
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
    digest = _sha256(_canonical_csv(data) if remote.canonical_csv else data)
    if verify and digest != remote.sha256:
        raise ChecksumError(
            f"{path} has SHA-256 {digest}, expected {remote.sha256}. It is not the file this "
            "loader's counts were checked on: delete it to download again, or pass "
            "verify=False to use it anyway"
        )
    return path, digest


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


# =====================================================================================
# HTRU2 (SPEC 8.2)
# =====================================================================================

HTRU2_FEATURE_NAMES = (
    "profile_mean", "profile_std", "profile_excess_kurtosis", "profile_skewness",
    "dm_snr_mean", "dm_snr_std", "dm_snr_excess_kurtosis", "dm_snr_skewness",
)


def load_htru2(return_X_y=True, data_home=None, download=True, verify=True):
    """Load HTRU2: 17,898 pulsar candidates, 8 features, 1,639 pulsars (SPEC 8.2).

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

    Returns
    -------
    X : ndarray of shape (17898, 8), float64
        Mean, standard deviation, excess kurtosis and skewness of the integrated
        pulse profile, then the same four of the DM-SNR curve.
    y : ndarray of shape (17898,), int64
        1 = pulsar (1,639 rows, the anomalies of the thesis), 0 = not (16,259).

    Notes
    -----
    The thesis trains on the non-pulsars and scores all rows (SPEC 8.2).

    References
    ----------
    Lyon, R. J., Stappers, B. W., Cooper, S., Brooke, J. M. & Knowles, J. D. (2016).
    Fifty years of pulsar candidate selection. MNRAS 459(1), 1104-1123.
    UCI Machine Learning Repository, doi:10.24432/C5DK6R.
    """
    path, _ = _data_file("htru2/HTRU_2.csv", data_home, download, verify)
    text = _canonical_csv(path.read_bytes()).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape[1] != 9:
        raise ValueError(f"{path}: expected 9 columns (8 features and the class), got {table.shape[1]}")
    X = np.ascontiguousarray(table[:, :8])
    y = table[:, 8].astype(np.int64)
    if return_X_y:
        return X, y
    return Dataset(X, y, HTRU2_FEATURE_NAMES, None, "HTRU2 pulsar candidates (UCI); y = 1 for pulsars")


# =====================================================================================
# KDD Cup 1999, 10 % training file (SPEC 8.1)
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
# drops num_failed_logins "and similar features" (SPEC 8.1); these are they.
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
_KDD_CACHE_VERSION = 1


def _parse_kdd(path, service):
    """Parse the gzipped CSV: the numeric fields, raw labels and a first-occurrence mask.

    Returns ``(X, labels, first)`` for the rows whose service is ``service``
    (all rows if None); ``X`` holds the 38 ``_KDD_NUMERIC`` fields and
    ``first[i]`` is False when row i repeats an earlier row in all 42 fields.
    """
    raw_lines = gzip.decompress(path.read_bytes()).split(b"\n")
    if service is not None:
        # a substring test in C discards most lines; maxsplit=3 then checks the
        # candidates' third field without splitting all 42
        key = service.encode("ascii")
        needle = b"," + key + b","
        raw_lines = [line for line in raw_lines if needle in line and line.split(b",", 3)[2:3] == [key]]
    lines = [line.decode("ascii") for line in raw_lines if line.strip()]
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
    X = np.loadtxt(lines, delimiter=",", usecols=cols, dtype=np.float64, ndmin=2)
    return X, labels, first


def _kdd_table(path, digest, service, cache):
    """``_parse_kdd`` with a .npz cache beside the raw file, keyed on its SHA-256.

    The cache is written only if the directory is writable (the shared data
    directory is not: then nothing is written and nothing is said), and only for
    a single service: all 494,021 rows would take 150 MB.
    """
    cache_path = path.with_name(f"{path.name}.{service}.npz") if service is not None else None
    if cache and cache_path is not None and cache_path.is_file():
        try:
            with np.load(cache_path, allow_pickle=False) as z:
                if int(z["version"]) == _KDD_CACHE_VERSION and str(z["source_sha256"]) == digest:
                    return z["X"], z["labels"], z["first"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass   # unreadable or foreign cache: parse again and overwrite it
    X, labels, first = _parse_kdd(path, service)
    if cache and cache_path is not None and _dir_is_writable(path.parent):
        try:
            _write_atomic(cache_path, lambda f: np.savez(
                f, X=X, labels=labels, first=first,
                source_sha256=np.array(digest), version=np.array(_KDD_CACHE_VERSION)))
        except OSError:
            pass   # a cache is a convenience; a full disk must not break loading
    return X, labels, first


def load_kddcup99(service="http", features=None, drop_duplicates=False, return_X_y=True,
                  data_home=None, download=True, verify=True, cache=True):
    """Load the KDD Cup 1999 10 % training file, filtered by service (SPEC 8.1).

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
        Check the file's SHA-256.
    cache : bool, default True
        Keep the parsed rows of ``service`` in
        ``kddcup.data_10_percent.gz.<service>.npz`` beside the raw file when that
        directory is writable (silently skipped otherwise).

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


# =====================================================================================
# MNIST
# =====================================================================================

def _read_idx(path, expected_magic):
    """Read a gzipped IDX file of unsigned bytes into an array of its stored shape.

    The header is a big-endian magic number (0x0801 for vectors, 0x0803 for
    image stacks: type code 0x08 = ubyte, then the number of dimensions),
    followed by one big-endian uint32 per dimension.
    """
    data = gzip.decompress(path.read_bytes())
    magic = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
    if magic != expected_magic:
        raise ValueError(f"{path}: not an IDX ubyte file of the expected kind (magic {magic!r}, "
                         f"expected {expected_magic:#06x})")
    ndim = magic & 0xFF
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, but {body.size} values follow")
    return body.reshape(shape)


def load_mnist(split="train", n_samples=None, downsample=1, binarize=False, dtype=np.float64,
               return_X_y=True, data_home=None, download=True, verify=True):
    """Load MNIST handwritten digits as flattened images in [0, 1].

    Parameters
    ----------
    split : {"train", "test"}, default "train"
        60,000 training or 10,000 test images.
    n_samples : int or None
        Keep only the first ``n_samples`` images (saves memory for quick runs).
    downsample : int, default 1
        Average ``downsample`` x ``downsample`` pixel blocks: 2 gives 14 x 14
        images (196 features), 4 gives 7 x 7. Must divide 28.
    binarize : bool, default False
        Threshold the (downsampled) intensities at 0.5 to 0/1.
    dtype : float64 or float32, default float64
    return_X_y : bool, default True
        Return ``(X, y)``; otherwise a ``Dataset``.
    data_home : path or None
        Data directory; files ``mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
    download : bool, default True
        Fetch missing files (LeCun's site, then the ossci-datasets mirror).
    verify : bool, default True
        Check each file's SHA-256.

    Returns
    -------
    X : ndarray of shape (n, (28 // downsample) ** 2)
        Pixel intensity / 255, row-major images.
    y : ndarray of shape (n,), int64
        The digit 0-9.

    References
    ----------
    LeCun, Y., Bottou, L., Bengio, Y. & Haffner, P. (1998). Gradient-based learning
    applied to document recognition. Proc. IEEE 86(11), 2278-2324.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples")
    downsample = check_positive_int(downsample, "downsample")
    if 28 % downsample:
        raise ValueError(f"downsample must divide 28 (1, 2, 4, 7, 14 or 28), got {downsample}")
    dtype = check_dtype(dtype)
    prefix = "train" if split == "train" else "t10k"
    img_path, _ = _data_file(f"mnist/{prefix}-images-idx3-ubyte.gz", data_home, download, verify)
    lab_path, _ = _data_file(f"mnist/{prefix}-labels-idx1-ubyte.gz", data_home, download, verify)
    images = _read_idx(img_path, 0x0803)
    labels = _read_idx(lab_path, 0x0801)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{img_path.name} has {images.shape[0]} images but "
                         f"{lab_path.name} has {labels.shape[0]} labels")
    if n_samples is not None:
        images, labels = images[:n_samples], labels[:n_samples]
    X = images.astype(dtype) / dtype(255)
    if downsample > 1:
        side = 28 // downsample
        X = X.reshape(-1, side, downsample, side, downsample).mean(axis=(2, 4))
    if binarize:
        X = (X > 0.5).astype(dtype)
    X = np.ascontiguousarray(X.reshape(X.shape[0], -1))
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    return Dataset(X, y, None, None, f"MNIST {split} split, {X.shape[1]} pixels per image")


# =====================================================================================
# Preprocessing
# =====================================================================================

class Standardizer:
    """Optional log1p on chosen columns, then (x − mean) / std per column.

    Fit it on the training normals only, so that nothing about the anomalies
    leaks into the preprocessing (SPEC 8.2: the thesis does not state its
    preprocessing; this is ours, made explicit).

    Parameters
    ----------
    log1p_columns : sequence of int, default ()
        Columns replaced by log(1 + x) before the statistics are taken, for
        heavy-tailed non-negative counts such as KDD's duration, src_bytes and
        dst_bytes (the first three of ``KDD_THESIS_FEATURES``; see
        ``KDD_HEAVY_TAILED_FEATURES``). Values there must exceed −1.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means after the log1p.
    scale_ : ndarray of shape (n_features,)
        Column standard deviations (ddof = 0); 1 for a constant column, which
        would otherwise divide by zero (it then maps to 0).
    n_features_in_ : int

    Examples
    --------
    >>> X, y = load_kddcup99()                                      # doctest: +SKIP
    >>> scaler = Standardizer(log1p_columns=(0, 1, 2)).fit(X[y == 0])  # doctest: +SKIP
    >>> Z = scaler.transform(X)                                     # doctest: +SKIP
    """

    def __init__(self, log1p_columns=()):
        self.log1p_columns = log1p_columns

    def get_params(self, deep=True):
        return {"log1p_columns": self.log1p_columns}

    def set_params(self, **params):
        for key, value in params.items():
            if key != "log1p_columns":
                raise ValueError(f"invalid parameter {key!r} for Standardizer")
            setattr(self, key, value)
        return self

    def _columns(self, n_features):
        cols = self.log1p_columns
        if isinstance(cols, (str, bytes)):
            raise ValueError(f"log1p_columns must be a sequence of column indices, got {cols!r}")
        try:
            cols = tuple(cols)
        except TypeError:
            raise ValueError(f"log1p_columns must be a sequence of column indices, got {cols!r}") from None
        for c in cols:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < n_features:
                raise ValueError(
                    f"log1p_columns must hold column indices in [0, {n_features}), got {cols!r}"
                )
        return list(cols)

    def _log1p(self, X, cols):
        if not cols:
            return X
        X = X.copy()
        bad = X[:, cols] <= -1.0
        if bad.any():
            col = cols[int(np.argmax(bad.any(axis=0)))]
            raise ValueError(f"log1p_columns: column {col} holds values <= -1, where log1p is undefined")
        X[:, cols] = np.log1p(X[:, cols])
        return X

    def fit(self, X, y=None):
        """Learn column means and standard deviations (after the log1p) from ``X``."""
        X = check_array(X)
        self._cols_ = self._columns(X.shape[1])
        Z = self._log1p(X, self._cols_)
        self.mean_ = Z.mean(axis=0)
        scale = Z.std(axis=0)
        scale[np.ptp(Z, axis=0) == 0] = 1.0
        self.scale_ = scale
        self.n_features_in_ = X.shape[1]
        return self

    def _check_fitted(self):
        if getattr(self, "mean_", None) is None:
            raise NotFittedError("This Standardizer is not fitted yet; call fit(X) before using it")

    def transform(self, X):
        """Return (log1p-where-asked(X) − mean_) / scale_."""
        self._check_fitted()
        X = check_array(X, n_features=self.n_features_in_, estimator="Standardizer")
        return (self._log1p(X, self._cols_) - self.mean_) / self.scale_

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """Map standardised values back: Z * scale_ + mean_, then expm1 on the log1p columns."""
        self._check_fitted()
        Z = check_array(Z, name="Z", n_features=self.n_features_in_, estimator="Standardizer")
        X = Z * self.scale_ + self.mean_
        if self._cols_:
            X[:, self._cols_] = np.expm1(X[:, self._cols_])
        return X
