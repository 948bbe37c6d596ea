"""Holding out a validation set: one function, seeded, for any arrays with rows in common."""

import numbers

import numpy as np

from .._validation import check_random_state

__all__ = ["train_validation_split"]


def train_validation_split(*arrays, validation_size=0.1, shuffle=True, random_state=None):
    """Split arrays with the same number of rows into a training and a validation part.

    Parameters
    ----------
    *arrays : array_like, each with the same first dimension n
        E.g. ``X`` or ``X, y``. Returned as NumPy arrays (rows copied).
    validation_size : float in (0, 1) or int in [1, n - 1], default 0.1
        Fraction of the rows (rounded to the nearest int, at least 1 and at
        most n − 1) or number of rows held out.
    shuffle : bool, default True
        Choose the held-out rows at random (a permutation from
        ``random_state``). With ``shuffle=False`` the last rows are held out
        in order: ``train_validation_split(X, y, validation_size=10000,
        shuffle=False)`` on the 60,000 MNIST training images is the 50,000 /
        10,000 split of Tomczak & Welling's code.
    random_state : None, int or numpy.random.Generator
        Used only when ``shuffle``; the same seed gives the same split.

    Returns
    -------
    list
        ``[a_train, a_val]`` for each array in order: ``X_train, X_val`` for one
        array, ``X_train, X_val, y_train, y_val`` for two. Within each part the
        rows keep their original order, so the split is reproducible and the
        two parts are disjoint and together hold every row once.

    Raises
    ------
    ValueError
        If no array is given, the arrays differ in length, or
        ``validation_size`` leaves no row in one of the parts.
    TypeError
        If ``validation_size`` is not a number or ``shuffle`` is not a bool.
    """
    if not arrays:
        raise ValueError("train_validation_split needs at least one array")
    arrays = [np.asarray(a) for a in arrays]
    for i, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"array {i} must have at least one dimension, got a scalar")
    n = arrays[0].shape[0]
    lengths = [a.shape[0] for a in arrays]
    if any(m != n for m in lengths):
        raise ValueError(f"arrays must have the same number of rows, got {lengths}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Real):
        raise TypeError(f"validation_size must be a float in (0, 1) or an int, "
                        f"got {type(validation_size).__name__}")
    if isinstance(validation_size, numbers.Integral):
        n_val = int(validation_size)
    elif 0.0 < validation_size < 1.0:
        n_val = min(max(int(round(validation_size * n)), 1), n - 1)
    else:
        raise ValueError(f"validation_size must be a float in (0, 1) or an int, got {validation_size}")
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"validation_size must leave at least one row in each part of the {n} "
                         f"rows, got {validation_size}")
    if shuffle:
        is_val = np.zeros(n, dtype=bool)
        is_val[check_random_state(random_state).permutation(n)[:n_val]] = True
    else:
        is_val = np.arange(n) >= n - n_val
    out = []
    for a in arrays:
        out.extend([a[~is_val], a[is_val]])
    return out
