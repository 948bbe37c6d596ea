"""Input checks shared by every estimator and public function.

Each check raises ``ValueError`` or ``TypeError`` with a message that names the
argument, says what was expected and shows what came, so a user never meets a
NumPy traceback from deep inside a training loop. Each returns the value in
its canonical type (a Python ``bool``, ``int`` or ``float``, a contiguous float
array, a ``pathlib.Path``): callers store what the check *returns*, so a value
that merely passed a check can never break the arithmetic later.

The rules, one per kind of argument:

* flags (:func:`check_flag`): only ``True``/``False`` (``bool`` or ``numpy.bool_``);
  the strings ``"False"`` or ``"no"``, 0/1 and ``None`` are TypeErrors, because
  ``if "False":`` is true.
* counts (:func:`check_positive_int`): ints and NumPy integers, never ``bool``,
  never ``2.0`` — a ValueError, as it has always been.
* real numbers (:func:`check_positive`, :func:`check_probability`): ``int``,
  ``float`` and NumPy real scalars. ``bool``, ``str``, ``complex`` and other
  number types (``fractions.Fraction``, ``decimal.Decimal``) are TypeErrors:
  they would pass a comparison but break, or silently change type, in NumPy
  arithmetic later. NaN and ±inf are ValueErrors.
* arrays (:func:`check_array`): rectangular, numeric (integers and bools are
  converted), real, finite.
* paths (:func:`check_path`): ``str`` or ``os.PathLike``.
* verbosity (:func:`check_verbose`): ``bool`` or an int >= 0.
"""

import numbers
import os
import reprlib
from pathlib import Path

import numpy as np

__all__ = [
    "NotFittedError",
    "check_array",
    "check_random_state",
    "check_is_fitted",
    "check_flag",
    "check_verbose",
    "check_path",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_dtype",
    "check_hidden_sizes",
]

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlist = _repr.maxtuple = 6


def _short(value):
    """repr(value), shortened, so a message never prints a whole array."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return _repr.repr(value)


def check_flag(value, name):
    """Return ``value`` as a Python bool; only ``True``/``False`` are accepted.

    Parameters
    ----------
    value : bool or numpy.bool_
        The flag.
    name : str
        Argument name used in the message.

    Raises
    ------
    TypeError
        For anything else, e.g. the string ``"False"`` (which is truthy),
        ``0``/``1`` or ``None``.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {_short(value)} ({type(value).__name__})")


def check_verbose(value, name="verbose"):
    """Return a verbosity level as an int >= 0: ``False``/``True`` are 0/1, ints pass.

    Raises
    ------
    TypeError
        If ``value`` is neither a bool nor an int (e.g. ``"yes"``, 1.0).
    ValueError
        If it is a negative int.
    """
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a bool or an int >= 0, got {_short(value)} "
                        f"({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be a bool or an int >= 0, got {value}")
    return int(value)


def check_path(value, name):
    """Return a path argument as a ``pathlib.Path``.

    Parameters
    ----------
    value : str or os.PathLike
        The path (it need not exist).
    name : str
        Argument name used in the message.

    Raises
    ------
    TypeError
        If ``value`` is not a str or an ``os.PathLike`` giving a str (bytes,
        ints — an int would be read as a file descriptor —, None, arrays).
    ValueError
        If it is empty or contains a NUL character.
    """
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike path, got {_short(value)} "
                        f"({type(value).__name__})")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a text path, got {type(text).__name__}")
    if text == "" or "\0" in text:
        raise ValueError(f"{name} must be a non-empty path without NUL characters, got {text!r}")
    return Path(text)


def _check_real(value, name):
    """``value`` as a float if it is an int, a float or a NumPy real scalar (not bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {_short(value)} "
                        "(int, float or a NumPy real scalar expected)")
    try:
        return float(value)
    except OverflowError:       # an int beyond the float range
        return float("inf") if value > 0 else float("-inf")


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
        If ``X`` is not numeric (strings, objects, ``None`` entries) or is complex.
    ValueError
        If ``X`` is ragged (rows of different lengths), empty, has the wrong
        number of dimensions or features, or holds NaN or infinity (also
        after conversion, e.g. a float128 beyond the float64 range).
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except ValueError as exc:
        # NumPy >= 1.24 refuses nested sequences of unequal lengths ("inhomogeneous shape").
        raise ValueError(f"{name} must be a rectangular array, but its rows have different "
                         f"lengths (a ragged nested sequence): {exc}") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    # Kinds b, i, u, f only: timedelta64 counts as an integer type to NumPy, but is not data.
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape_hint = " (reshape a single sample with X.reshape(1, -1))" if ndim == 2 and arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a {ndim}-D array, got {arr.ndim}-D with shape {arr.shape}{shape_hint}")
    if arr.size == 0 or arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} is empty or too small: shape {arr.shape}, at least {min_samples} sample(s) required"
        )
    with np.errstate(over="ignore", invalid="ignore"):   # reported just below as non-finite
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
    """Return ``value`` as a Python float after checking it is finite and > 0 (or >= 0).

    Parameters
    ----------
    value : int, float or NumPy real scalar
        The number.
    name : str
        Argument name used in the message.
    allow_zero : bool
        Accept 0 too.

    Raises
    ------
    TypeError
        If ``value`` is a bool, a str, a complex number, or a number type
        other than int/float/NumPy real (``fractions.Fraction`` is refused
        rather than converted, so that the value stored by a model is never a
        Fraction).
    ValueError
        If it is NaN, infinite, negative, or zero without ``allow_zero``.
    """
    value = _check_real(value, name)
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {kind} number, got {value}")
    return value


def check_positive_int(value, name, minimum=1):
    """Return ``value`` as a Python int after checking it is an integer >= ``minimum``.

    Parameters
    ----------
    value : int or NumPy integer
        The count.
    name : str
        Argument name used in the message.
    minimum : int
        Smallest accepted value (0 for counts that may be empty).

    Raises
    ------
    ValueError
        If ``value`` is not an int (a bool, ``2.0``, ``"2"``, a Fraction) or
        is below ``minimum``. A wrong type is a ValueError here, not a
        TypeError, for compatibility with every message tested so far.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int >= {minimum}, got {_short(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def check_probability(value, name, open_interval=True):
    """Return ``value`` as a float after checking it lies in (0, 1) or [0, 1).

    Raises TypeError for the types :func:`check_positive` refuses, ValueError
    outside the interval (NaN included).
    """
    value = _check_real(value, name)
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
        raise ValueError(f"{name} must be an int or a sequence of ints, got {_short(hidden)}") from None
    for h in hidden:
        if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Integral) or h < 1:
            raise ValueError(f"{name} must contain positive ints, got {_short(hidden)}")
    return tuple(int(h) for h in hidden)

