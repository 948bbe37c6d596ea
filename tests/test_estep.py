"""Tests for minivae.estep: the E-step (2.43) three ways.

The compiled loops (parallel and serial bindings) are checked against the
NumPy reference, against the same loops run as plain Python (what
NUMBA_DISABLE_JIT=1 would run) and against scipy.special.logsumexp and
log_softmax applied to a_ik = ln α_k + ln p(x_i | k) directly. Inputs include
log-likelihoods of ±1e4, −inf entries, dead components (α_k = 0) and rows
that are −inf under every component.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.special import log_softmax, logsumexp

from minivae.estep import (
    _SERIAL_MAX_ENTRIES,
    _e_step_loops,
    _e_step_numba,
    _e_step_numba_serial,
    e_step,
    e_step_reference,
)
from tests.strategies import seeds

REPO = Path(__file__).resolve().parents[1]

n_rows = st.integers(min_value=1, max_value=30)
n_components = st.integers(min_value=1, max_value=7)
scales = st.sampled_from([1.0, 30.0, 1e4])


def _inputs(seed, n, K, scale, p_neginf=0.0, p_dead=0.0, p_empty_row=0.0):
    """log_prob ~ scale·N(0, 1) with some −inf entries and empty rows; log α with dead components."""
    rng = np.random.default_rng(seed)
    log_prob = scale * rng.standard_normal((n, K))
    log_prob[rng.random((n, K)) < p_neginf] = -np.inf
    log_prob[rng.random(n) < p_empty_row] = -np.inf
    alpha = rng.dirichlet(np.ones(K))
    alpha[rng.random(K) < p_dead] = 0.0
    if not alpha.any():
        alpha[rng.integers(K)] = 1.0
    with np.errstate(divide="ignore"):
        log_alpha = np.log(alpha / alpha.sum())
    return log_prob, log_alpha


def _rel_err(actual, expected):
    """max |a − e| / max(1, |e|) over finite entries; −inf must sit in the same places."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert not np.isnan(actual).any() and not np.isnan(expected).any()
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    assert np.isfinite(actual[~np.isneginf(actual)]).all()
    finite = np.isfinite(expected)
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(actual[finite] - expected[finite]) / np.maximum(1.0, np.abs(expected[finite]))))


def _scipy_oracle(log_prob, log_alpha):
    """logsumexp and log_softmax of a_ik row by row; empty rows get the prior α / Σ α."""
    a = log_alpha[None, :] + log_prob
    log_gamma = np.empty_like(a)
    log_norm = np.empty(len(a))
    for i, row in enumerate(a):
        if np.isneginf(row).all():
            log_gamma[i] = log_alpha - logsumexp(log_alpha)
            log_norm[i] = -np.inf
        else:
            log_gamma[i] = log_softmax(row)
            log_norm[i] = logsumexp(row)
    return log_gamma, log_norm


def _check_valid(log_gamma, log_norm, log_prob, log_alpha):
    n, K = log_prob.shape
    assert log_gamma.shape == (n, K) and log_norm.shape == (n,)
    assert log_gamma.dtype == np.float64 and log_norm.dtype == np.float64
    assert not np.isnan(log_gamma).any() and not np.isnan(log_norm).any()
    assert (log_gamma <= 0.0).all()
    assert not np.isposinf(log_norm).any()
    np.testing.assert_allclose(np.exp(log_gamma).sum(axis=1), 1.0, rtol=0, atol=1e-13 * K)
    dead = np.isneginf(log_alpha)
    assert np.isneginf(log_gamma[:, dead]).all()                # α_k = 0 ⇒ γ_ik = 0 exactly


# --------------------------------------------------------------------------
# Agreement of the three implementations and scipy
# --------------------------------------------------------------------------

@given(seed=seeds, n=n_rows, K=n_components, scale=scales,
       p_neginf=st.sampled_from([0.0, 0.3]), p_dead=st.sampled_from([0.0, 0.4]),
       p_empty_row=st.sampled_from([0.0, 0.3]))
