"""exp(x) for x <= 0 from + − × and bit moves, so that compiled loops calling it vectorise.

The two hot loops (:mod:`minivae.mmd`, the Gaussian kernel e^(−γ‖x − y‖²), and
:mod:`minivae.estep`, the log-sum-exp of (2.43)) spend their time in ``exp`` of
non-positive numbers. numba compiles ``np.exp`` inside a loop to one call of
the C library per element (this numba has no SVML), and a call in the loop
body stops LLVM from vectorising it. :func:`exp_nonpositive` is the textbook
range reduction plus polynomial, within 1 ulp of ``np.exp`` (tests), which
numba inlines (``exp_nonpositive_numba``) and LLVM turns into SIMD code.
Not part of the public API: a building block of the kernels.
"""

import numpy as np

from ._jit import compile_kernel

__all__ = ["exp_nonpositive", "exp_nonpositive_numba", "exp_nonpositive_array"]


def exp_nonpositive(x):
    """exp(x) for x <= 0 (or −inf), within 1 ulp of ``np.exp``, from + − × and bit moves only.

    numba compiles ``np.exp`` inside a loop to one call of the C library per
    element, which stops the compiler from vectorising the Gaussian kernel's
    loop; the kernel then runs at scalar exp speed. This function uses only
    operations that LLVM turns into SIMD instructions, so the loop that calls
    it (inlined) processes 4 or 8 pairs per instruction.

    Parameters
    ----------
    x : float
        The exponent, −γ‖x − y‖² in the kernel: at most 0. NaN is not handled.

    Returns
    -------
    float
        exp(x): 1 at x = 0, subnormal below x ≈ −708.4, exactly 0 below
        x ≈ −745.13 (as ``np.exp``).

    Notes
    -----
    The textbook method (e.g. Muller, Elementary Functions, ch. 11):

    1. range reduction: x = k ln 2 + r with k = round(x / ln 2) and
       |r| <= ln 2 / 2. Adding and subtracting 1.5·2⁵² rounds x / ln 2 to the
       nearest integer (without fastmath the compiler keeps both additions).
       ln 2 is split into a head with 32 significant bits, so that k·head is
       exact for |k| < 2²¹, and a tail (Cody & Waite), which keeps r accurate
       to the last bit;
    2. exp(r) by its Taylor series to degree 13, by Horner's rule; the
       truncation error r¹⁴/14! < 4·10⁻¹⁸ is below half an ulp of 1;
    3. exp(x) = 2ᵏ·exp(r), with 2ᵏ built from its bits: the biased exponent
       k + 1023 shifted into place, read back as a float64. k goes down to −1076,
       below the normal range, so the scaling is split into 2^(k − h)·2^h with
       h = ⌊k/2⌋; both factors are normal and the product rounds once into
       the subnormals, as the C library does.

    x is clamped at −1000 first, where the result is 0 whatever the clamp, so
    that k stays small; −inf (from r² = inf) gives 0.
    """
    x = max(x, -1000.0)
    shifted = x * 1.4426950408889634 + 6755399441055744.0      # x / ln 2 + 1.5·2⁵²
    k = shifted - 6755399441055744.0                          # round(x / ln 2)
    r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
    p = 1.0 / 6227020800.0                                    # 1/13!
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    ki = np.int64(k)
    h = ki >> 1
    two_h = np.int64((h + 1023) << 52).view(np.float64)          # 2^h
    two_rest = np.int64((ki - h + 1023) << 52).view(np.float64)  # 2^(k − h)
    return p * two_h * two_rest


# Inlined into the compiled loops (numba inlines it before LLVM sees the loop,
# which the vectoriser needs); called as plain Python it runs uncompiled.
exp_nonpositive_numba = compile_kernel(exp_nonpositive, inline="always")


def _exp_nonpositive_loops(x, out):
    """out[i] = exp(x[i]) by :func:`exp_nonpositive`; the tests compare it with np.exp."""
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive_numba(x[i])


# Compiled as the loops that inline it are (fused multiply-add allowed), since
# the inlined exp takes on the flags of the loop it is inlined into.
exp_nonpositive_array = compile_kernel(_exp_nonpositive_loops, fastmath={"contract"})
