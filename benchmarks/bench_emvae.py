"""Time the EMVAE's hot loop, the E-step (2.43), and one EMVAE epoch against one VAE epoch.

What is measured
----------------
1. E-step. One call of ``minivae.estep.e_step`` on an (n, K) array of
   log-likelihoods (N(0, 30²) values, a tenth of them −inf, one dead component
   when K = 6), for n in {1e4, 1e5, 1e6} and K in {2, 6}:

   numpy   ``backend="numpy"``: the vectorised reference with
           ``scipy.special.logsumexp`` (about ten passes over (n, K) arrays);
   numba   ``backend="numba"``: the compiled loops, fused passes over blocks
           of rows, the exponentials vectorised, ``prange`` over blocks
           (serial below 250,000 entries).

   Both are timed through the public function, so both include the same input
   validation (the NaN/+inf scan); the column "kernel" is the parallel compiled
   loops alone, "1 thread" the same on one thread. The reference's cost is
   memory traffic and NumPy's SIMD exp (about 1 ns per value); the compiled
   loops save the passes over memory and compute exp in vectorised arithmetic
   (``minivae._exp.exp_nonpositive``: numba alone would call the C library's
   scalar exp per value, as it has no SVML here), which makes them about 2x
   the reference per core, before the second thread. Each time is per call,
   the best of ``--repeats`` rounds after one untimed warm-up call (which
   compiles the loops or loads them from the on-disk cache); a round repeats
   the call until it lasts 50 ms, and the implementations are interleaved so
   that load from other processes hits them alike. Target from the issue: numba >= 2x numpy at n = 1e6, K = 6.

2. Epoch time. One epoch of ``EMVAE(n_components=6)`` against one epoch of a
   ``VAE`` with the same architecture, at the thesis's KDD shape (nx = 34,
   nh = 30, nz = 10, sigmoid, batch 100) on 20,000 random rows. Target:
   EMVAE <= 3x VAE (six separate VAEs run one after another would be >= 6x).

Usage
-----
    python benchmarks/bench_emvae.py               # full run (about a minute)
    python benchmarks/bench_emvae.py --quick       # n in {1e4, 1e5}, fewer rows
    python benchmarks/bench_emvae.py --no-epoch    # the E-step table only
    python benchmarks/bench_emvae.py --cpu-time    # epochs timed in CPU time (busy machine)
"""

import argparse
import os
import sys
import time

import numba
import numpy as np

# Measure the minivae of this checkout, not whichever copy is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minivae.estep import _e_step_numba, e_step


# Wall-clock time by default; --cpu-time switches to this process's CPU time.
clock = time.perf_counter


def time_interleaved(funcs, repeats, min_time=0.05):
    """Best wall-clock seconds per call of each function over ``repeats`` interleaved rounds.

    A round calls a function ``number`` times in a row, with ``number`` chosen
    (as ``timeit`` does) so that a round lasts at least ``min_time``: a single
    call of a fraction of a millisecond would otherwise measure the scheduler
    of a busy machine rather than the call.
    """
    numbers = {}
    for name, f in funcs.items():
        number = 1
        while True:
            t0 = clock()
            for _ in range(number):
                f()
            if clock() - t0 >= min_time or number >= 1000:
                break
            number *= 2
        numbers[name] = number
    best = {name: np.inf for name in funcs}
    for _ in range(repeats):
        for name, f in funcs.items():
            t0 = clock()
            for _ in range(numbers[name]):
                f()
            best[name] = min(best[name], (clock() - t0) / numbers[name])
    return best


def _with_threads(n_threads, f):
    """``f`` run with numba on ``n_threads`` threads, the previous count restored afterwards."""
    def call():
        old = numba.get_num_threads()
        numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
        try:
            return f()
        finally:
            numba.set_num_threads(old)
    return call


