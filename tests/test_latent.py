"""Latent-space tasks: interpolation, traversals, active units, the codec and rate-distortion."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae import VAE, Autoencoder, datasets
from minivae.latent import (
    LatentCodec,
    _pack,
    _unpack,
    active_units,
    dequantize_cdf,
    interpolate,
    latent_traversal,
    pca_codec_error,
    pca_fit,
    quantize_cdf,
    rate_distortion,
    slerp,
)
from tests.strategies import normal_array, seeds


class IdentityModel:
    """Encoder and decoder are the identity: the latent path is the decoded path."""

    def __init__(self, n_latent):
        self.n_latent = n_latent

    def transform(self, X):
        return np.asarray(X, dtype=np.float64)

    def decode(self, Z):
        return np.asarray(Z, dtype=np.float64)


class LinearEncoder(IdentityModel):
    """transform(X) = X A: the posterior mean of unit u is column u of X A."""

    def __init__(self, A):
        super().__init__(A.shape[1])
        self.A = A

    def transform(self, X):
        return np.asarray(X) @ self.A


@pytest.fixture(scope="module")
def bars():
    return datasets.bars(400, random_state=1)


@pytest.fixture(scope="module")
def vae(bars):
    return VAE(n_latent=3, hidden_sizes=(16,), activation="tanh", likelihood="bernoulli",
               n_epochs=20, lr=1e-2, random_state=0).fit(bars)


# ---------------------------------------------------------------------- interpolation
@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_endpoints_decode_the_endpoint_encodings(vae, bars, method):
    path, Z = interpolate(vae, bars[0], bars[5], steps=6, method=method, return_latent=True)
    assert path.shape == (6, bars.shape[1]) and Z.shape == (6, 3)
    ends = vae.decode(vae.transform(bars[[0, 5]]))
    np.testing.assert_allclose(path[[0, -1]], ends, rtol=0, atol=1e-12)
    np.testing.assert_allclose(Z[[0, -1]], vae.transform(bars[[0, 5]]), rtol=0, atol=1e-12)
    # interior points are not the endpoints
    assert np.abs(path[3] - ends[0]).max() > 1e-6


def test_interpolation_works_with_an_autoencoder(bars):
    ae = Autoencoder(n_latent=2, hidden_sizes=(8,), n_epochs=2, random_state=0).fit(bars)
    path = interpolate(ae, bars[0], bars[1], steps=3, method="slerp")
    np.testing.assert_allclose(path[0], ae.reconstruct(bars[:1])[0], atol=1e-12)


@given(seed=seeds, n_latent=st.integers(2, 6), steps=st.integers(3, 9))
def test_slerp_keeps_the_norm_profile(seed, n_latent, steps):
    rng = np.random.default_rng(seed)
    z_a, z_b = rng.standard_normal(n_latent), 3.0 * rng.standard_normal(n_latent)
    model = IdentityModel(n_latent)
    Z_s = interpolate(model, z_a, z_b, steps=steps, method="slerp")
    Z_l = interpolate(model, z_a, z_b, steps=steps, method="linear")
    t = np.linspace(0, 1, steps)
    profile = (1 - t) * np.linalg.norm(z_a) + t * np.linalg.norm(z_b)
    np.testing.assert_allclose(np.linalg.norm(Z_s, axis=1), profile, rtol=1e-10)
    # the straight line cuts inside it (triangle inequality), strictly when directions differ
    assert np.all(np.linalg.norm(Z_l, axis=1) <= profile + 1e-10)
    assert np.linalg.norm(Z_l[steps // 2]) < profile[steps // 2] - 1e-9
    # directions advance by equal angles along the great circle
    U = Z_s / np.linalg.norm(Z_s, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(U[1:] * U[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(Z_s[[0, -1]], [z_a, z_b], atol=1e-12)


def test_slerp_with_equal_norms_is_whites_formula():
    z_a, z_b = np.array([2.0, 0.0, 0.0]), np.array([0.0, 0.0, 2.0])
    Z = slerp(z_a, z_b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 2.0)
    np.testing.assert_allclose(Z[2], [np.sqrt(2), 0.0, np.sqrt(2)])


def test_slerp_edge_cases():
    t = np.linspace(0, 1, 3)
    np.testing.assert_allclose(slerp([1.0, 0.0], [2.0, 0.0], t), [[1, 0], [1.5, 0], [2, 0]])
    np.testing.assert_allclose(slerp([0.0, 0.0], [2.0, 0.0], t), [[0, 0], [1, 0], [2, 0]])
    with pytest.raises(ValueError, match="opposite"):
        slerp([1.0, 0.0], [-1.0, 0.0], t)


def test_interpolate_rejects_bad_arguments(vae, bars):
    with pytest.raises(ValueError, match="method"):
        interpolate(vae, bars[0], bars[1], method="cubic")
    with pytest.raises(ValueError, match="steps"):
        interpolate(vae, bars[0], bars[1], steps=1)
    with pytest.raises(ValueError, match="x_b"):
        interpolate(vae, bars[0], bars[:2])


# ---------------------------------------------------------------------- traversal
def test_latent_traversal_sets_one_unit(vae, bars):
    values = np.linspace(-2, 2, 5)
    X_sweep, Z = latent_traversal(vae, bars[3], unit=1, values=values, return_latent=True)
    mu = vae.transform(bars[3:4])[0]
    assert X_sweep.shape == (5, bars.shape[1])
    np.testing.assert_array_equal(Z[:, 1], values)
    np.testing.assert_array_equal(Z[:, [0, 2]], np.tile(mu[[0, 2]], (5, 1)))
    np.testing.assert_allclose(X_sweep, vae.decode(Z), atol=1e-12)
    with pytest.raises(ValueError, match="unit"):
        latent_traversal(vae, bars[3], unit=3, values=values)
    with pytest.raises(ValueError, match="values"):
        latent_traversal(vae, bars[3], unit=0, values=[])


# ---------------------------------------------------------------------- active units
def test_active_units_counts_a_constructed_model():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 5))
    X = (X - X.mean(axis=0)) / X.std(axis=0)            # unit variance exactly (ddof 0)
    scales = np.array([1.0, 0.0, 0.05, 0.5, 0.2])       # A_u = scale²: 1, 0, 0.0025, 0.25, 0.04
    model = LinearEncoder(np.diag(scales))
    n, activity = active_units(model, X, return_activity=True)
    np.testing.assert_allclose(activity, scales ** 2, atol=1e-12)
    assert n == 3
    assert active_units(model, X, threshold=0.1) == 2
    assert active_units(model, X, threshold=0.0) == 4


def test_active_units_of_a_vae_on_constant_data_is_zero(vae, bars):
    assert active_units(vae, np.repeat(bars[:1], 10, axis=0)) == 0
    with pytest.raises(ValueError):
        active_units(vae, bars[:1])


# ---------------------------------------------------------------------- codec
@given(seed=seeds, bits=st.integers(1, 16), m=st.integers(1, 7), n=st.integers(1, 4))
def test_pack_unpack_round_trip(seed, bits, m, n):
    levels = np.random.default_rng(seed).integers(0, 1 << bits, size=(n, m)).astype(np.uint32)
    packed = _pack(levels, bits)
    assert packed.shape == (n, -(-bits * m // 8))
    np.testing.assert_array_equal(_unpack(packed, m, bits), levels)


@given(bits=st.integers(1, 16))
def test_quantiser_levels_are_fixed_points(bits):
    levels = np.arange(1 << bits, dtype=np.uint32)
    np.testing.assert_array_equal(quantize_cdf(dequantize_cdf(levels, bits), bits), levels)


def test_quantiser_bins_hold_equal_prior_mass():
    z = np.random.default_rng(0).standard_normal(200_000)
    counts = np.bincount(quantize_cdf(z, 3), minlength=8)
    # each of the 8 levels has probability 1/8 under N(0, 1): within 5 standard errors
    se = np.sqrt(200_000 * (1 / 8) * (7 / 8))
    assert np.all(np.abs(counts - 25_000) < 5 * se)
    assert quantize_cdf(np.array([-40.0, 40.0]), 3).tolist() == [0, 7]


@pytest.mark.parametrize("bits", [1, 3, 5, 8, 16])
def test_codec_round_trips_and_has_the_stated_size(vae, bars, bits):
    codec = LatentCodec(vae, bits)
    data = codec.encode(bars[:7])
    assert isinstance(data, bytes)
    assert codec.bytes_per_example == -(-bits * 3 // 8)
    assert len(data) == 7 * codec.bytes_per_example
    assert codec.encode(bars[:7]) == data
    X_hat = codec.decode(data)
    np.testing.assert_array_equal(X_hat, codec.decode(data))
    Z = codec.decode_latent(data)
    np.testing.assert_array_equal(codec.quantize(bars[:7]), quantize_cdf(Z, bits))
    np.testing.assert_allclose(X_hat, vae.decode(Z), atol=1e-12)
    # any example decodes on its own (its code exactly; the decoder's matrix product
    # may round differently for one row than for seven)
    b = codec.bytes_per_example
    np.testing.assert_array_equal(codec.decode_latent(data[2 * b:3 * b]), Z[2:3])
    np.testing.assert_allclose(codec.decode(data[2 * b:3 * b]), X_hat[2:3], rtol=1e-12)


def test_codec_error_shrinks_to_the_unquantised_one(vae, bars):
    mu = vae.transform(bars[:50])
    gaps = [np.abs(LatentCodec(vae, b).decode_latent(LatentCodec(vae, b).encode(bars[:50])) - mu).max()
            for b in (2, 6, 12)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-2


def test_codec_rejects_bad_input(vae, bars):
    for bits in (0, 17, 2.0, True):
        with pytest.raises(ValueError, match="bits"):
            LatentCodec(vae, bits)
    codec = LatentCodec(vae, 4)                           # 12 bits -> 2 bytes per example
    with pytest.raises(ValueError, match="multiple of 2"):
        codec.decode(b"\x00\x01\x02")
    with pytest.raises(TypeError, match="bytes"):
        codec.decode([0, 1])
    with pytest.raises(ValueError, match="levels"):
        codec.dequantize(np.array([[16, 0, 0]]))


# ---------------------------------------------------------------------- PCA and rate-distortion
def test_pca_fit_matches_the_covariance_eigendecomposition():
    X = normal_array(3, (200, 4)) @ np.diag([3.0, 1.0, 0.5, 0.1])
    mean, V, var = pca_fit(X)
    evals = np.linalg.eigvalsh(np.cov(X.T))[::-1]
    np.testing.assert_allclose(var, evals, rtol=1e-10)
    np.testing.assert_allclose(V @ V.T, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(mean, X.mean(axis=0))
    # all components and fine bits: almost lossless
    assert pca_codec_error(X, (mean, V, var), 4, 16) < 1e-6 * np.sum(var)


def test_rate_distortion_error_does_not_increase_with_bits(vae, bars):
    bits = [1, 2, 3, 4, 6, 8, 12]
    rd = rate_distortion(vae, bars[:200], bits, X_fit=bars)
    np.testing.assert_array_equal(rd["bits_per_example"], 3 * np.array(bits))
    # PCA: the quantisation error lies in the retained subspace, orthogonal to the rest
    assert np.all(np.diff(rd["pca_error"]) <= 1e-12)
    assert np.all(np.diff(rd["pca_best_error"]) <= 1e-12)
    # the model: a code may land nearer than μ(x) by chance, by far less than 0.1 %
    err = rd["model_error"]
    assert np.all(np.diff(err) <= 1e-3 * err[:-1])
    assert err[0] > 1.05 * err[-1]
    np.testing.assert_allclose(err[-1], rd["model_error_unquantized"], rtol=1e-3)
    assert np.all(rd["pca_best_error"] <= rd["pca_error"] + 1e-12)
    with pytest.raises(ValueError, match="bits"):
        rate_distortion(vae, bars, [])


def test_slerp_takes_a_scalar_t_and_checks_its_inputs():
    from minivae.latent import slerp

    np.testing.assert_allclose(slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.5),
                               [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0, 2.0]), 0.5)
    with pytest.raises(ValueError, match="NaN or infinity"):
        slerp(np.array([1.0, np.nan]), np.array([0.0, 1.0]), [0.0, 1.0])


# ---------------------------------------------------------------------- argument checks of the codec functions
@pytest.mark.parametrize("bits", [0, -1, 17, 2.0, True, np.bool_(True), "4", None])
def test_quantiser_functions_refuse_bad_bits_by_name_and_value(bits):
    z = np.zeros(3)
    for call in (lambda: quantize_cdf(z, bits), lambda: dequantize_cdf(np.zeros(3, dtype=int), bits)):
        with pytest.raises(ValueError, match=rf"bits must be an int in \[1, 16\], got {bits!r}"):
            call()


@pytest.mark.parametrize("scale, match", [
    (0.0, "scale must be finite and > 0.*got 0.0"),
    (-1.0, "scale must be finite and > 0.*got -1.0"),
    (np.inf, "scale must be finite and > 0.*got inf"),
    (np.array([1.0, np.nan, 1.0]), "scale must be finite and > 0.*got nan"),
    (np.ones(4), r"scale of shape \(4,\) does not broadcast to the shape \(3,\)"),
])
def test_quantiser_functions_refuse_a_bad_scale(scale, match):
    with pytest.raises(ValueError, match=match):
        quantize_cdf(np.zeros(3), 4, scale)
    with pytest.raises(ValueError, match=match):
        dequantize_cdf(np.zeros(3, dtype=np.uint32), 4, scale)
    with pytest.raises(TypeError, match="scale"):
        quantize_cdf(np.zeros(3), 4, "1")


def test_quantize_refuses_nan_and_non_numbers_but_maps_infinities_to_the_end_levels():
    with pytest.raises(ValueError, match=r"z contains NaN \(1 of 3"):
        quantize_cdf(np.array([0.0, np.nan, 1.0]), 4)
    for z in (np.array(["1.0"]), np.array([True]), np.array([1 + 1j])):
        with pytest.raises(TypeError, match="z must be an array of real numbers"):
            quantize_cdf(z, 4)
    assert quantize_cdf(np.array([-np.inf, np.inf]), 4).tolist() == [0, 15]


@pytest.mark.parametrize("levels, shown", [
    (np.array([0, 3, 16]), r"got 16 at index \(2,\)"),
    (np.array([[1, -1]]), r"got -1 at index \(0, 1\)"),
    (np.array([2**32 - 1], dtype=np.uint32), "got 4294967295"),
])
def test_dequantize_refuses_out_of_range_levels_instead_of_returning_nan(levels, shown):
    with pytest.raises(ValueError, match=r"levels must lie in \[0, 16\) for bits=4, " + shown):
        dequantize_cdf(levels, 4)


def test_dequantize_refuses_float_levels_rather_than_truncating_them(vae):
    with pytest.raises(TypeError, match="levels must be an array of integers"):
        dequantize_cdf(np.array([1.5, 2.0]), 4)
    with pytest.raises(TypeError, match="levels must be an array of integers"):
        LatentCodec(vae, 4).dequantize(np.array([[1.5, 0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"got -3 at index \(0, 1\)"):
        LatentCodec(vae, 4).dequantize(np.array([[1, -3, 0]]))
    # every valid level gives a finite value, integer dtypes alike
    for dtype in (np.uint8, np.int64, np.uint32):
        assert np.all(np.isfinite(dequantize_cdf(np.arange(16, dtype=dtype), 4)))


def test_pca_codec_error_checks_its_inputs_against_the_fitted_pca():
    X = normal_array(4, (50, 3))
    pca = pca_fit(X)
    with pytest.raises(ValueError, match=r"X has shape \(5, 1\), but the PCA was fitted on 3 "
                                         r"features \(mean of shape \(3,\), components of shape \(3, 3\)\)"):
        pca_codec_error(np.ones((5, 1)), pca, 2, 4)     # (5, 1) broadcast silently before
    with pytest.raises(ValueError, match=r"X has shape \(5, 4\)"):
        pca_codec_error(np.ones((5, 4)), pca, 2, 4)
    for k in (0, 4, -1, 2.0, True):
        with pytest.raises(ValueError, match=rf"n_components must be an int in \[1, 3\].*got {k!r}"):
            pca_codec_error(X, pca, k, 4)
    for bits in (0, 17, 1.0):
        with pytest.raises(ValueError, match=rf"bits must be an int in \[1, 16\], got {bits!r}"):
            pca_codec_error(X, pca, 2, bits)
    with pytest.raises(ValueError, match="pca must be the tuple"):
        pca_codec_error(X, pca[:2], 2, 4)
    with pytest.raises(ValueError, match=r"components \(2, 3\), variances \(3,\)"):
        pca_codec_error(X, (pca[0], pca[1][:2], pca[2]), 2, 4)
    with pytest.raises(ValueError, match="X contains NaN"):
        pca_codec_error(np.full((2, 3), np.nan), pca, 2, 4)


def test_rate_distortion_names_a_bad_bits_list(vae, bars):
    with pytest.raises(ValueError, match=r"every entry of bits_list must be an int in \[1, 16\], got 0"):
        rate_distortion(vae, bars[:20], [2, 0])
    with pytest.raises(TypeError, match="bits_list must be a sequence"):
        rate_distortion(vae, bars[:20], 4)


def test_a_mixture_decoder_is_refused_by_name(bars):
    # An EMVAE decodes z with each of its K decoders, (K, n, nx): the latent tools need
    # one decoder. It was a NumPy einsum error (rate_distortion) or a silent 3-D
    # array (interpolate).
    from minivae import EMVAE

    model = EMVAE(n_components=2, n_latent=2, hidden_sizes=(4,), n_epochs=1, random_state=0).fit(bars)
    with pytest.raises(TypeError, match=r"EMVAE\.decode returned shape \(2, 4, 64\).*one decoder"):
        interpolate(model, bars[0], bars[1], steps=4)
    with pytest.raises(TypeError, match=r"EMVAE"):
        rate_distortion(model, bars[:20], [2])


def test_rate_distortion_blames_the_right_array_for_mismatched_columns(vae, bars):
    with pytest.raises(ValueError, match=r"X_fit has 63 columns, but X has 64"):
        rate_distortion(vae, bars[:20], [2], X_fit=bars[:, :63])
    # X is the wrong one here: the message must not say the model was fitted with 63.
    with pytest.raises(ValueError, match=r"X_fit has 64 columns, but X has 63"):
        rate_distortion(vae, bars[:20, :63], [2], X_fit=bars)


def test_dequantize_of_no_levels_is_empty():
    # NumPy reads [] as float64; there is no level in it to refuse.
    out = dequantize_cdf([], 4)
    assert out.shape == (0,) and out.dtype == np.float64
