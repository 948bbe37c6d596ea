"""Tests for minivae.datasets: toy moments, determinism, real loaders, download, damaged files.

Real-data tests read ``$MINIVAE_DATA`` (the data directory, which may be
read-only: nothing is written there; CI sets it). They are skipped only when that
variable is unset; when it is set, a missing file fails. No test touches the network:
downloads go through a fake ``urlopen``. Caches go to a temporary
``$MINIVAE_CACHE`` for the whole module.
"""

import gzip
import http.client
import io
import os
import stat
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from minivae import datasets as ds
from minivae.datasets import _files
from minivae.datasets.mnist import _read_idx

# ------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------

K_SE = 5.0   # tolerance in standard errors for the moment checks


@pytest.fixture(scope="module", autouse=True)
def temporary_cache_home(tmp_path_factory):
    """Every test of this module caches into a fresh directory, never into ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MINIVAE_CACHE", str(tmp_path_factory.mktemp("cache_home")))
    yield
    mp.undo()


def assert_moments(X, mean, cov, k=K_SE):
    """Sample mean and covariance against analytic ones, within k standard errors.

    The covariance entry (i, j) is estimated by the average of
    (x_i − mean_i)(x_j − mean_j) around the analytic mean, which is unbiased;
    its standard error is the empirical std of those products over sqrt(n), so
    heavy tails (the banana's y²) are accounted for.
    """
    X = np.asarray(X)
    n, d = X.shape
    mean = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float).reshape(d, d)
    m_hat = X.mean(axis=0)
    se_m = X.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(m_hat - mean) < k * se_m), (m_hat, mean, se_m)
    D = X - mean
    for i in range(d):
        for j in range(d):
            prod = D[:, i] * D[:, j]
            c_hat, se_c = prod.mean(), prod.std(ddof=1) / np.sqrt(n)
            assert abs(c_hat - cov[i, j]) < k * se_c, (i, j, c_hat, cov[i, j], se_c)


class FakeResponse:
    def __init__(self, payload):
        self._payload = payload

    def read(self):
        return self._payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def install_fake_urlopen(monkeypatch, serve):
    """Replace urllib.request.urlopen; ``serve(url)`` returns bytes or raises.

    Returns the list of requested URLs, in order.
    """
    calls = []

    def fake_urlopen(request, timeout=None):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        calls.append(url)
        return FakeResponse(serve(url))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return calls


def no_network(url):
    raise urllib.error.URLError("no network in tests")


def leftovers(directory):
    """Temporary download files left behind in ``directory``."""
    return [p.name for p in Path(directory).iterdir() if p.name.endswith(".part")]


# ------------------------------------------------------------------------------------
# toy generators: moments
# ------------------------------------------------------------------------------------

TWO_W = np.array([2.0, 1.0]) / 3.0
THREE_W = np.array([4.0, 1.0, 2.0]) / 7.0
THREE_MU = np.array([[0.0, 5.0], [-5.0, 3.0], [5.0, -3.0]])
THREE_MEAN = THREE_W @ THREE_MU
THREE_COV = np.eye(2) + sum(w * np.outer(m - THREE_MEAN, m - THREE_MEAN) for w, m in zip(THREE_W, THREE_MU))

TOY_CASES = [
    # generator, kwargs, analytic mean, analytic covariance (derived by hand)
    (ds.normal_1d, dict(n=20000), [5.0], [[3.0]]),
    (ds.normal_2d, dict(n=20000), [3.0, 5.0], np.eye(2)),
    # A = [[2, 1], [1, 1]]: mean A(3, 5), covariance A Aᵀ
    (ds.linear_2d, dict(n=20000), [11.0, 8.0], [[5.0, 3.0], [3.0, 2.0]]),
    # Var(x/2 + y²) = 1/4 + 2, Var(2y) = 4, Cov = 2 E[y³] = 0
    (ds.banana, dict(n=40000), [1.0, 0.0], [[2.25, 0.0], [0.0, 4.0]]),
    # weights 2/3, 1/3: mean (0, 10/3), var of 2nd coordinate 1 + 100 * 2/9
    (ds.two_clusters, dict(n1=20000, n2=10000), [0.0, 10.0 / 3.0], [[1.0, 0.0], [0.0, 1.0 + 200.0 / 9.0]]),
    (ds.three_clusters, dict(sizes=(8000, 2000, 4000)), THREE_MEAN, THREE_COV),
]


@pytest.mark.parametrize("gen, kwargs, mean, cov", TOY_CASES, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("seed", [0, 1])
def test_toy_moments_match_analytic(gen, kwargs, mean, cov, seed):
    assert_moments(gen(**kwargs, random_state=seed), mean, cov)


def test_three_cluster_analytic_moments_are_the_documented_fractions():
    np.testing.assert_allclose(THREE_MEAN, [5 / 7, 17 / 7])
    np.testing.assert_allclose(THREE_COV, np.array([[549, -400], [-400, 649]]) / 49)


def test_normal_1d_second_argument_is_the_variance():
    x = ds.normal_1d(50000, random_state=3)[:, 0]
    # variance 3 means std ≈ 1.73: far from both 3 and sqrt(sqrt(3))
    assert abs(x.std() - np.sqrt(3.0)) < 0.03


def test_linear_2d_is_normal_2d_pushed_through_A():
    A = np.array([[2.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(ds.linear_2d(500, 7), ds.normal_2d(500, 7) @ A.T, rtol=0, atol=1e-12)
    # and undoing A gives N((3, 5), I) coordinates, each passing a KS test
    v = np.linalg.solve(A, ds.linear_2d(5000, 8).T).T
    for j, m in enumerate([3.0, 5.0]):
        assert stats.kstest(v[:, j] - m, "norm").pvalue > 1e-3


def test_banana_inverts_to_independent_standard_normals():
    X = ds.banana(5000, random_state=11)
    y = X[:, 1] / 2.0
    x = 2.0 * (X[:, 0] - y**2)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert stats.kstest(y, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(x, y)[0, 1]) < 4.0 / np.sqrt(5000)


# ------------------------------------------------------------------------------------
# toy generators: shapes, determinism, labels
# ------------------------------------------------------------------------------------

SHAPE_CASES = [
    (ds.normal_1d, {}, (1000, 1)),
    (ds.normal_2d, {}, (1000, 2)),
    (ds.linear_2d, {}, (1000, 2)),
    (ds.banana, {}, (1000, 2)),
    (ds.two_clusters, {}, (3000, 2)),
    (ds.three_clusters, {}, (1400, 2)),
    (ds.bars, {}, (1000, 64)),
    (ds.normal_1d, dict(n=7), (7, 1)),
    (ds.banana, dict(n=1), (1, 2)),
    (ds.two_clusters, dict(n1=3, n2=5), (8, 2)),
    (ds.three_clusters, dict(sizes=(1, 2, 3)), (6, 2)),
    (ds.bars, dict(n=5, size=3), (5, 9)),
]


@pytest.mark.parametrize("gen, kwargs, shape", SHAPE_CASES)
def test_shapes_and_dtype(gen, kwargs, shape):
    X = gen(**kwargs, random_state=0)
    assert X.shape == shape
    assert X.dtype == np.float64
    assert X.flags["C_CONTIGUOUS"]
    assert np.isfinite(X).all()


ALL_GENERATORS = [ds.normal_1d, ds.normal_2d, ds.linear_2d, ds.banana, ds.two_clusters,
                  ds.three_clusters, ds.bars]


@pytest.mark.parametrize("gen", ALL_GENERATORS, ids=lambda g: g.__name__)
def test_same_seed_bit_identical_different_seeds_differ(gen):
    a, b, c = gen(random_state=42), gen(random_state=42), gen(random_state=43)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # a passed Generator is advanced: two calls on it give different data
    rng = np.random.default_rng(5)
    assert not np.array_equal(gen(random_state=rng), gen(random_state=rng))
    # a Generator seeded like the int gives the same stream as the int
    assert np.array_equal(gen(random_state=np.random.default_rng(42)), a)


@pytest.mark.parametrize("gen", [ds.two_clusters, ds.three_clusters], ids=lambda g: g.__name__)
def test_cluster_labels_are_consistent(gen):
    X, labels = gen(random_state=2, return_labels=True)
    means = np.array([[0.0, 0.0], [0.0, 10.0]]) if gen is ds.two_clusters else THREE_MU
    sizes = (2000, 1000) if gen is ds.two_clusters else (800, 200, 400)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels), sizes)
    # each point is nearest to its own cluster's mean almost always
    nearest = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == labels) > 0.98
    # per-cluster means within 5 standard errors of the cluster centre (unit variance)
    for k, size in enumerate(sizes):
        assert np.all(np.abs(X[labels == k].mean(0) - means[k]) < K_SE / np.sqrt(size))
    # shuffled by default; in cluster order without shuffling
    assert np.any(np.diff(labels) < 0)
    _, ordered = gen(random_state=2, return_labels=True, shuffle=False)
    assert np.all(np.diff(ordered) >= 0)
    # return_labels=False gives the same points
    assert np.array_equal(gen(random_state=2), X)


def test_bars_structure_and_moments():
    size, p, n = 6, 0.3, 20000
    X, vertical = ds.bars(n, size=size, p=p, random_state=4, return_labels=True)
    assert set(np.unique(X)) <= {0.0, 1.0}
    img = X.reshape(n, size, size)
    h = img[vertical == 0]
    v = img[vertical == 1]
    # horizontal images are constant along rows, vertical ones along columns
    assert np.all(h == h[:, :, :1])
    assert np.all(v == v[:, :1, :])
    assert abs(vertical.mean() - 0.5) < K_SE * 0.5 / np.sqrt(n)
    # every pixel is on with probability p
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(X.mean(0) - p) < K_SE * se)
    # two pixels of one row, or of one column: both on with probability (p + p²)/2
    q = (p + p**2) / 2
    se_q = np.sqrt(q * (1 - q) / n)
    assert abs(np.mean(img[:, 2, 1] * img[:, 2, 4]) - q) < K_SE * se_q
    assert abs(np.mean(img[:, 0, 3] * img[:, 5, 3]) - q) < K_SE * se_q


@pytest.mark.parametrize("call, exc, match", [
    (lambda: ds.normal_1d(0), ValueError, "n must be an int >= 1, got 0"),
    (lambda: ds.normal_2d(-5), ValueError, "n must be an int >= 1, got -5"),
    (lambda: ds.linear_2d(2.5), ValueError, "n must be an int"),
    (lambda: ds.banana(True), ValueError, "n must be an int"),
    (lambda: ds.banana("10"), ValueError, "n must be an int"),
    (lambda: ds.two_clusters(n1=0), ValueError, "n1 must be an int >= 1, got 0"),
    (lambda: ds.two_clusters(n2=-1), ValueError, "n2 must be an int >= 1, got -1"),
    (lambda: ds.three_clusters(sizes=(1, 2)), ValueError, "sizes must be a sequence of 3"),
    (lambda: ds.three_clusters(sizes=(1, 0, 2)), ValueError, "sizes must be an int >= 1, got 0"),
    (lambda: ds.three_clusters(sizes=5), ValueError, "sizes must be a sequence of 3"),
    (lambda: ds.three_clusters(sizes="abc"), ValueError, "sizes must be a sequence of 3"),
    (lambda: ds.bars(size=0), ValueError, "size must be an int >= 1, got 0"),
    (lambda: ds.bars(p=0.0), ValueError, r"p must lie in \(0, 1\), got 0.0"),
    (lambda: ds.bars(p=1.5), ValueError, r"p must lie in \(0, 1\), got 1.5"),
    (lambda: ds.normal_1d(random_state="seed"), TypeError, "random_state must be None, an int"),
    (lambda: ds.banana(random_state=-1), ValueError, "random_state must be a non-negative int, got -1"),
])
def test_bad_toy_arguments_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------------------------
# data home
# ------------------------------------------------------------------------------------

def test_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIVAE_DATA", str(tmp_path / "env"))
    assert ds.get_data_home() == tmp_path / "env"
    assert ds.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("MINIVAE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ds.get_data_home() == tmp_path / "home" / ".minivae" / "data"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIVAE_DATA", "rel/data")
    assert ds.get_data_home() == tmp_path / "rel" / "data"


# ------------------------------------------------------------------------------------
# download, checksum and file errors (no real data needed)
# ------------------------------------------------------------------------------------

KDD_REL = "kddcup99/kddcup.data_10_percent.gz"
HTRU_REL = "htru2/HTRU_2.csv"


def test_checksum_mismatch_raises_and_saves_nothing(monkeypatch, tmp_path):
    calls = install_fake_urlopen(monkeypatch, lambda url: b"<html>not the data</html>")
    with pytest.raises(ds.ChecksumError, match="checksum mismatch for kddcup99") as info:
        ds.load_kddcup99(data_home=tmp_path)
    assert _files._REMOTE[KDD_REL].sha256 in str(info.value)
    assert "Nothing was saved" in str(info.value)
    # every mirror was tried, none was trusted
    assert calls == list(_files._REMOTE[KDD_REL].urls)
    # not even the directory is created for a file that was not saved
    assert not (tmp_path / "kddcup99").exists()


def test_unreachable_urls_raise_oserror_naming_them(monkeypatch, tmp_path):
    calls = install_fake_urlopen(monkeypatch, no_network)
    with pytest.raises(OSError, match="could not download mnist/t10k-images") as info:
        ds.load_mnist("test", data_home=tmp_path)
    assert not isinstance(info.value, ds.ChecksumError)
    assert "yann.lecun.com" in str(info.value) and "ossci-datasets" in str(info.value)
    assert len(calls) == 2
    assert not (tmp_path / "mnist").exists()


def test_bad_zip_payload_counts_as_failed_download(monkeypatch, tmp_path):
    install_fake_urlopen(monkeypatch, lambda url: b"PK not really a zip")
    with pytest.raises(OSError, match="could not download htru2/HTRU_2.csv"):
        ds.load_htru2(data_home=tmp_path)


def test_download_false_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        ds.load_htru2(data_home=tmp_path, download=False)


def test_read_only_data_home_refuses_download_before_fetching(monkeypatch, tmp_path):
    calls = install_fake_urlopen(monkeypatch, no_network)
    home = tmp_path / "ro"
    (home / "htru2").mkdir(parents=True)
    (home / "htru2").chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="read-only"):
            ds.load_htru2(data_home=home)
    finally:
        (home / "htru2").chmod(0o755)
    assert calls == []


def test_local_file_with_wrong_checksum(tmp_path):
    rows = "1.5,2,3,4,5,6,7,8,0\n-1,2.5,3,4,5,6,7,8,1\n0.5,2,3,4,5,6,7,8.25,0\n"
    (tmp_path / "htru2").mkdir()
    (tmp_path / HTRU_REL).write_text(rows)
    with pytest.raises(ds.ChecksumError, match="verify=False"):
        ds.load_htru2(data_home=tmp_path)
    X, y = ds.load_htru2(data_home=tmp_path, verify=False)
    np.testing.assert_array_equal(y, [0, 1, 0])
    np.testing.assert_array_equal(X[:, 0], [1.5, -1.0, 0.5])
    assert X.shape == (3, 8)


def test_canonical_csv_drops_headers_and_unifies_line_endings():
    canonical = b"1,2\n3.5,-4\n"
    for variant in (b"a,b\r\n1,2\r\n3.5,-4\r\n", b"1,2\r3.5,-4", b"\"x\",\"y\"\n1,2\n3.5,-4\n\n"):
        assert _files._canonical_csv(variant) == canonical


@pytest.mark.parametrize("kwargs, match", [
    (dict(features=["protocol_type"]), "not a numeric KDD feature"),
    (dict(features=["no_such_column"]), "not a numeric KDD feature"),
    (dict(features="duration"), "sequence of feature names"),
    (dict(features=[]), "at least one feature"),
    (dict(service=3), "service must be a service name"),
    (dict(service=""), "service must be a service name"),
    (dict(service="http,x"), "service must be a service name"),
    (dict(service="../http"), "service must be a service name"),
])
def test_kdd_bad_arguments_raise_before_reading(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ds.load_kddcup99(data_home=tmp_path, download=False, **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(split="valid"), ValueError, "split must be 'train' or 'test'"),
    (dict(n_samples=0), ValueError, "n_samples must be an int >= 1, got 0"),
    (dict(downsample=3), ValueError, "downsample must divide 28"),
    (dict(downsample=0), ValueError, "downsample must be an int >= 1, got 0"),
    (dict(dtype=np.int32), ValueError, "dtype must be float32 or float64"),
])
def test_mnist_bad_arguments_raise_before_reading(tmp_path, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.load_mnist(data_home=tmp_path, download=False, **kwargs)


def test_kdd_feature_lists_partition_the_41_features():
    names = set(ds.KDD_FEATURE_NAMES)
    assert len(ds.KDD_FEATURE_NAMES) == 41 == len(names)
    assert len(ds.KDD_SYMBOLIC_FEATURES) == 7 and len(ds.KDD_COUNT_LIKE_FEATURES) == 12
    assert len(ds.KDD_THESIS_FEATURES) == 22
    parts = [set(ds.KDD_SYMBOLIC_FEATURES), set(ds.KDD_COUNT_LIKE_FEATURES), set(ds.KDD_THESIS_FEATURES)]
    assert set().union(*parts) == names
    assert sum(len(p) for p in parts) == 41
    assert ds.KDD_THESIS_FEATURES[:3] == ds.KDD_HEAVY_TAILED_FEATURES


# ------------------------------------------------------------------------------------
# real data on $MINIVAE_DATA
# ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_home():
    value = os.environ.get("MINIVAE_DATA")
    if not value:
        pytest.skip("MINIVAE_DATA is not set: point it at the data directory "
                    "(htru2/, kddcup99/, mnist/) to run the real-data tests")
    return ds.get_data_home(value)


@pytest.fixture(scope="module")
def kdd_http(data_home):
    """The http subset loaded straight from $MINIVAE_DATA, parsed once per module."""
    return ds.load_kddcup99(return_X_y=False)


def test_htru2_counts(data_home):
    X, y = ds.load_htru2()
    assert X.shape == (17898, 8) and X.dtype == np.float64
    assert np.isfinite(X).all()
    assert y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [16259, 1639])
    data = ds.load_htru2(return_X_y=False)
    assert data.feature_names == ds.HTRU2_FEATURE_NAMES
    np.testing.assert_array_equal(data.X, X)
    # HTRU2 has no exact duplicate rows
    assert np.unique(np.column_stack([X, y]), axis=0).shape[0] == 17898


def test_htru2_copy_with_header_and_crlf_verifies(data_home, tmp_path):
    original = (data_home / HTRU_REL).read_bytes()
    (tmp_path / "htru2").mkdir()
    (tmp_path / HTRU_REL).write_bytes(b"Motip,Sdotip,a,b,c,d,e,f,Class\r\n" + original.replace(b"\n", b"\r\n"))
    X, y = ds.load_htru2(data_home=tmp_path)   # verify=True: the canonical form matches
    X0, y0 = ds.load_htru2()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_htru2_copy_with_quoted_numbers_verifies(data_home, tmp_path):
    # a spreadsheet export: every field quoted, header included
    original = (data_home / HTRU_REL).read_bytes().decode("ascii")
    quoted = "\n".join(",".join(f'"{v}"' for v in line.split(",")) for line in original.splitlines())
    write(tmp_path, HTRU_REL, ('"Mean","b","c","d","e","f","g","h","Class"\r\n' + quoted).encode())
    X, y = ds.load_htru2(data_home=tmp_path)   # verify=True: the canonical form matches
    X0, y0 = ds.load_htru2()
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_kdd_http_counts(kdd_http):
    X, y, labels = kdd_http.X, kdd_http.y, kdd_http.labels
    assert X.shape == (64293, 22) and X.dtype == np.float64
    assert kdd_http.feature_names == ds.KDD_THESIS_FEATURES
    assert np.isfinite(X).all()
    assert int((y == 0).sum()) == 61886 and int(y.sum()) == 2407
    names, counts = np.unique(labels[y == 1], return_counts=True)
    assert dict(zip(names.tolist(), counts.tolist())) == {
        "back.": 2203, "neptune.": 192, "phf.": 4, "ipsweep.": 3, "portsweep.": 3, "satan.": 2}
    assert np.all(labels[y == 0] == "normal.")


def test_kdd_reads_shared_dir_without_writing_there(kdd_http, data_home):
    # caches go to the cache home, never beside the data
    assert sorted(p.name for p in (data_home / "kddcup99").iterdir()) == [
        "PROVENANCE.md", "kddcup.data_10_percent.gz"]


def kdd_cache_path():
    digest = _files._REMOTE[KDD_REL].sha256
    return ds.get_cache_home() / f"kddcup99-{digest[:16]}-http.npz"


def test_kdd_cache_round_trip(data_home, kdd_http):
    cache = kdd_cache_path()
    cache.unlink(missing_ok=True)
    X1, y1 = ds.load_kddcup99()
    assert cache.is_file()
    mtime = cache.stat().st_mtime_ns
    X2, y2 = ds.load_kddcup99()
    assert cache.stat().st_mtime_ns == mtime   # read, not rewritten
    for X, y in ((X1, y1), (X2, y2)):
        np.testing.assert_array_equal(X, kdd_http.X)
        np.testing.assert_array_equal(y, kdd_http.y)
    assert leftovers(cache.parent) == []


def test_kdd_drop_duplicates_counts(data_home):
    X, y = ds.load_kddcup99(drop_duplicates=True)
    assert X.shape == (62054, 22)
    assert int((y == 0).sum()) == 60883 and int(y.sum()) == 1171


def test_kdd_column_choice(data_home, kdd_http):
    # the dropped count-like columns take only values 0..4 on the http rows ...
    C, _ = ds.load_kddcup99(features=ds.KDD_COUNT_LIKE_FEATURES)
    assert C.shape == (64293, 12)
    assert set(np.unique(C)) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    # ... while every kept column has many distinct values
    for j, name in enumerate(ds.KDD_THESIS_FEATURES):
        assert np.unique(kdd_http.X[:, j]).size > 5, name
    # and a chosen subset is the same data as the corresponding columns
    S, _ = ds.load_kddcup99(features=["dst_bytes", "duration"])
    np.testing.assert_array_equal(S, kdd_http.X[:, [2, 0]])


def test_kdd_stale_or_corrupt_cache_is_replaced(data_home, kdd_http):
    cache = kdd_cache_path()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"garbage")
    X, _ = ds.load_kddcup99()
    np.testing.assert_array_equal(X, kdd_http.X)
    with np.load(cache) as z:   # rewritten as a valid cache
        assert str(z["source_sha256"]) == _files._REMOTE[KDD_REL].sha256
        fields = {key: z[key] for key in z.files}
    # a cache that claims another raw file (other checksum) is not trusted
    fields["X"] = np.zeros_like(fields["X"])
    fields["source_sha256"] = np.array("0" * 64)
    np.savez(cache, **fields)
    X, _ = ds.load_kddcup99()
    np.testing.assert_array_equal(X, kdd_http.X)


def test_kdd_read_only_data_and_cache_dirs_still_load(data_home, tmp_path, monkeypatch):
    ro = tmp_path / "data" / "kddcup99"
    ro.mkdir(parents=True)
    (ro / "kddcup.data_10_percent.gz").symlink_to(data_home / KDD_REL)
    cache_home = tmp_path / "cache"
    cache_home.mkdir()
    monkeypatch.setenv("MINIVAE_CACHE", str(cache_home))
    ro.chmod(0o555)
    cache_home.chmod(0o555)
    try:
        X, y = ds.load_kddcup99(data_home=tmp_path / "data", service="smtp")
    finally:
        ro.chmod(0o755)
        cache_home.chmod(0o755)
    assert X.shape[0] == y.shape[0] > 0
    assert [p.name for p in ro.iterdir()] == ["kddcup.data_10_percent.gz"]
    assert list(cache_home.iterdir()) == []
    # an uncreatable cache home (below a file) is no error either
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("MINIVAE_CACHE", str(tmp_path / "file" / "cache"))
    X2, _ = ds.load_kddcup99(data_home=tmp_path / "data", service="smtp")
    np.testing.assert_array_equal(X2, X)


def test_kdd_unknown_service(data_home):
    with pytest.raises(ValueError, match="matches no row"):
        ds.load_kddcup99(service="no_such_service", cache=False)


MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_shapes_range_and_labels(data_home):
    X, y = ds.load_mnist("test")
    assert X.shape == (10000, 784) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), MNIST_TEST_COUNTS)
    # pixel values are multiples of 1/255
    np.testing.assert_allclose(np.round(X[:50] * 255), X[:50] * 255, atol=1e-9)
    Xt, yt = ds.load_mnist("train", dtype=np.float32)
    assert Xt.shape == (60000, 784) and Xt.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(yt), MNIST_TRAIN_COUNTS)


def test_mnist_options(data_home):
    X, y = ds.load_mnist("test", n_samples=200)
    assert X.shape == (200, 784) and y.shape == (200,)
    small, y_small = ds.load_mnist("test", n_samples=200, downsample=2)
    assert small.shape == (200, 196)
    np.testing.assert_array_equal(y_small, y)
    # 2x2 block means computed by hand for one image
    img = X[17].reshape(28, 28)
    expected = np.array([[img[2 * r:2 * r + 2, 2 * c:2 * c + 2].mean() for c in range(14)] for r in range(14)])
    np.testing.assert_allclose(small[17].reshape(14, 14), expected, rtol=1e-12)
    binary, _ = ds.load_mnist("test", n_samples=200, binarize=True)
    np.testing.assert_array_equal(binary, (X > 0.5).astype(float))
    data = ds.load_mnist("test", n_samples=5, return_X_y=False)
    np.testing.assert_array_equal(data.y, y[:5])


# ------------------------------------------------------------------------------------
# successful downloads, served from the real files by a fake urlopen
# ------------------------------------------------------------------------------------

def test_download_htru2_zip_from_uci(monkeypatch, data_home, tmp_path):
    canonical = (data_home / HTRU_REL).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        # as UCI might ship it: a header and CR line endings, beside other members
        archive.writestr("HTRU_2.csv", b"a,b,c,d,e,f,g,h,class\r" + canonical.replace(b"\n", b"\r"))
        archive.writestr("Readme.txt", b"readme")
    calls = install_fake_urlopen(monkeypatch, lambda url: buf.getvalue())
    X, y = ds.load_htru2(data_home=tmp_path / "fresh")
    assert calls == [_files._REMOTE[HTRU_REL].urls[0]]
    assert (tmp_path / "fresh" / HTRU_REL).read_bytes() == canonical
    assert X.shape == (17898, 8) and int(y.sum()) == 1639
    assert leftovers(tmp_path / "fresh" / "htru2") == []


def test_download_falls_back_to_the_next_mirror(monkeypatch, data_home, tmp_path):
    payload = (data_home / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()

    def serve(url):
        if "yann.lecun.com" in url:
            raise urllib.error.HTTPError(url, 403, "Forbidden", None, None)
        return payload

    calls = install_fake_urlopen(monkeypatch, serve)
    path, digest = _files._data_file("mnist/t10k-labels-idx1-ubyte.gz", tmp_path)
    assert [("yann" in u, "ossci" in u) for u in calls] == [(True, False), (False, True)]
    assert path.read_bytes() == payload
    assert digest == _files._REMOTE["mnist/t10k-labels-idx1-ubyte.gz"].sha256
    labels = _read_idx(path, 0x0801)
    np.testing.assert_array_equal(np.bincount(labels), MNIST_TEST_COUNTS)


def test_download_kdd_then_reuse_without_network(monkeypatch, data_home, tmp_path):
    payload = (data_home / KDD_REL).read_bytes()
    install_fake_urlopen(monkeypatch, lambda url: payload)
    path, _ = _files._data_file(KDD_REL, tmp_path)
    assert path.read_bytes() == payload
    # present now: a second call must not touch the network
    calls = install_fake_urlopen(monkeypatch, no_network)
    _files._data_file(KDD_REL, tmp_path)
    assert calls == []
    with gzip.open(path, "rt") as f:
        assert len(f.readline().split(",")) == 42


def test_corrupted_local_file_is_detected(data_home, tmp_path):
    data = bytearray((data_home / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[100] ^= 0xFF
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(ds.ChecksumError, match="delete it to download again"):
        _files._data_file("mnist/t10k-labels-idx1-ubyte.gz", tmp_path, download=False)


def test_read_only_check_ignores_root_privileges(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    assert _files._dir_is_writable(d)
    d.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        assert not _files._dir_is_writable(d)
    finally:
        d.chmod(0o755)


def test_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "file.bin"

    def write_then_fail(f):
        f.write(b"half of it")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _files.write_atomic(target, write_then_fail)
    assert list(tmp_path.iterdir()) == []
    _files.write_atomic(target, lambda f: f.write(b"all of it"))
    assert target.read_bytes() == b"all of it"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


# ------------------------------------------------------------------------------------
# damaged downloads and files: one clear error naming the file, no row dropped
# ------------------------------------------------------------------------------------

KDD_ROW = ("0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0.00,0.00,0.00,0.00,"
           "1.00,0.00,0.00,9,9,1.00,0.00,0.11,0.00,0.00,0.00,0.00,0.00,normal.")


class DroppingResponse(FakeResponse):
    """A response whose connection drops after part of the body, as http.client reports it."""

    def read(self):
        raise http.client.IncompleteRead(self._payload[:10], len(self._payload) - 10)


def test_connection_dropped_mid_transfer_is_a_clear_oserror(monkeypatch, tmp_path):
    calls = []

    def fake_urlopen(request, timeout=None):
        calls.append(request.full_url)
        return DroppingResponse(b"x" * 1000)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(OSError, match="could not download kddcup99/kddcup.data_10_percent.gz") as info:
        ds.load_kddcup99(data_home=tmp_path)
    assert "IncompleteRead" in str(info.value) and "Nothing was saved" in str(info.value)
    assert calls == list(_files._REMOTE[KDD_REL].urls)   # every mirror was tried
    assert not (tmp_path / "kddcup99").exists()


def gzipped(text):
    return gzip.compress(text.encode("ascii"), mtime=0)


def write(home, rel, data):
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


IDX_LABELS = b"\x00\x00\x08\x01\x00\x00\x00\x03\x07\x02\x01"   # 3 labels: 7, 2, 1

CORRUPT_MNIST = [
    ("truncated gzip (EOFError)", lambda: gzip.compress(IDX_LABELS, mtime=0)[:-12], "not a readable gzip file"),
    ("not gzip at all (BadGzipFile)", lambda: b"this is not gzip" * 4, "not a readable gzip file"),
    ("corrupt deflate stream (zlib.error)",
     lambda: (lambda g: g[:12] + bytes(b ^ 0x5A for b in g[12:-8]) + g[-8:])(gzip.compress(IDX_LABELS * 20)),
     "not a readable gzip file"),
    ("header cut inside the dimensions (struct.error)",
     lambda: gzip.compress(IDX_LABELS[:6], mtime=0), "truncated IDX header"),
    ("shorter than a magic number", lambda: gzip.compress(b"\x00\x00", mtime=0), "not an IDX ubyte file"),
    ("body shorter than the header says", lambda: gzip.compress(IDX_LABELS[:-1], mtime=0), "truncated or corrupt"),
]


@pytest.mark.parametrize("what, payload, match", CORRUPT_MNIST, ids=[c[0] for c in CORRUPT_MNIST])
def test_corrupt_idx_file_raises_data_file_error_naming_it(tmp_path, what, payload, match):
    path = write(tmp_path, "mnist/t10k-labels-idx1-ubyte.gz", payload())
    with pytest.raises(ds.DataFileError, match=match) as info:
        _read_idx(path, 0x0801)
    assert str(path) in str(info.value)
    # and through the public loader, with verify=False (the images are the damaged file here)
    write(tmp_path, "mnist/t10k-images-idx3-ubyte.gz", payload())
    with pytest.raises(ds.DataFileError, match="t10k-images-idx3-ubyte.gz"):
        ds.load_mnist("test", data_home=tmp_path, download=False, verify=False)


def test_small_valid_idx_file_reads(tmp_path):
    # the fixture bytes above are a valid file: the corruption tests test the corruption
    path = tmp_path / "ok.gz"
    path.write_bytes(gzip.compress(IDX_LABELS))
    np.testing.assert_array_equal(_read_idx(path, 0x0801), [7, 2, 1])


CORRUPT_KDD = [
    ("truncated gzip", lambda: gzipped(KDD_ROW + "\n")[:-12], ds.DataFileError, "not a readable gzip file"),
    ("not gzip", lambda: b"plain text, not gzip", ds.DataFileError, "not a readable gzip file"),
    ("a row starting with ?", lambda: gzipped(KDD_ROW + "\n" + "?" + KDD_ROW[1:] + "\n"),
     ds.DataFileError, r"missing or non-numeric value '\?' in duration"),
    ("a row starting with nan", lambda: gzipped(KDD_ROW + "\nnan" + KDD_ROW[1:] + "\n"),
     ds.DataFileError, "missing or non-numeric value 'nan' in duration"),
    ("an empty field", lambda: gzipped(KDD_ROW.replace(",181,", ",,") + "\n"),
     ds.DataFileError, "value '' in src_bytes"),
    ("a short row", lambda: gzipped(KDD_ROW + "\n" + KDD_ROW.partition(",SF,")[0] + ",SF,1,2,normal.\n"),
     ds.DataFileError, "7 fields instead of 42"),
    ("non-ASCII bytes", lambda: gzip.compress((KDD_ROW + "\n").encode() + b"\xff,x,http,\n"),
     ds.DataFileError, "non-ASCII"),
]


@pytest.mark.parametrize("what, payload, exc, match", CORRUPT_KDD, ids=[c[0] for c in CORRUPT_KDD])
def test_damaged_kdd_file_raises_one_clear_error(tmp_path, what, payload, exc, match):
    path = write(tmp_path, KDD_REL, payload())
    with pytest.raises(exc, match=match) as info:
        ds.load_kddcup99(data_home=tmp_path, download=False, verify=False, cache=False)
    assert str(path) in str(info.value)


def test_small_kdd_file_with_verify_false_reads_every_row(tmp_path):
    other = KDD_ROW.replace(",http,", ",smtp,")
    attack = KDD_ROW.replace("normal.", "back.").replace(",181,", ",54540,")
    write(tmp_path, KDD_REL, gzipped("\n".join([KDD_ROW, other, attack, KDD_ROW]) + "\n"))
    data = ds.load_kddcup99(data_home=tmp_path, download=False, verify=False, return_X_y=False)
    np.testing.assert_array_equal(data.y, [0, 1, 0])
    np.testing.assert_array_equal(data.X[:, 1], [181.0, 54540.0, 181.0])   # src_bytes
    X, y = ds.load_kddcup99(data_home=tmp_path, download=False, verify=False, drop_duplicates=True)
    np.testing.assert_array_equal(y, [0, 1])


HTRU_ROWS = ["1.5,2,3,4,5,6,7,8,0", "-1,2.5,3,4,5,6,7,8,1", "0.5,2,3,4,5,6,7,8.25,0"]

BAD_HTRU = [
    ("a row starting with nan", HTRU_ROWS[:1] + ["nan,2,3,4,5,6,7,8,0"] + HTRU_ROWS[1:],
     "line 2 has a missing or non-finite value"),
    ("a row starting with ?", HTRU_ROWS[:2] + ["?,2,3,4,5,6,7,8,0"], "line 3 has a missing or non-finite value"),
    ("the first row starting with nan", ["nan,2,3,4,5,6,7,8,0"] + HTRU_ROWS,
     "line 1 has a missing or non-finite value"),
    ("a header with a ?-row under it", ["a,b,c,d,e,f,g,h,class", "?,?,3,4,5,6,7,8,0"] + HTRU_ROWS,
     "line 2 has a missing"),
    ("an empty field", HTRU_ROWS + ["1,,3,4,5,6,7,8,0"], "line 4 has a missing or non-finite value"),
    ("an infinity", HTRU_ROWS + ["1,inf,3,4,5,6,7,8,0"], "line 4 has a missing or non-finite value"),
    ("a word after the data", HTRU_ROWS[:1] + ["a,b,c,d,e,f,g,h,class"] + HTRU_ROWS[1:],
     "line 2 is not a row of numbers"),
    ("a short row", HTRU_ROWS + ["1,2,3"], "number of columns changed|columns"),
    ("a class that is not 0/1", HTRU_ROWS + ["1,2,3,4,5,6,7,8,2"], "class column must hold 0 or 1"),
]


@pytest.mark.parametrize("what, rows, match", BAD_HTRU, ids=[c[0] for c in BAD_HTRU])
def test_bad_htru_rows_raise_naming_file_and_line(tmp_path, what, rows, match):
    path = write(tmp_path, HTRU_REL, ("\n".join(rows) + "\n").encode())
    # a missing value is found before the checksum; a wrong shape only when parsing
    for verify in (False, True) if "line" in match else (False,):
        with pytest.raises(ds.DataFileError, match=match) as info:
            ds.load_htru2(data_home=tmp_path, verify=verify)
        assert str(path) in str(info.value)


def test_binary_htru_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, HTRU_REL, gzip.compress(b"1,2,3\n"))
    with pytest.raises(ds.DataFileError, match="not an ASCII CSV file") as info:
        ds.load_htru2(data_home=tmp_path, verify=False)
    assert str(path) in str(info.value)


def test_canonical_csv_unquotes_quoted_numbers_and_keeps_other_lines_byte_for_byte():
    assert _files._canonical_csv(b'"a","b"\r\n"1.5","2"\r\n3, 4\r\n"-5", 6\n') == b"1.5,2\n3, 4\n-5, 6\n"
    # a numeric first line is data: only a word makes a header
    assert _files._canonical_csv(b"1,2\n3,4\n") == b"1,2\n3,4\n"
    for bad, what in ((b'1,2\n"3,4\n', "line 2 is not valid CSV"), (b'1,2\n"3"x,4\n', "line 2 is not valid CSV"),
                      (b'"1",2\n"nan",3\n', "line 2 has a missing or non-finite value"),
                      (b'1,2\n"1,5",2\n', "line 2 is not a row of numbers")):
        with pytest.raises(ds.DataFileError, match=what):
            _files._canonical_csv(bad)


def test_quoted_htru_rows_load(tmp_path):
    write(tmp_path, HTRU_REL, ("\n".join(",".join(f'"{v}"' for v in row.split(","))
                                         for row in HTRU_ROWS) + "\n").encode())
    X, y = ds.load_htru2(data_home=tmp_path, verify=False)
    np.testing.assert_array_equal(y, [0, 1, 0])
    np.testing.assert_array_equal(X[:, 0], [1.5, -1.0, 0.5])


def test_canonical_csv_keeps_every_data_row():
    data = b"x,y\n1,2\n\n3,4\r\n-5,+6.5\n"
    assert _files._canonical_csv(data) == b"1,2\n3,4\n-5,+6.5\n"
    # a download whose CSV is damaged counts as a failed download, not as a silent drop
    with pytest.raises(ds.DataFileError, match="line 3"):
        _files._canonical_csv(b"1,2\n3,4\nNA,5\n")


def test_damaged_csv_in_a_download_is_a_failed_download(monkeypatch, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("HTRU_2.csv", "\n".join(HTRU_ROWS + ["?,1,2,3,4,5,6,7,0"]))
    install_fake_urlopen(monkeypatch, lambda url: buf.getvalue())
    with pytest.raises(OSError, match="could not download htru2/HTRU_2.csv.*line 4") as info:
        ds.load_htru2(data_home=tmp_path)
    assert not isinstance(info.value, ds.ChecksumError)
    assert not (tmp_path / "htru2").exists()


def test_cache_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIVAE_CACHE", str(tmp_path / "env"))
    assert ds.get_cache_home() == tmp_path / "env"
    assert ds.get_cache_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("MINIVAE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ds.get_cache_home() == tmp_path / "xdg" / "minivae"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ds.get_cache_home() == tmp_path / "home" / ".cache" / "minivae"


# ------------------------------------------------------------------------------------
# dynamic binarisation and the validation split
# ------------------------------------------------------------------------------------

def test_binarize_draws_bernoulli_of_the_grey_values():
    rng = np.random.default_rng(0)
    grey = rng.random((5000, 6))          # more rows than one block of draws
    grey[:, 0] = 0.0
    grey[:, 1] = 1.0
    # seeds other than the one that made grey: seed 0 would draw u == grey exactly
    draws = np.stack([ds.binarize(grey, random_state=s) for s in range(100, 140)])
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert draws.dtype == np.float64
    assert np.all(draws[:, :, 0] == 0.0) and np.all(draws[:, :, 1] == 1.0)
    # the on-rate of every row over 40 draws matches its grey values, in both blocks of rows
    p = grey[:, 2:].sum(1)
    on = draws[:, :, 2:].sum(axis=(0, 2)) / 40
    var = (grey[:, 2:] * (1 - grey[:, 2:])).sum(1) / 40
    z = (on - p) / np.sqrt(var)
    assert abs(z[:4096].mean()) < K_SE / np.sqrt(4096) and abs(z[4096:].mean()) < K_SE / np.sqrt(904)
    assert abs(z.std() - 1.0) < 0.05


def test_binarize_seeds_and_fresh_draws():
    grey = np.random.default_rng(1).random((50, 30))
    a, b = ds.binarize(grey, 7), ds.binarize(grey, 7)
    assert np.array_equal(a, b)
    rng = np.random.default_rng(7)
    first, second = ds.binarize(grey, rng), ds.binarize(grey, rng)
    assert np.array_equal(first, a) and not np.array_equal(first, second)
    assert ds.binarize(grey.astype(np.float32), 0).dtype == np.float32
    # the input is not modified
    assert np.array_equal(grey, np.random.default_rng(1).random((50, 30)))


def test_binarized_epochs_is_binarize_once_per_epoch():
    grey = np.random.default_rng(2).random((20, 10))
    copies = list(ds.binarized_epochs(grey, 3, random_state=5))
    rng = np.random.default_rng(5)
    expected = [ds.binarize(grey, rng) for _ in range(3)]
    assert len(copies) == 3
    for c, e in zip(copies, expected):
        assert np.array_equal(c, e)
    assert not np.array_equal(copies[0], copies[1])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: ds.binarize([[0.5, 1.5]]), ValueError, r"grey values in \[0, 1\].*\[0.5, 1.5\]"),
    (lambda: ds.binarize([[-0.1, 0.5]]), ValueError, r"grey values in \[0, 1\]"),
    (lambda: ds.binarize([[np.nan, 0.5]]), ValueError, "NaN or infinity"),
    (lambda: ds.binarize([0.5, 0.5]), ValueError, "must be a 2-D array"),
    (lambda: ds.binarize([[0.5]], random_state="a"), TypeError, "random_state"),
    (lambda: ds.binarized_epochs([[2.0]], 3), ValueError, r"grey values in \[0, 1\]"),
    (lambda: ds.binarized_epochs([[0.5]], 0), ValueError, "n_epochs must be an int >= 1, got 0"),
])
def test_binarize_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_train_validation_split():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_val, y_tr, y_val = ds.train_validation_split(X, y, validation_size=0.25, random_state=0)
    assert X_tr.shape == (15, 2) and X_val.shape == (5, 2)
    # rows stay paired, the parts are disjoint, together they hold every row once
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)
    assert np.all(np.diff(y_tr) > 0) and np.all(np.diff(y_val) > 0)   # original order kept
    # seeded
    again = ds.train_validation_split(X, y, validation_size=0.25, random_state=0)
    assert np.array_equal(again[3], y_val)
    assert not np.array_equal(ds.train_validation_split(X, y, validation_size=0.25, random_state=1)[3], y_val)
    # an int size, and shuffle=False holds out the last rows (the authors' MNIST 50k/10k split)
    tr, val = ds.train_validation_split(y, validation_size=3, shuffle=False)
    np.testing.assert_array_equal(val, [17, 18, 19])
    np.testing.assert_array_equal(tr, np.arange(17))
    # a tiny fraction still holds out one row
    assert len(ds.train_validation_split(y, validation_size=0.001, random_state=0)[1]) == 1


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((), {}, ValueError, "at least one array"),
    ((np.zeros(5), np.zeros(4)), {}, ValueError, r"same number of rows, got \[5, 4\]"),
    ((np.zeros(5),), dict(validation_size=5), ValueError, "at least one row in each part"),
    ((np.zeros(5),), dict(validation_size=0), ValueError, "at least one row in each part"),
    ((np.zeros(5),), dict(validation_size=1.0), ValueError, r"float in \(0, 1\) or an int, got 1.0"),
    ((np.zeros(5),), dict(validation_size=-0.5), ValueError, r"float in \(0, 1\)"),
    ((np.zeros(5),), dict(validation_size="0.2"), TypeError, "validation_size must be"),
    ((np.zeros(5),), dict(validation_size=True), TypeError, "validation_size must be"),
    ((np.zeros(5),), dict(shuffle="False"), TypeError, "shuffle must be a bool"),
    ((np.zeros(1),), {}, ValueError, "at least one row in each part"),
    ((np.float64(3.0),), {}, ValueError, "at least one dimension"),
])
def test_train_validation_split_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ds.train_validation_split(*args, **kwargs)


def test_binarized_mnist_keeps_the_grey_mean(data_home):
    X, _ = ds.load_mnist("test", n_samples=500)
    X_b = ds.binarize(X, random_state=0)
    assert set(np.unique(X_b)) == {0.0, 1.0}
    # expected number of on-pixels is the sum of the grey values; its sd is sqrt(sum p(1-p))
    sd = np.sqrt((X * (1 - X)).sum())
    assert abs(X_b.sum() - X.sum()) < K_SE * sd
    assert np.all(X_b[X == 0.0] == 0.0) and np.all(X_b[X == 1.0] == 1.0)
