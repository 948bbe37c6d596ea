"""The speed paths chosen per machine give the same numbers as the plain formulas."""

import numpy as np
import pytest
from scipy.special import expit

import minivae.nn as nn


@pytest.mark.parametrize("fast", [False, True])
def test_sigmoid_float64_paths_agree_and_accept_scalars(monkeypatch, fast):
    # Both float64 paths (scipy's expit and NumPy's exp formula) on any machine.
    monkeypatch.setattr(nn, "_FAST_EXP64", fast)
    a = np.concatenate([np.linspace(-800.0, 800.0, 4001), [0.0, -1e300, 1e300]])
    with np.errstate(over="raise"):
        s = nn.sigmoid(a)
    np.testing.assert_allclose(s, expit(a), rtol=4e-16, atol=0)
    for x in (np.float64(3.0), np.array(-2.0), 0.5):
        assert nn.sigmoid(x) == pytest.approx(expit(x), rel=1e-15)


def test_fast_exp_flag_is_a_bool_decided_at_import():
    assert isinstance(nn._FAST_EXP64, bool)
    assert nn._FAST_EXP64 == nn._numpy_exp64_is_simd()
