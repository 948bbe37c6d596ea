"""Toy data sets of the VAE thesis, and tiny bar images, generated on the fly (no files).

``normal_1d``, ``normal_2d``, ``linear_2d``, ``banana``
    The four VAE toy sets of the thesis's §2.2 (Figs. 2.3-2.6 and 2.9-2.12).
``two_clusters``, ``three_clusters``
    The mixture sets of Fig. 2.13 and of (2.45) (EMVAE, §2.5).
``bars``
    Tiny binary images of horizontal or vertical bars, for image tutorials that
    must run without any download.

Each generator takes ``random_state`` (None, int or Generator): the same seed
gives bit-identical arrays. Its docstring states the analytic mean and
covariance, which the tests compare with sample moments. See
docs/equations.md for the equations.
"""

import numpy as np

from .._validation import check_positive_int, check_probability, check_random_state

__all__ = ["normal_1d", "normal_2d", "linear_2d", "banana", "two_clusters", "three_clusters", "bars"]


def normal_1d(n=1000, random_state=None):
    """Draw ``n`` values from N(5, 3): mean 5, variance 3 (thesis §2.2, toy case 1).

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
    """Draw ``n`` points from N((3, 5), I) (thesis §2.2, toy case 2).

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
    """Case 2 pushed through x' = 2x + y, y' = x + y (thesis §2.2, toy case 3).

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
    """A standard 2-D normal bent into a banana: x' = x/2 + y², y' = 2y (thesis §2.2, toy case 4).

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
    """``n1`` points from N(0, I) and ``n2`` from N((0, 10), I) (thesis Fig. 2.13).

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
    clusters; this is the set that motivates WAE priors and EMVAE (thesis §2.5).
    """
    n1 = check_positive_int(n1, "n1")
    n2 = check_positive_int(n2, "n2")
    rng = check_random_state(random_state)
    return _gaussian_clusters([[0.0, 0.0], [0.0, 10.0]], (n1, n2), rng, shuffle, return_labels)


def three_clusters(sizes=(800, 200, 400), random_state=None, shuffle=True, return_labels=False):
    """N((0, 5), I), N((-5, 3), I) and N((5, -3), I) with the given sizes (thesis eq. (2.45)).

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
    α ≈ (0.57, 0.29, 0.14) on three used components (thesis §2.5).
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
