"""Compile a plain-loop kernel with numba, caching the machine code when the disk allows.

Each hot loop of minivae (the MMD in :mod:`minivae.mmd`, the E-step in
:mod:`minivae.estep`, Adam's update in :mod:`minivae.optim`) is written as a
plain Python function and bound here with ``njit``. ``cache=True`` writes the
compiled code next to the module (or under ``NUMBA_CACHE_DIR``); on a
read-only install with an unwritable home directory
numba refuses with ``RuntimeError: cannot cache function`` at decoration time.
Caching only saves the compile time of the first call, so in that case the
kernel is compiled without a cache instead of failing the import.
"""

import types
import warnings

from numba import njit

__all__ = ["compile_kernel"]


def compile_kernel(loops, parallel=False, **options):
    """Return ``njit(cache=True, parallel=parallel, **options)(loops)``, or the same without cache.

    Parameters
    ----------
    loops : callable
        The plain-loop function; it stays importable and callable uncompiled.
    parallel : bool
        Let ``numba.prange`` run its iterations on several threads.
    **options
        Further ``njit`` options (``error_model``, ...). Never ``fastmath``
        for kernels where −inf or NaN must survive.
    """
    if not parallel:
        # numba keys its on-disk cache by file, qualified name and argument types, not by
        # compile options: a serial and a parallel build of the same loops would share one
        # entry, and a later process would load the parallel code for the serial binding.
        copy = types.FunctionType(loops.__code__, loops.__globals__, loops.__name__ + "_serial",
                                  loops.__defaults__, loops.__closure__)
        copy.__qualname__ = loops.__qualname__ + "_serial"
        copy.__doc__ = loops.__doc__
        loops = copy
    try:
        return njit(cache=True, parallel=parallel, **options)(loops)
    except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
        warnings.warn(f"numba cannot cache {loops.__name__} ({exc}); compiling it without a cache",
                      RuntimeWarning, stacklevel=2)
        return njit(cache=False, parallel=parallel, **options)(loops)