def estep_inputs(n, K, rng):
    log_prob = 30.0 * rng.standard_normal((n, K))
    log_prob[rng.random((n, K)) < 0.1] = -np.inf
    alpha = np.full(K, 1.0 / K)
    if K > 2:
        alpha[-1] = 0.0
        alpha /= alpha.sum()
    with np.errstate(divide="ignore"):
        return log_prob, np.log(alpha)


def rel_diff(actual, expected):
    """max |a − e| / max(1, |e|) over the entries where the reference is finite."""
    finite = np.isfinite(expected)
    if not np.array_equal(np.isneginf(actual), np.isneginf(expected)):
        return np.inf
    return float(np.max(np.abs(actual[finite] - expected[finite]) / np.maximum(1, np.abs(expected[finite]))))


def bench_estep(sizes, components, repeats):
    rng = np.random.default_rng(0)
    header = (f"{'n':>9} {'K':>2}{'numpy ms':>11}{'numba ms':>11}{'kernel ms':>11}{'1 thread':>10}"
              f"{'numpy/numba':>13}{'max rel diff':>14}")
    print(header)
    print("-" * len(header))
    rows = []
    for n in sizes:
        for K in components:
            log_prob, log_alpha = estep_inputs(n, K, rng)
            ref = e_step(log_prob, log_alpha, backend="numpy")
            got = e_step(log_prob, log_alpha)                # warm-up: compile or load from cache
            _e_step_numba(log_prob, log_alpha)
            diff = max(rel_diff(got[0], ref[0]), rel_diff(got[1], ref[1]))
            best = time_interleaved({
                "numpy": lambda: e_step(log_prob, log_alpha, backend="numpy"),
                "numba": lambda: e_step(log_prob, log_alpha),
                "kernel": lambda: _e_step_numba(log_prob, log_alpha),
                "1 thread": _with_threads(1, lambda: _e_step_numba(log_prob, log_alpha)),
            }, repeats)
            ratio = best["numpy"] / best["numba"]
            rows.append((n, K, ratio))
            print(f"{n:>9} {K:>2}{1e3 * best['numpy']:11.2f}{1e3 * best['numba']:11.2f}"
                  f"{1e3 * best['kernel']:11.2f}{1e3 * best['1 thread']:10.2f}{ratio:13.1f}{diff:14.1e}",
                  flush=True)
    return rows


def time_products(K, repeats, B=100, nx=34, nh=30, nz=10):
    """Seconds per step of the matrix products alone, K stacked networks (K = 1: one 2-D network).

    The 14 products of one step of the 34-30-10 VAE at batch B (forward x Wᵀ of
    the 5 layers, backward δᵀx of the 5 weights and δW of the 4 layers above
    the first), on (K, rows, cols) stacks as the EMVAE runs them, or on plain
    2-D arrays as the VAE does. The stacked products do K times the
    arithmetic, and batching them saves only the per-call overhead; the
    VAE step plus the difference is what an EMVAE step would cost if nothing
    else grew with K (its elementwise work grows K-fold too).
    """
    rng = np.random.default_rng(0)
    lead = (K,) if K > 1 else ()

    def arr(*shape):
        return rng.standard_normal(lead + shape)

    x = rng.standard_normal((B, nx))                 # the data, shared by the components
    h, z, out = arr(B, nh), arr(B, nz), arr(B, nx)
    W_enc, W_mu, W_ls, W_d1, W_d2 = arr(nh, nx), arr(nz, nh), arr(nz, nh), arr(nh, nz), arr(nx, nh)

    def products():
        x @ W_enc.mT; h @ W_mu.mT; h @ W_ls.mT; z @ W_d1.mT; h @ W_d2.mT     # forward
        out.mT @ h; out @ W_d2; h.mT @ z; h @ W_d1                           # decoder, backward
        z.mT @ h; z @ W_mu; z.mT @ h; z @ W_ls                               # heads, backward
        h.mT @ x                                                             # encoder weight

    return time_interleaved({"products": products}, repeats)["products"]