@example(seed=0, n=1, K=1, scale=1.0, p_neginf=0.0, p_dead=0.0, p_empty_row=0.0)
@example(seed=1, n=5, K=1, scale=1e4, p_neginf=0.0, p_dead=0.0, p_empty_row=1.0)
@example(seed=2, n=7, K=6, scale=1e4, p_neginf=0.3, p_dead=0.4, p_empty_row=0.3)
def test_compiled_loops_reference_and_scipy_agree(seed, n, K, scale, p_neginf, p_dead, p_empty_row):
    log_prob, log_alpha = _inputs(seed, n, K, scale, p_neginf, p_dead, p_empty_row)
    oracle = _scipy_oracle(log_prob, log_alpha)
    reference = e_step_reference(log_prob, log_alpha)
    candidates = {
        "e_step": e_step(log_prob, log_alpha),
        "numba parallel": _e_step_numba(log_prob, log_alpha),
        "numba serial": _e_step_numba_serial(log_prob, log_alpha),
        "plain loops": _e_step_loops(log_prob, log_alpha),
        "numpy backend": e_step(log_prob, log_alpha, backend="numpy"),
    }
    _check_valid(*reference, log_prob, log_alpha)
    assert _rel_err(reference[0], oracle[0]) < 1e-10
    assert _rel_err(reference[1], oracle[1]) < 1e-10
    for name, (log_gamma, log_norm) in candidates.items():
        _check_valid(log_gamma, log_norm, log_prob, log_alpha)
        assert _rel_err(log_gamma, reference[0]) < 1e-10, name
        assert _rel_err(log_norm, reference[1]) < 1e-10, name
        assert _rel_err(log_gamma, oracle[0]) < 1e-10, name
        assert _rel_err(log_norm, oracle[1]) < 1e-10, name
    # Both bindings compile the same loops to the same machine arithmetic. (The
    # plain-Python run may differ from them in the last bit: it calls NumPy's
    # scalar exp and log, the compiled code the C library's.)
    np.testing.assert_array_equal(candidates["numba parallel"][0], candidates["numba serial"][0])
    np.testing.assert_array_equal(candidates["numba parallel"][1], candidates["numba serial"][1])
    assert _rel_err(candidates["plain loops"][0], candidates["numba serial"][0]) < 1e-14
    assert _rel_err(candidates["plain loops"][1], candidates["numba serial"][1]) < 1e-14


@given(seed=seeds, n=n_rows, K=n_components)
def test_gamma_is_bayes_rule_in_probability_space(seed, n, K):
    # O(1) log-likelihoods: (2.43) can be evaluated directly with exp, no log-sum-exp.
    log_prob, log_alpha = _inputs(seed, n, K, 1.0, p_dead=0.3)
    joint = np.exp(log_alpha)[None, :] * np.exp(log_prob)
    log_gamma, log_norm = e_step(log_prob, log_alpha)
    np.testing.assert_allclose(np.exp(log_gamma), joint / joint.sum(axis=1, keepdims=True),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.exp(log_norm), joint.sum(axis=1), rtol=1e-12)


def test_larger_input_takes_the_parallel_path_and_agrees():
    log_prob, log_alpha = _inputs(3, 50_000, 6, 1e4, p_neginf=0.2, p_dead=0.3, p_empty_row=0.05)
    assert log_prob.size > _SERIAL_MAX_ENTRIES
    log_gamma, log_norm = e_step(log_prob, log_alpha)
    serial = _e_step_numba_serial(log_prob, log_alpha)
    np.testing.assert_array_equal(log_gamma, serial[0])
    np.testing.assert_array_equal(log_norm, serial[1])
    reference = e_step_reference(log_prob, log_alpha)
    _check_valid(log_gamma, log_norm, log_prob, log_alpha)
    assert _rel_err(log_gamma, reference[0]) < 1e-10
    assert _rel_err(log_norm, reference[1]) < 1e-10


