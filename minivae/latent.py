"""Latent-space tasks: interpolation, traversals, active units, and compression by quantised codes.

Every function here works with a fitted model through its public inference
methods only, so it serves the VAE family and the deterministic autoencoders
alike:

* the encoding of a row is its posterior mean E_q[z | x] = μ(x) (``model.transform``;
  for an autoencoder, its code h = f(x));
* decoding is ``model.decode(Z)`` (VAE family: the decoder mean f(z), or the
  Bernoulli probabilities σ(f(z))) or, for an autoencoder, ``model.inverse_transform(H)``.

Contents, grouped by task:

``interpolate``, ``latent_traversal``
    Paths through the latent space, decoded (the autoencoder thesis's plan, [F ch. 3-4]).
``active_units``
    Burda et al.'s count of the latent units the encoder actually uses.
``LatentCodec``, ``rate_distortion``, ``pca_codec_error``
    A fixed-length code of ``bits`` bits per latent unit, and its bits-per-example
    against reconstruction-error table beside PCA with the same bit budget.

References
----------
Shoemake, K. (1985). Animating rotation with quaternion curves. SIGGRAPH.
White, T. (2016). Sampling generative networks. arXiv:1609.04468.
Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance weighted autoencoders. ICLR.
Ballé, J., Laparra, V. & Simoncelli, E. P. (2017). End-to-end optimized image compression. ICLR.
"""

import math

import numpy as np
from scipy.special import ndtr, ndtri

from ._validation import check_array, check_positive, check_positive_int

__all__ = [
    "encode_mean",
    "decode_latent",
    "interpolate",
    "slerp",
    "latent_traversal",
    "active_units",
    "LatentCodec",
    "pca_fit",
    "pca_codec_error",
    "rate_distortion",
    "quantize_cdf",
    "dequantize_cdf",
]

# Quantisation levels are stored as uint32 and Φ is evaluated in float64; 16 bits per
# unit (65,536 levels) is far past the point where the decoder notices the difference.
MAX_BITS = 16


# =====================================================================================
# Encoding and decoding through any fitted model
# =====================================================================================

def encode_mean(model, X):
    """Posterior means μ(x) (VAE family) or codes h = f(x) (autoencoders), shape (n, n_latent).

    Parameters
    ----------
    model : fitted model with ``transform``
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    Z : ndarray of shape (n_samples, n_latent)
    """
    if not hasattr(model, "transform"):
        raise TypeError(f"model must have a transform(X) method, got {type(model).__name__}")
    return np.asarray(model.transform(X))


def decode_latent(model, Z):
    """Decode latent rows: ``model.decode(Z)`` if the model has it, else ``inverse_transform``.

    Returns
    -------
    X_hat : ndarray of shape (n_samples, n_features)
        The decoder mean (Gaussian), or Bernoulli probabilities in (0, 1).

    Raises
    ------
    TypeError
        If the model has neither method, or decodes a row into more than one
        (an EMVAE's K decoders give shape (K, n, n_features)).
    """
    if hasattr(model, "decode"):
        X_hat, how = np.asarray(model.decode(Z)), "decode"
    elif hasattr(model, "inverse_transform"):
        X_hat, how = np.asarray(model.inverse_transform(Z)), "inverse_transform"
    else:
        raise TypeError(f"model must have decode(Z) or inverse_transform(Z), got {type(model).__name__}")
    if X_hat.ndim != 2:
        raise TypeError(f"{type(model).__name__}.{how} returned shape {X_hat.shape}, not (n_samples, "
                        "n_features): the latent tools need a model with one decoder (a mixture "
                        "such as the EMVAE decodes z once per component)")
    return X_hat


def _one_row(x, name):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    x = check_array(x, name=name)
    if x.shape[0] != 1:
        raise ValueError(f"{name} must be one example (a 1-D array or a single row), "
                         f"got shape {x.shape}")
    return x


# =====================================================================================
# Paths through the latent space
# =====================================================================================

