"""MNIST: the IDX files read into arrays, and stochastic binarisation for Bernoulli decoders.

``load_mnist`` reads LeCun's four gzipped IDX files from the data home
(``mnist/``), downloading and checksumming them when missing. ``binarize`` and
``binarized_epochs`` give the stochastically ("dynamically") binarised MNIST of
the VampPrior paper; ``train_validation_split`` holds out a validation set.
"""

import struct

import numpy as np

from .._validation import check_array, check_dtype, check_positive_int, check_random_state
from ._files import DataFileError, Dataset, _data_file, _gunzip

__all__ = ["load_mnist", "binarize", "binarized_epochs"]


def _read_idx(path, expected_magic):
    """Read a gzipped IDX file of unsigned bytes into an array of its stored shape.

    The header is a big-endian magic number (0x0801 for vectors, 0x0803 for
    image stacks: type code 0x08 = ubyte, then the number of dimensions),
    followed by one big-endian uint32 per dimension. A truncated or corrupt
    file raises ``DataFileError`` naming it.
    """
    data = _gunzip(path)
    magic = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
    if magic != expected_magic:
        raise DataFileError(f"{path}: not an IDX ubyte file of the expected kind (magic {magic!r}, "
                            f"expected {expected_magic:#06x})")
    ndim = magic & 0xFF
    if len(data) < 4 + 4 * ndim:
        raise DataFileError(f"{path}: truncated IDX header ({len(data)} bytes, "
                            f"{4 + 4 * ndim} needed)")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataFileError(f"{path}: header says shape {shape}, but {body.size} values follow; "
                            "the file is truncated or corrupt")
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
        Threshold the (downsampled) intensities at 0.5 to 0/1 (a fixed,
        deterministic binarisation). For the stochastic binarisation of the
        VampPrior experiments load the grey values and use ``binarize`` or
        ``binarized_epochs``.
    dtype : float64 or float32, default float64
    return_X_y : bool, default True
        Return ``(X, y)``; otherwise a ``Dataset``.
    data_home : path or None
        Data directory; files ``mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``.
    download : bool, default True
        Fetch missing files (LeCun's site, then the ossci-datasets mirror).
    verify : bool, default True
        Check each file's SHA-256. Without it, a truncated or corrupt file
        raises ``DataFileError`` naming it.

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
# Stochastic ("dynamic") binarisation, for the VampPrior experiments
# =====================================================================================

_BLOCK_ROWS = 4096


def _check_grey(X):
    """Return ``X`` as a finite 2-D float array (float32 kept) with values in [0, 1]."""
    dtype = getattr(X, "dtype", None)
    dtype = dtype.type if dtype in (np.float32, np.float64) else np.float64
    X = check_array(X, dtype=dtype)
    lo, hi = X.min(), X.max()
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"X must hold grey values in [0, 1] to binarize, got values in [{lo}, {hi}]")
    return X


def binarize(X, random_state=None):
    """Draw one binary image per row: each pixel is 1 with probability equal to its grey value.

    x_b[i, j] ~ Bernoulli(X[i, j]), independently; each call makes a fresh draw
    from ``random_state``. Called once per epoch on the grey training images
    (``binarized_epochs`` does that), this is what Tomczak & Welling call
    *dynamic* binarisation: the model sees a new binary copy of every digit in
    every epoch, which regularises a Bernoulli decoder. Called once with a fixed
    seed on the validation and test images it gives a fixed binary evaluation
    set (what the authors do for evaluation).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Grey values in [0, 1], e.g. ``load_mnist()[0]``.
    random_state : None, int or numpy.random.Generator
        A Generator is advanced, so repeated calls on it give fresh draws; the
        same int gives bit-identical images.

    Returns
    -------
    X_b : ndarray of shape (n_samples, n_features), values 0.0 or 1.0
        Same dtype as ``X`` if it is float32 or float64, else float64.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array with values in [0, 1].

    Notes
    -----
    With u ~ U[0, 1), P(u < x) = x, so x_b = [u < x] is Bernoulli(x); a pixel
    of value 0 is never on and a pixel of value 1 always is. E[x_b] = X.

    References
    ----------
    Tomczak, J. M. & Welling, M. (2018). VAE with a VampPrior. AISTATS.
    Salakhutdinov, R. & Murray, I. (2008). On the quantitative analysis of deep
    belief networks. ICML (the stochastically binarised MNIST).
    """
    X = _check_grey(X)
    rng = check_random_state(random_state)
    X_b = np.empty_like(X)
    # rows in blocks: one (60000, 784) float64 draw would take 376 MB at once
    for start in range(0, X.shape[0], _BLOCK_ROWS):
        block = X[start:start + _BLOCK_ROWS]
        X_b[start:start + _BLOCK_ROWS] = rng.random(block.shape) < block
    return X_b


def binarized_epochs(X, n_epochs, random_state=None):
    """Yield ``n_epochs`` fresh binarisations of ``X``, one per epoch (dynamic binarisation).

    ``for X_b in binarized_epochs(X, 100, rng): ...`` trains on a new Bernoulli
    draw of every image in each epoch; see ``binarize`` for what is drawn.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Grey values in [0, 1]. Checked once, before the first draw.
    n_epochs : int
        Number of copies to yield.
    random_state : None, int or numpy.random.Generator
        One Generator feeds every draw: the same seed gives the same sequence.

    Yields
    ------
    X_b : ndarray of shape (n_samples, n_features), values 0.0 or 1.0
    """
    n_epochs = check_positive_int(n_epochs, "n_epochs")
    rng = check_random_state(random_state)
    X = _check_grey(X)   # here, so a bad X fails at the call, not at the first next()

    def copies():
        for _ in range(n_epochs):
            yield binarize(X, rng)

    return copies()
