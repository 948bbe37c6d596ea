"""Input checks shared by every estimator and public function.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the
argument, says what was expected and shows what came, so a user never meets a
NumPy traceback from deep inside a training loop.
"""

import numbers

import numpy as np

__all__ = [
    "NotFittedError",
    "check_array",
    "check_random_state",
    "check_is_fitted",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_dtype",
    "check_hidden_sizes",
]


class NotFittedError(ValueError, AttributeError):
    """Raised when a method needs learned state but ``fit`` has not been called."""


def check_random_state(random_state):
    """Turn ``None``, an int or a ``numpy.random.Generator`` into a Generator.

    An int seeds a new PCG64 generator, so the same int always gives the same
    stream; a Generator is returned as is (and advanced by the caller).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "random_state must be None, an int or a numpy.random.Generator, "
        f"got {type(random_state).__name__}"
    )


def check_dtype(dtype):
    """Return ``np.float64`` or ``np.float32``; anything else is a ValueError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def check_array(X, name="X", ndim=2, dtype=np.float64, n_features=None, min_samples=1,
                estimator=None):
    """Validate an input array and return it as a C-contiguous float array.

    Parameters
    ----------
    X : array_like
        The data. Integer and boolean input is accepted and converted.
    name : str
        Name used in error messages.
    ndim : int
        Required number of dimensions (2 for ``(n_samples, n_features)``).
    dtype : numpy float type
        Output dtype.
    n_features : int or None
        If given, the number of columns ``X`` must have (the count seen in ``fit``).
    min_samples : int
        Minimum number of rows.
    estimator : str or None
        Class name used in the feature-count message.

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is empty, has the wrong number of dimensions or features, or
        holds NaN or infinity.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(X).__name__}")
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape_hint = " (reshape a single sample with X.reshape(1, -1))" if ndim == 2 and arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}{shape_hint}")
    if arr.size == 0 or arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} is empty or too small: shape {arr.shape}, at least {min_samples} sample(s) required"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if not np.isfinite(arr).all():
        n_bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains NaN or infinity ({n_bad} non-finite value(s))")
    if n_features is not None and ndim == 2 and arr.shape[1] != n_features:
        who = f"this {estimator}" if estimator else "the model"
        raise ValueError(f"{name} has {arr.shape[1]} features, but {who} was fitted with {n_features}")
    return arr


def check_is_fitted(estimator, attribute="params_"):
    """Raise NotFittedError unless ``estimator`` has the learned ``attribute``."""
    if getattr(estimator, attribute, None) is None:
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet; call fit(X) before using it"
        )


def check_positive(value, name, allow_zero=False):
    """Return ``value`` as a float after checking it is finite and > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {kind} number, got {value}")
    return value


def check_positive_int(value, name, minimum=1):
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_probability(value, name, open_interval=True):
    """Return ``value`` as a float after checking it lies in (0, 1) or [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    lo_ok = value > 0 if open_interval else value >= 0
    if not (lo_ok and value < 1):
        interval = "(0, 1)" if open_interval else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def check_hidden_sizes(hidden, name="hidden_sizes"):
    """Return a tuple of positive ints from an int or a sequence of ints."""
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise ValueError(f"{name} must be an int or a sequence of ints, got {hidden!r}") from None
    for h in hidden:
        if isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1:
            raise ValueError(f"{name} must contain positive ints, got {hidden!r}")
    return tuple(int(h) for h in hidden)


def check_flag(value, name):
    """Return ``value`` as a bool after checking it is one (``True``/``False``, NumPy bools too).

    Strings such as ``"False"`` and numbers are refused: ``bool("False")`` is True.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_verbose(value, name="verbose"):
    """Return ``value`` as an int level: a bool or a non-negative int (0 silent, 1 progress, 2 every epoch)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, numbers.Integral) and value >= 0:
        return int(value)
    raise TypeError(f"{name} must be a bool or a non-negative int, got {value!r}")