def slerp(z_a, z_b, t):
    """Spherical interpolation between two latent vectors (codes of (2.26)), with the norm interpolated linearly.

    Parameters
    ----------
    z_a, z_b : ndarray of shape (n_latent,)
    t : float or ndarray of shape (steps,)
        Positions along the path, 0 at ``z_a`` and 1 at ``z_b``.

    Returns
    -------
    Z : ndarray of shape (steps, n_latent), or (n_latent,) for a scalar ``t``

    Raises
    ------
    ValueError
        If ``z_a`` and ``z_b`` are not finite vectors of one length, ``t`` is not
        finite, or they point in opposite directions: every great circle
        through both is equally short, so the path is not defined.

    Notes
    -----
    The direction follows the great circle from ẑ_a = z_a/‖z_a‖ to ẑ_b (Shoemake
    1985), and the length moves linearly between the endpoints' norms:

        z(t) = ((1 − t)‖z_a‖ + t‖z_b‖) · [sin((1 − t)Ω) ẑ_a + sin(tΩ) ẑ_b] / sin Ω,
        cos Ω = ẑ_a · ẑ_b.

    For endpoints of equal norm this is exactly White's (2016) slerp. Why bother:
    under the prior N(0, I) in n_latent dimensions almost all mass lies near the
    sphere of radius √n_latent, and the straight line between two typical codes
    cuts inside it (‖(1 − t)z_a + t z_b‖ < the linear norm profile whenever the
    directions differ), through codes the decoder rarely saw in training. Here
    ‖z(t)‖ = (1 − t)‖z_a‖ + t‖z_b‖ exactly.

    When an endpoint is 0 or the directions coincide (sin Ω < 1e-12) the
    direction is not defined or not needed, and the straight line is returned.

    References
    ----------
    Shoemake, K. (1985). Animating rotation with quaternion curves. SIGGRAPH.
    White, T. (2016). Sampling generative networks. arXiv:1609.04468.
    """
    z_a = check_array(z_a, name="z_a", ndim=1)
    z_b = check_array(z_b, name="z_b", ndim=1)
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same length, got {z_a.shape[0]} and {z_b.shape[0]}")
    scalar = np.ndim(t) == 0
    t = check_array(np.atleast_1d(t), name="t", ndim=1)[:, None]
    if scalar:
        return slerp(z_a, z_b, t[:, 0])[0]
    r_a, r_b = np.linalg.norm(z_a), np.linalg.norm(z_b)
    if r_a == 0.0 or r_b == 0.0:
        return (1.0 - t) * z_a + t * z_b
    u_a, u_b = z_a / r_a, z_b / r_b
    cos_omega = float(np.clip(u_a @ u_b, -1.0, 1.0))
    omega = math.acos(cos_omega)
    sin_omega = math.sin(omega)
    if sin_omega < 1e-12:
        if cos_omega < 0.0:
            raise ValueError("slerp is undefined for opposite directions (angle pi between "
                             "the two encodings); use method='linear'")
        return (1.0 - t) * z_a + t * z_b
    direction = (np.sin((1.0 - t) * omega) * u_a + np.sin(t * omega) * u_b) / sin_omega
    return ((1.0 - t) * r_a + t * r_b) * direction


def interpolate(model, x_a, x_b, steps=8, method="linear", return_latent=False):
    """Decode the path between the encodings of two examples.

    Parameters
    ----------
    model : fitted model
        Anything :func:`encode_mean` and :func:`decode_latent` accept.
    x_a, x_b : array-like of shape (n_features,) or (1, n_features)
        The two endpoints, in data space.
    steps : int, default 8
        Points on the path, both endpoints included (at least 2).
    method : {"linear", "slerp"}
        Straight line z(t) = (1 − t) z_a + t z_b, or :func:`slerp`.
    return_latent : bool, default False
        Also return the latent path.

    Returns
    -------
    X_path : ndarray of shape (steps, n_features)
        Decoded path; ``X_path[0]`` decodes z_a = μ(x_a) and ``X_path[-1]`` z_b.
    Z_path : ndarray of shape (steps, n_latent)
        Only with ``return_latent``.

    Notes
    -----
    The endpoints are posterior means μ(x) (the VAE's encoder output, (2.26) in
    docs/equations.md), so the first and last images are reconstructions, not
    the inputs themselves.
    """
    steps = check_positive_int(steps, "steps", minimum=2)
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    z = encode_mean(model, np.concatenate([_one_row(x_a, "x_a"), _one_row(x_b, "x_b")]))
    z_a, z_b = z[0].astype(np.float64), z[1].astype(np.float64)
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        Z = (1.0 - t[:, None]) * z_a + t[:, None] * z_b
    else:
        Z = slerp(z_a, z_b, t)
    X_path = decode_latent(model, Z.astype(z.dtype))
    return (X_path, Z) if return_latent else X_path