# --------------------------------------------------------------------------
# Conventions and extreme values, in closed form
# --------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_extreme_log_likelihoods_in_closed_form(backend):
    log_prob = np.array([
        [1e4, 1e4],               # a tie: γ = ½ each, ln p = 1e4 + ln 2 (with α = ½: 1e4)
        [1e4, -1e4],              # e^(−2e4) underflows; γ = (1, 0) with ln γ_2 = −2e4 exact
        [-1e4, -1e4 - np.log(3.0)],   # γ = (3/4, 1/4)
        [-np.inf, -1e4],          # one impossible component
    ])
    log_gamma, log_norm = e_step(log_prob, np.log([0.5, 0.5]), backend=backend)
    expected_gamma = np.array([
        [-np.log(2.0), -np.log(2.0)],
        [0.0, -2e4],
        [np.log(0.75), np.log(0.25)],
        [-np.inf, 0.0],
    ])
    expected_norm = np.array([1e4, 1e4 - np.log(2.0), -1e4 + np.log(2.0 / 3.0), -1e4 - np.log(2.0)])
    # 1e-12: −1e4 − ln 3 is itself rounded to a spacing of 1.8e-12.
    assert _rel_err(log_gamma, expected_gamma) < 1e-12
    assert _rel_err(log_norm, expected_norm) < 1e-15
    assert log_gamma[1, 0] == 0.0 and log_gamma[1, 1] == -2e4 and log_norm[0] == 1e4
    # γ ≈ 1 keeps full relative precision: ln γ = −ln(1 + e^(−40)), not a cancellation to 0.
    log_gamma, _ = e_step(np.array([[1e4, 1e4 - 40.0]]), backend=backend)
    assert log_gamma[0, 0] == pytest.approx(-np.exp(-40.0), rel=1e-12, abs=0)
    assert log_gamma[0, 1] == -40.0


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_row_impossible_under_every_component_falls_back_to_the_prior(backend):
    log_alpha = np.log([0.2, 0.0 + 1e-300, 0.8])
    log_alpha[1] = -np.inf
    log_prob = np.array([[-np.inf, 0.0, -np.inf],    # only the dead component allows it
                         [-np.inf, -np.inf, -np.inf],
                         [-1.0, -2.0, -3.0]])
    log_gamma, log_norm = e_step(log_prob, log_alpha, backend=backend)
    np.testing.assert_array_equal(log_norm[:2], -np.inf)
    for i in (0, 1):
        np.testing.assert_allclose(np.exp(log_gamma[i]), [0.2, 0.0, 0.8], rtol=1e-15)
        assert np.isneginf(log_gamma[i, 1])
    assert np.isfinite(log_norm[2])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_unnormalised_alpha_shifts_only_the_normaliser(backend):
    log_prob, log_alpha = _inputs(4, 9, 3, 5.0, p_empty_row=0.2)
    g1, n1 = e_step(log_prob, log_alpha, backend=backend)
    g2, n2 = e_step(log_prob, log_alpha + 2.5, backend=backend)
    assert _rel_err(g2, g1) < 1e-13
    assert _rel_err(n2, n1 + 2.5) < 1e-13


def test_single_component_and_default_uniform_alpha():
    log_prob = np.array([[-3.0], [-np.inf], [1e4]])
    log_gamma, log_norm = e_step(log_prob)
    np.testing.assert_array_equal(log_gamma, 0.0)
    np.testing.assert_array_equal(log_norm, log_prob[:, 0])
    log_prob, _ = _inputs(5, 6, 4, 3.0)
    uniform = e_step(log_prob, np.full(4, np.log(0.25)))
    default = e_step(log_prob)
    np.testing.assert_array_equal(default[0], uniform[0])
    np.testing.assert_array_equal(default[1], uniform[1])


def test_each_row_depends_only_on_itself():
    log_prob, log_alpha = _inputs(6, 40, 5, 1e4, p_neginf=0.2, p_empty_row=0.1)
    whole = e_step(log_prob, log_alpha)
    for rows in (slice(0, 1), slice(3, 17), np.array([39, 2, 11])):
        part = e_step(log_prob[rows], log_alpha)
        np.testing.assert_array_equal(part[0], whole[0][rows])
        np.testing.assert_array_equal(part[1], whole[1][rows])


def test_inputs_are_converted():
    log_prob = np.asfortranarray(np.arange(12, dtype=np.int32).reshape(4, 3) * -1)
    expected = e_step(log_prob.astype(np.float64), np.log([0.5, 0.25, 0.25]))
    for lp in (log_prob, log_prob.astype(np.float32), log_prob.tolist()):
        got = e_step(lp, [np.log(0.5), np.log(0.25), np.log(0.25)])
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


# --------------------------------------------------------------------------
# Bit-identical at any thread count
# --------------------------------------------------------------------------