def bench_epoch(n_rows, repeats):
    """Seconds per epoch of EMVAE(K = 6) and VAE at 34-30-10, batch 100."""
    try:
        from minivae.models import EMVAE, VAE
    except ImportError as exc:
        print(f"\nEMVAE-vs-VAE epoch time: skipped (minivae.models has no EMVAE yet: {exc})")
        return None
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, 34))               # KDD-like shape; timing only
    common = dict(n_latent=10, hidden_sizes=(30,), activation="sigmoid", batch_size=100,
                  sigma2=1.0, random_state=0)
    models = {
        "VAE": lambda n_epochs: VAE(n_epochs=n_epochs, **common),
        "EMVAE K=6, E-step per batch": lambda n_epochs: EMVAE(
            n_components=6, e_step_every="batch", n_epochs=n_epochs, **common),
        "EMVAE K=6, E-step per epoch": lambda n_epochs: EMVAE(
            n_components=6, e_step_every="epoch", n_epochs=n_epochs, **common),
    }
    for make in models.values():
        make(1).fit(X[:500])                             # warm-up: compile, caches
    # Time two epochs minus one epoch, so set-up costs (initialisation, the
    # first epoch-level E-step, the final one) cancel out of the per-epoch time.
    fits = {}
    for name, make in models.items():
        fits[(name, 1)] = (lambda make=make: make(1).fit(X))
        fits[(name, 2)] = (lambda make=make: make(2).fit(X))
    best = time_interleaved(fits, repeats)
    times = {name: best[(name, 2)] - best[(name, 1)] for name in models}
    print(f"\nEMVAE vs VAE, one epoch of {n_rows} rows, 34-30-10 sigmoid, batch 100 "
          f"(best of {repeats}, two-epoch fit minus one-epoch fit):")
    for name, t in times.items():
        ratio = t / times["VAE"]
        verdict = "" if name == "VAE" else f"  (target <= 3: {'PASS' if ratio <= 3 else 'FAIL'})"
        print(f"  {name:<30}{1e3 * t:9.0f} ms   x{ratio:4.2f} of VAE{verdict}")
    one, six = time_products(1, repeats), time_products(6, repeats)
    vae_step = times["VAE"] / -(-n_rows // 100)
    print(f"  matrix products of one step alone: {1e6 * one:.0f} us for one network, "
          f"{1e6 * six:.0f} us for 6 stacked = x{six / one:.2f}")
    # If nothing but the products grew with K, an EMVAE step would cost the VAE
    # step plus the extra products; the elementwise work grows K-fold too.
    print(f"  EMVAE/VAE if only the products grew with K: x{(vae_step + six - one) / vae_step:.2f} "
          f"(VAE step {1e6 * vae_step:.0f} us)")
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n in {1e4, 1e5}; 5,000 rows per epoch")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per implementation, each >= 50 ms of calls "
                             "(the best kept)")
    parser.add_argument("--no-epoch", action="store_true", help="skip the EMVAE-vs-VAE epoch time")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the epochs with this process's CPU time (steadier on a busy "
                             "machine; meaningful with one thread)")
    args = parser.parse_args(argv)
    global clock

    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print("E-step (2.43): log responsibilities and log normaliser of an (n, K) array, one call")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"numba threads {numba.get_num_threads()}, cores {os.cpu_count()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    rows = bench_estep(sizes, [2, 6], args.repeats)
    print(f"\nnumba threading layer: {numba.threading_layer()}")
    ok = True
    for n, K, ratio in rows:
        if n == 1_000_000 and K == 6:
            ok = ratio >= 2.0
            print(f"Target: numba >= 2x numpy at n = 1e6, K = 6: {ratio:.1f}x  {'PASS' if ok else 'FAIL'}")
    if not args.no_epoch:
        if args.cpu_time:
            clock = time.process_time
            numba.set_num_threads(1)
            print("\nepoch times below: process CPU time, numba on 1 thread")
        times = bench_epoch(5_000 if args.quick else 20_000, 3 if args.quick else args.repeats)
        if times is not None:
            ok &= all(t <= 3 * times["VAE"] for t in times.values())
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