def latent_traversal(model, x, unit, values, return_latent=False):
    """Decode the encoding of ``x`` with one latent unit swept through ``values``.

    Parameters
    ----------
    model : fitted model
    x : array-like of shape (n_features,) or (1, n_features)
    unit : int
        Index of the latent unit to vary, 0 <= unit < n_latent.
    values : array-like of shape (n_values,)
        The values z_unit takes; the other units keep μ(x). Under the prior
        N(0, 1), ``np.linspace(-3, 3, 7)`` spans almost all of its mass.
    return_latent : bool, default False

    Returns
    -------
    X_sweep : ndarray of shape (n_values, n_features)
    Z_sweep : ndarray of shape (n_values, n_latent)
        Only with ``return_latent``.
    """
    z = encode_mean(model, _one_row(x, "x"))
    n_latent = z.shape[1]
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < n_latent:
        raise ValueError(f"unit must be an int in [0, {n_latent}), got {unit!r}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"values must be a non-empty 1-D array of finite numbers, got shape "
                         f"{values.shape}")
    Z = np.repeat(z, values.size, axis=0)
    Z[:, unit] = values
    X_sweep = decode_latent(model, Z)
    return (X_sweep, Z) if return_latent else X_sweep


def active_units(model, X, threshold=0.01, return_activity=False):
    """Number of latent units the encoder uses: Burda et al.'s covariance criterion.

    Parameters
    ----------
    model : fitted model
    X : array-like of shape (n_samples, n_features)
        Data (at least 2 rows), usually a held-out set.
    threshold : float, default 0.01
        A unit is active when its activity exceeds this.
    return_activity : bool, default False
        Also return every unit's activity A_u.

    Returns
    -------
    n_active : int
    activity : ndarray of shape (n_latent,)
        Only with ``return_activity``: A_u = Cov_x(E_q[z_u | x]).

    Notes
    -----
    A_u = Cov_x(E_{q(z|x)}[z_u]), the variance over the data of the posterior
    mean of unit u (the 1/n form, ddof = 0); u is active when A_u > 0.01. A
    collapsed unit has q(z_u | x) ≈ p(z_u) = N(0, 1) for every x, so its mean
    does not move with x. The threshold suits a N(0, I) prior, where an
    informative unit has A_u near 1.

    References
    ----------
    Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance weighted
    autoencoders. ICLR, section 5.2.
    """
    X = check_array(X, min_samples=2)
    check_positive(threshold, "threshold", allow_zero=True)
    mu = encode_mean(model, X).astype(np.float64)
    activity = mu.var(axis=0)
    n_active = int(np.sum(activity > threshold))
    return (n_active, activity) if return_activity else n_active


# =====================================================================================
# Compression: quantised latent codes
# =====================================================================================

def _check_bits(bits, name="bits"):
    """``bits`` as a Python int, after checking it is an int in [1, MAX_BITS] (not a bool)."""
    if isinstance(bits, (bool, np.bool_)) or not isinstance(bits, (int, np.integer)) \
            or not 1 <= bits <= MAX_BITS:
        raise ValueError(f"{name} must be an int in [1, {MAX_BITS}], got {bits!r}")
    return int(bits)


def _check_scale(scale, shape):
    """``scale`` as a float64 array after checking it is finite, > 0 and broadcasts to ``shape``."""
    arr = np.asarray(scale)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"scale must be a positive number or an array of them, got "
                        f"{type(scale).__name__} of dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        raise ValueError(f"scale must be finite and > 0 (a standard deviation), got "
                         f"{float(arr[bad].flat[0])}" + (f" among {arr.size} values" if arr.ndim else ""))
    try:
        ok = np.broadcast_shapes(shape, arr.shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"scale of shape {arr.shape} does not broadcast to the shape {tuple(shape)} "
                         "of the values it scales")
    return arr