_THREAD_SCRIPT = """
import hashlib, sys
import numba, numpy as np
from minivae.estep import e_step
rng = np.random.default_rng(7)
log_prob = 1e3 * rng.standard_normal((50000, 6))
log_prob[rng.random(log_prob.shape) < 0.2] = -np.inf
log_prob[::97] = -np.inf
log_alpha = np.log([0.3, 0.0 + 1e-300, 0.2, 0.1, 0.25, 0.15]); log_alpha[1] = -np.inf
log_gamma, log_norm = e_step(log_prob, log_alpha)
print(numba.get_num_threads(), hashlib.sha256(log_gamma.tobytes() + log_norm.tobytes()).hexdigest())
"""


def test_bit_identical_at_1_2_and_16_threads():
    env = {**os.environ}
    runs = {}
    for threads in (1, 2, 16):
        env_t = {**env, "NUMBA_NUM_THREADS": str(threads)}
        runs[threads] = subprocess.Popen([sys.executable, "-c", _THREAD_SCRIPT], cwd=REPO, env=env_t,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    digests = set()
    for threads, proc in runs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        used, digest = out.split()
        assert int(used) == threads
        digests.add(digest)
    # The same computation in this process, whatever its thread count.
    rng = np.random.default_rng(7)
    log_prob = 1e3 * rng.standard_normal((50000, 6))
    log_prob[rng.random(log_prob.shape) < 0.2] = -np.inf
    log_prob[::97] = -np.inf
    assert log_prob.size > _SERIAL_MAX_ENTRIES
    log_alpha = np.log([0.3, 1e-300, 0.2, 0.1, 0.25, 0.15])
    log_alpha[1] = -np.inf
    log_gamma, log_norm = e_step(log_prob, log_alpha)
    digests.add(hashlib.sha256(log_gamma.tobytes() + log_norm.tobytes()).hexdigest())
    assert len(digests) == 1


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: e_step(np.zeros(3)), ValueError, "log_prob must be a 2-D array, got 1-D with shape"),
    (lambda: e_step(np.zeros((0, 2))), ValueError, r"log_prob must not be empty, got shape \(0, 2\)"),
    (lambda: e_step(np.zeros((2, 0))), ValueError, "log_prob must not be empty"),
    (lambda: e_step([[0.0, np.nan]]), ValueError, "log_prob must hold finite values or -inf, got 1 NaN"),
    (lambda: e_step([[0.0, np.inf], [np.inf, 1]]), ValueError, "got 0 NaN and 2 \\+inf"),
    (lambda: e_step("abc"), TypeError, "log_prob must be a numeric array, got str"),
    (lambda: e_step(np.array([["a", "b"]])), TypeError, "log_prob must be a numeric array, got dtype"),
    (lambda: e_step(np.zeros((2, 2)) + 1j), TypeError, "log_prob must be real-valued"),
    (lambda: e_step(np.zeros((2, 3)), np.zeros(2)), ValueError,
     r"log_alpha must have one entry per column of log_prob \(3\), got 2"),
    (lambda: e_step(np.zeros((2, 2)), np.zeros((1, 2))), ValueError, "log_alpha must be a 1-D array"),
    (lambda: e_step(np.zeros((2, 2)), [0.0, np.nan]), ValueError, "log_alpha must hold finite values or -inf"),
    (lambda: e_step(np.zeros((2, 2)), [0.0, np.inf]), ValueError, "log_alpha must hold finite values or -inf"),
    (lambda: e_step(np.zeros((2, 2)), [-np.inf, -np.inf]), ValueError,
     "log_alpha must have at least one finite entry"),
    (lambda: e_step(np.zeros((2, 2)), backend="cuda"), ValueError,
     "backend must be 'numba' or 'numpy', got 'cuda'"),
    (lambda: e_step_reference([[np.nan]]), ValueError, "log_prob must hold finite values or -inf"),
])
def test_bad_input_raises_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_serial_and_parallel_bindings_have_separate_cache_entries():
    # numba keys its on-disk cache by function name and argument types, not by
    # compile options: sharing one entry, a process would load the parallel
    # build for the serial binding (and start the thread pool on every minibatch).
    names = {binding._cache._cache_file._index_name for binding in (_e_step_numba, _e_step_numba_serial)}
    assert len(names) == 2
    assert _e_step_numba_serial.py_func.__code__ is _e_step_loops.__code__
