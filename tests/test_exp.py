"""The vectorisable exp of the compiled loops (minivae._exp) against np.exp."""

import numpy as np

from minivae._exp import exp_nonpositive, exp_nonpositive_array


def _ulps_apart(a, b):
    """Units in the last place between non-negative float64 arrays (0 and subnormals included)."""
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_exp_nonpositive_is_within_one_ulp_of_np_exp_over_the_whole_range():
    # Everything −γ r² can be: tiny exponents near 0, the normal range, the
    # subnormal range below −708.4, underflow to 0 below −745.13, and −inf.
    x = np.concatenate([
        -np.logspace(-300, np.log10(800.0), 200_000),
        np.linspace(-760.0, 0.0, 200_001),
        np.linspace(-746.0, -707.0, 50_001),
        [0.0, -0.0, -5e-324, -1e-17, -0.34657359027997264, -0.3465735902799727,
         -708.3964185322641, -708.3964185322642, -745.1332191019411, -745.1332191019412,
         -1000.0, -1e300, -np.inf],
    ])
    got = np.empty_like(x)
    exp_nonpositive_array(x, got)
    expected = np.exp(x)
    assert _ulps_apart(got, expected).max() <= 1
    np.testing.assert_array_equal(got == 0.0, expected == 0.0)
    assert got[np.argmax(x == 0.0)] == 1.0
    assert got[-1] == 0.0 and np.all(got >= 0.0)
    subnormal = (expected > 0) & (expected < np.finfo(float).tiny)
    assert subnormal.sum() > 10_000 and _ulps_apart(got[subnormal], expected[subnormal]).max() <= 1


def test_exp_nonpositive_as_plain_python_agrees_with_the_compiled_version():
    # Compiled, a·b + c may be one fused multiply-add: the last bit can differ.
    x = np.array([0.0, -1e-10, -0.5, -1.0, -37.2, -700.0, -720.5, -745.0, -800.0, -np.inf])
    compiled = np.empty_like(x)
    exp_nonpositive_array(x, compiled)
    plain = np.array([exp_nonpositive(v) for v in x])
    assert _ulps_apart(plain, compiled).max() <= 1
    assert _ulps_apart(plain, np.exp(x)).max() <= 1
    assert plain[0] == 1.0 and plain[-2] == plain[-1] == 0.0