def quantize_cdf(z, bits, scale=1.0):
    """Level k ∈ {0, …, 2^bits − 1} of each value: the bin of Φ(z / scale) among 2^bits equal bins.

    Parameters
    ----------
    z : array-like of real numbers, any shape
        ±inf are allowed (they land in the bottom and top level); NaN is not.
    bits : int in [1, 16]
    scale : positive float or array-like broadcasting to the shape of z, default 1
        Standard deviation of the Gaussian whose CDF is used (1 for the prior N(0, 1)).

    Returns
    -------
    levels : ndarray of uint32, shaped like z

    Raises
    ------
    ValueError
        If ``bits`` is not an int in [1, 16] (0, a bool, 2.0, ...), ``z`` holds NaN,
        or ``scale`` is not finite and > 0 or does not broadcast to the shape of ``z``.
    TypeError
        If ``z`` or ``scale`` is not real numbers (strings, objects, complex, bools).
    """
    bits = _check_bits(bits)
    arr = np.asarray(z)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"z must be an array of real numbers, got {type(z).__name__} of dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"z contains NaN ({int(np.isnan(arr).sum())} of {arr.size} values); "
                         "a NaN has no level")
    scale = _check_scale(scale, arr.shape)
    n_levels = 1 << bits
    u = ndtr(arr / scale)
    # u = 1.0 exactly (z > 8.3) would be level 2^bits; it belongs in the top bin.
    return np.minimum(np.floor(u * n_levels), n_levels - 1).astype(np.uint32)


def _check_levels(levels, bits, name="levels"):
    """``levels`` as a uint32 array after checking every value is an integer in [0, 2^bits)."""
    arr = np.asarray(levels)
    # An empty list is float64 to NumPy; it holds no level to refuse.
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"{name} must be an array of integers (the output of quantize_cdf), got "
                        f"{type(levels).__name__} of dtype {arr.dtype}")
    n_levels = 1 << bits
    bad = (arr < 0) | (arr >= n_levels)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {first}" if arr.ndim else ""
        raise ValueError(f"{name} must lie in [0, {n_levels}) for bits={bits}, got {arr[bad].flat[0]}"
                         f"{where} ({int(bad.sum())} value(s) out of range, min {arr.min()}, "
                         f"max {arr.max()})")
    return arr.astype(np.uint32)


def dequantize_cdf(levels, bits, scale=1.0):
    """The representative value of each level: z = scale · Φ⁻¹((k + ½) / 2^bits).

    Parameters
    ----------
    levels : array-like of int, any shape
        Levels k in [0, 2^bits), as returned by :func:`quantize_cdf`.
    bits : int in [1, 16]
    scale : positive float or array-like broadcasting to the shape of levels, default 1

    Returns
    -------
    z : ndarray of float64, shaped like levels

    Raises
    ------
    ValueError
        If ``bits`` is not an int in [1, 16], a level lies outside [0, 2^bits) (it
        has no bin; Φ⁻¹ would return NaN or ±inf), or ``scale`` is not finite and
        > 0 or does not broadcast to the shape of ``levels``.
    TypeError
        If ``levels`` is not integers (floats are refused rather than truncated)
        or ``scale`` is not real numbers.
    """
    bits = _check_bits(bits)
    levels = _check_levels(levels, bits)
    scale = _check_scale(scale, levels.shape)
    return scale * ndtri((levels.astype(np.float64) + 0.5) / (1 << bits))


def _pack(levels, bits):
    """Write levels (n, m) of ``bits`` bits each, most significant bit first, row by row.

    Each row becomes ceil(m·bits / 8) bytes; the last byte of a row is padded with 0 bits.
    """
    shifts = np.arange(bits - 1, -1, -1, dtype=np.uint32)
    bit_array = ((levels[..., None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bit_array.reshape(levels.shape[0], -1), axis=1)


def _unpack(packed, m, bits):
    bit_array = np.unpackbits(packed, axis=1, count=m * bits).reshape(packed.shape[0], m, bits)
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint32)
    return (bit_array.astype(np.uint32) * weights).sum(axis=2, dtype=np.uint32)


class LatentCodec:
    """A fixed-length code: ``bits`` bits per latent unit, the prior's CDF cut into equal bins.

    Parameters
    ----------
    model : fitted model of the VAE family (prior N(0, I))
        Encodes with the posterior mean μ(x) and decodes with ``model.decode``.
    bits : int in [1, 16]
        Bits per latent unit.

    Attributes
    ----------
    n_latent : int
    bits_per_example : int
        bits · n_latent, the information content of one code.
    bytes_per_example : int
        ceil(bits · n_latent / 8): each example is padded to whole bytes on its own,
        so ``encode`` of n rows gives exactly ``n * bytes_per_example`` bytes and any
        example can be decoded alone.

    Raises
    ------
    ValueError
        If ``bits`` is not an int in [1, 16] (0, 17, 2.0 and True are refused) or
        ``model.n_latent`` is not a positive int.

    Notes
    -----
    Quantiser: u = Φ(μ_j) ∈ (0, 1) is cut into 2^bits equal bins, level
    k = ⌊u · 2^bits⌋ (clipped to 2^bits − 1), and the decoder maps level k back to
    ẑ_j = Φ⁻¹((k + ½) / 2^bits), the prior's median of that bin. Φ is the N(0, 1)
    CDF: ``scipy.special.ndtr`` and its inverse ``ndtri``, the functions behind
    ``scipy.stats.norm.cdf`` / ``ppf`` without the import cost of scipy.stats.

    Each bin holds prior mass 2^−bits, so if the aggregate posterior matches the
    prior (the VAE's KL term (2.31) pushes it there) every level is used equally
    often and a fixed-length code loses nothing to an entropy coder; bins are
    narrow near 0 where codes are dense and wide in the tails. Bins for bits + 1
    split those for bits in two.

    Byte layout: levels of one example in unit order, each written most
    significant bit first, concatenated, and the row zero-padded to a whole byte
    (``numpy.packbits`` along the row).

    References
    ----------
    Ballé, J., Laparra, V. & Simoncelli, E. P. (2017). End-to-end optimized image
    compression. ICLR. (Learned codecs; here the quantiser is fixed and simple.)
    """

    def __init__(self, model, bits):
        self.model = model
        self.bits = _check_bits(bits)
        n_latent = getattr(model, "n_latent", None)
        self.n_latent = check_positive_int(n_latent, "model.n_latent")
        self.bits_per_example = self.bits * self.n_latent
        self.bytes_per_example = -(-self.bits_per_example // 8)

    def __repr__(self):
        return f"LatentCodec({type(self.model).__name__}, bits={self.bits})"

    def quantize(self, X):
        """Integer levels (n_samples, n_latent), uint32 in [0, 2^bits), of the posterior means."""
        return quantize_cdf(encode_mean(self.model, X).astype(np.float64), self.bits)

    def dequantize(self, levels):
        """Latent codes ẑ (n_samples, n_latent) of integer levels.

        Raises
        ------
        ValueError
            If ``levels`` is not of shape (n, n_latent) or a level lies outside
            [0, 2^bits) (the message names the first such value and its index).
        TypeError
            If ``levels`` is not integers.
        """
        levels = np.asarray(levels)
        if levels.ndim != 2 or levels.shape[1] != self.n_latent:
            raise ValueError(f"levels must have shape (n, {self.n_latent}), got {levels.shape}")
        return dequantize_cdf(levels, self.bits)

    def encode(self, X):
        """Compress X to bytes: ``len(result) == n_samples * bytes_per_example``.

        Raises whatever ``model.transform`` raises for bad X, and ValueError if a
        posterior mean is NaN.
        """
        return _pack(self.quantize(X), self.bits).tobytes()

    def decode_latent(self, data):
        """The quantised codes ẑ (n, n_latent) stored in ``data`` (bytes from :meth:`encode`).

        Raises
        ------
        TypeError
            If ``data`` is not bytes, bytearray or memoryview.
        ValueError
            If its length is not a positive multiple of ``bytes_per_example``.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        data = bytes(data)
        if len(data) == 0 or len(data) % self.bytes_per_example:
            raise ValueError(f"data must hold a positive multiple of {self.bytes_per_example} "
                             f"bytes (one code per example), got {len(data)}")
        packed = np.frombuffer(data, dtype=np.uint8).reshape(-1, self.bytes_per_example)
        return dequantize_cdf(_unpack(packed, self.n_latent, self.bits), self.bits)

    def decode(self, data):
        """Reconstructions (n, n_features) from bytes: the decoder applied to the quantised codes.

        Raises the errors of :meth:`decode_latent`.
        """
        Z = self.decode_latent(data)
        return decode_latent(self.model, Z)


# =====================================================================================
# The PCA baseline (SVD by hand) and the rate-distortion table
# =====================================================================================

def pca_fit(X):
    """Principal components of X by the singular value decomposition ([F §1.3.2]).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), n_samples >= 2

    Returns
    -------
    mean : ndarray of shape (n_features,)
    components : ndarray of shape (r, n_features)
        Orthonormal rows, by decreasing variance; r = min(n_samples, n_features).
    variances : ndarray of shape (r,)
        Variance of the data along each component (divisor n − 1).

    Raises
    ------
    ValueError
        If X is not a finite 2-D array with at least 2 rows.
    TypeError
        If X is not numeric.

    Notes
    -----
    With the centred data X_c = U S Vᵀ, the components are the rows of Vᵀ and the
    variances S² / (n − 1). A linear autoencoder trained with squared error spans
    the same subspace ([F 1.3.2]; Baldi & Hornik 1989).
    """
    X = check_array(X, min_samples=2)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, vt, s ** 2 / (X.shape[0] - 1)


def _check_pca(pca):
    """``(mean, components, variances)`` as float64 arrays, checked against each other."""
    if not isinstance(pca, (tuple, list)) or len(pca) != 3:
        raise ValueError("pca must be the tuple (mean, components, variances) returned by "
                         f"pca_fit, got {type(pca).__name__}"
                         + (f" of length {len(pca)}" if isinstance(pca, (tuple, list)) else ""))
    mean = check_array(pca[0], name="pca mean", ndim=1)
    components = check_array(pca[1], name="pca components", ndim=2)
    variances = check_array(pca[2], name="pca variances", ndim=1)
    if components.shape[1] != mean.shape[0] or variances.shape[0] != components.shape[0]:
        raise ValueError("pca must be (mean, components, variances) from pca_fit, with shapes "
                         "(d,), (r, d), (r,); got mean "
                         f"{mean.shape}, components {components.shape}, variances {variances.shape}")
    if (variances < 0).any():
        raise ValueError(f"pca variances must be >= 0, got {variances.min()}")
    return mean, components, variances


def pca_codec_error(X, pca, n_components, bits):
    """Mean squared reconstruction error of PCA coefficients quantised to ``bits`` bits each.

    Coefficient j, c_j = (x − mean) · v_j, is quantised like a latent unit by
    :class:`LatentCodec`, with the CDF of N(0, variance_j): the same quantiser and the
    same number of bits per coefficient, each coefficient scaled by its own spread.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        n_features must be the d of the fitted ``pca``.
    pca : tuple
        ``(mean, components, variances)`` from :func:`pca_fit`, of shapes
        (d,), (r, d), (r,).
    n_components : int in [1, r]
        How many leading components to keep.
    bits : int in [1, 16]

    Returns
    -------
    float
        (1/n) Σ_n ‖x_n − x̂_n‖², the squared error summed over features and
        averaged over examples.

    Raises
    ------
    ValueError
        If X does not have d columns (the message gives X's shape and the shape
        of ``pca``'s mean and components), X is not a finite 2-D array, ``pca`` is
        not a consistent triple from :func:`pca_fit`, ``n_components`` is not an
        int in [1, r] (0, a bool, 2.0, or more components than were fitted), or
        ``bits`` is not an int in [1, 16].
    TypeError
        If X is not numeric.
    """
    mean, components, variances = _check_pca(pca)
    X = check_array(X)
    if X.shape[1] != mean.shape[0]:
        raise ValueError(f"X has shape {X.shape}, but the PCA was fitted on {mean.shape[0]} "
                         f"features (mean of shape {mean.shape}, components of shape "
                         f"{components.shape}); X needs {mean.shape[0]} columns")
    r = components.shape[0]
    if isinstance(n_components, (bool, np.bool_)) or not isinstance(n_components, (int, np.integer)) \
            or not 1 <= n_components <= r:
        raise ValueError(f"n_components must be an int in [1, {r}] (the number of fitted "
                         f"components), got {n_components!r}")
    bits = _check_bits(bits)
    V = components[:n_components]
    # A component with zero variance (constant data along it) has all coefficients 0;
    # a tiny scale keeps Φ(c / scale) defined and quantises them to the middle levels.
    scale = np.sqrt(np.maximum(variances[:n_components], 1e-300))
    c = (X - mean) @ V.T
    c_hat = dequantize_cdf(quantize_cdf(c, bits, scale), bits, scale)
    r = X - (mean + c_hat @ V)
    return float(np.mean(np.einsum("ij,ij->i", r, r)))


def _sse(X, X_hat):
    r = X - X_hat
    return float(np.mean(np.einsum("ij,ij->i", r, r)))


def rate_distortion(model, X, bits_list, X_fit=None):
    """Bits per example against reconstruction error for the latent codec, beside PCA ([F §1.3.2]) at equal bits.

    Parameters
    ----------
    model : fitted model of the VAE family
    X : array-like of shape (n_samples, n_features)
        Data to compress (a held-out set).
    bits_list : sequence of int in [1, 16]
        Bits per latent unit to try.
    X_fit : array-like, optional
        Data the PCA baseline is fitted on (the model's training data is the fair
        choice); default ``X`` itself, which flatters PCA slightly.

    Returns
    -------
    dict of ndarray, one entry per element of ``bits_list``
        ``bits`` : bits per latent unit b.
        ``bits_per_example`` : b · n_latent, the length of one code.
        ``model_error`` : (1/n) Σ_n ‖x_n − decode(ẑ_n)‖², ẑ the quantised posterior mean.
        ``pca_error`` : the same for PCA with n_latent components of b bits each.
        ``pca_best_error``, ``pca_best_components`` : the best PCA split of the same
        budget into k components of ⌊budget / k⌋ bits (k = ⌊budget / b'⌋ for
        b' = 1 … 16, at most the number of components), and its k.
    Also the scalar entry ``model_error_unquantized``: the error of decode(μ(x)).

    Raises
    ------
    ValueError
        If X or X_fit is not a finite 2-D array (X_fit with X's number of
        columns, at least 2 rows), ``bits_list`` is empty or holds an entry that
        is not an int in [1, 16], or ``model.n_latent`` is not a positive int.
    TypeError
        If ``bits_list`` is not a sequence (a bare int, a string) or X is not numeric.

    Notes
    -----
    Error is the squared Euclidean distance in data space, summed over features
    and averaged over examples; for a Bernoulli decoder the decoded probabilities
    are compared with x. Both codecs have the same length in bits, so the curves
    compare what a learned non-linear code buys over the best linear one.
    """
    X = check_array(X)
    if isinstance(bits_list, (str, bytes)) or not hasattr(bits_list, "__iter__"):
        raise TypeError(f"bits_list must be a sequence of ints in [1, {MAX_BITS}], got "
                        f"{type(bits_list).__name__} {bits_list!r}")
    bits_list = [_check_bits(b, "every entry of bits_list") for b in bits_list]
    if not bits_list:
        raise ValueError("bits_list must name at least one bit depth, got []")
    X_fit = X if X_fit is None else check_array(X_fit, name="X_fit")
    if X_fit.shape[1] != X.shape[1]:
        raise ValueError(f"X_fit has {X_fit.shape[1]} columns, but X has {X.shape[1]}; the PCA "
                         "baseline is fitted on X_fit and applied to X")
    pca = pca_fit(X_fit)
    n_pca = pca[1].shape[0]
    n_latent = check_positive_int(getattr(model, "n_latent", None), "model.n_latent")
    mu = encode_mean(model, X).astype(np.float64)
    table = {k: [] for k in ("bits", "bits_per_example", "model_error", "pca_error",
                             "pca_best_error", "pca_best_components")}
    for b in bits_list:
        budget = b * n_latent
        Z = dequantize_cdf(quantize_cdf(mu, b), b)
        table["bits"].append(b)
        table["bits_per_example"].append(budget)
        table["model_error"].append(_sse(X, decode_latent(model, Z.astype(mu.dtype))))
        table["pca_error"].append(pca_codec_error(X, pca, min(n_latent, n_pca), b))
        splits = sorted({min(budget // bb, n_pca) for bb in range(1, MAX_BITS + 1) if budget // bb >= 1})
        best = min((pca_codec_error(X, pca, k, min(budget // k, MAX_BITS)), k) for k in splits)
        table["pca_best_error"].append(best[0])
        table["pca_best_components"].append(best[1])
    out = {k: np.asarray(v) for k, v in table.items()}
    out["model_error_unquantized"] = _sse(X, decode_latent(model, mu))
    return out
