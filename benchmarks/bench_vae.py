"""Training throughput of minivae's VAE, side by side with the same model in PyTorch and JAX.

What is measured
----------------
Samples per second of ``VAE.fit`` (minibatch Adam, batch 100) on the thesis's
real-data architectures (thesis ch. 3), with sigmoid hidden units and the Gaussian
likelihood:

    KDD-like     nx = 34,  nh = 30,  nz = 10
    HTRU2-like   nx = 8,   nh = 20,  nz = 4
    MNIST-like   nx = 784, nh = 400, nz = 20

each in float64 and float32, on 1 and 2 threads. One step is the whole of
the VAE objective (2.25): encoder, reparametrisation z = mu + exp(log_sigma)·eps (2.32), decoder,
Gaussian NLL (2.33) plus the analytic KL (2.31), backpropagation, an Adam
update (Kingma & Ba 2015), with the minibatch shuffling and the fresh eps draw included.
The first epoch of every fit is a warm-up and is not timed: the clock starts
when the second epoch begins and stops when ``fit`` returns.

When PyTorch is installed (``pip install -e ".[bench]"``) the same network,
loss, reparametrisation and ``torch.optim.Adam`` run in the same process,
interleaved with the NumPy runs so that a busy machine slows both alike, and the
table shows the ratio minivae / PyTorch. PyTorch runs eagerly (no
``torch.compile``) with its default Adam, as a user would write it
(``--torch-adam fused`` gives it the fused CPU kernel instead).

When JAX is installed (also in the ``bench`` extra) two more anchors run the
same network and loss with ``jax.value_and_grad`` and Adam written out by
hand: "JAX jit", one jitted call per minibatch (shuffled in NumPy, ε drawn
inside the call), and "JAX scan", a whole epoch (shuffle, every step) compiled
into one ``lax.scan``, the compiled limit of this loop. The ratio columns are
minivae's samples/s over each anchor's (> 1: minivae is faster). The anchors
are timed the way minivae is: compilation happens in the untimed warm-up
epoch, and every batch's loss is read back (the scan returns them per epoch).

"products /s" is the floor for any NumPy step on this BLAS: the step's matrix
products alone, with the real shapes, timed back to back (``time_products``);
"/ products" is minivae's share of it (1 would mean everything but the
products is free). OpenBLAS picks its kernels by CPU unless
``OPENBLAS_CORETYPE`` pins them (printed in the header when set: e.g.
Haswell's AVX2 kernels on an AVX-512 CPU, about 1.6x slower products at the
MNIST size); the floor moves with it, the anchors (their own kernels) do not.
``--blas-kernels native`` runs the workers without that variable, ``both`` runs
each setting and shows them side by side (column "BLAS").

Targets, printed after the table for every one-thread row with a JAX scan
anchor: minivae >= 1.0x JAX's scanned epoch at the KDD size, >= 0.8x at the
HTRU2 and MNIST sizes.

Thread counts: BLAS and OpenMP read their thread count when NumPy (or PyTorch)
is first imported, so the script re-runs itself in one subprocess per thread
setting with ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``
set, PyTorch gets ``torch.set_num_threads`` to match, and with one thread XLA
(JAX) gets ``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``.
On Linux the subprocess is also pinned to that many cores
(``os.sched_setaffinity``), because those settings alone leave XLA free to run
work on helper threads on another core.

Each number is the best of ``--repeats`` fits (the least disturbed by other
processes); the load average is printed so that a loaded machine shows. On a
shared machine ``--cpu-time`` times with the process's CPU time instead of the
wall clock, which other processes disturb much less; it is only meaningful
with one thread (with two it adds up both threads' time).

Usage
-----
    python benchmarks/bench_vae.py              # full table (a few minutes)
    python benchmarks/bench_vae.py --quick      # smoke run (well under a minute)
    python benchmarks/bench_vae.py --threads 1 --configs kdd htru2 --dtypes float64
    python benchmarks/bench_vae.py --threads 1 --cpu-time     # on a busy machine
    python benchmarks/bench_vae.py --no-torch --no-jax        # minivae alone
    python benchmarks/bench_vae.py --threads 1 --blas-kernels both   # pinned and native BLAS
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

# Measure the minivae of this checkout, not whichever copy is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name: (nx, nh, nz, rows per epoch in the full run)
CONFIGS = {
    "kdd": (34, 30, 10, 20_000),
    "htru2": (8, 20, 4, 16_000),
    "mnist": (784, 400, 20, 4_000),
}
LABELS = {"kdd": "KDD-like 34-30-10", "htru2": "HTRU2-like 8-20-4", "mnist": "MNIST-like 784-400-20"}
BATCH_SIZE = 100
LR = 1e-3
# Wall-clock time by default; --cpu-time switches to this process's CPU time.
clock = time.perf_counter


# ---------------------------------------------------------------------- minivae
def time_minivae(X, nh, nz, dtype, n_epochs):
    """Samples/s of ``VAE.fit`` over ``n_epochs`` epochs after one untimed warm-up epoch."""
    from minivae.models import VAE

    model = VAE(n_latent=nz, hidden_sizes=(nh,), activation="sigmoid", likelihood="gaussian",
                sigma2=1.0, lr=LR, batch_size=BATCH_SIZE, n_epochs=1 + n_epochs,
                dtype=dtype, random_state=0)
    # The per-epoch hook tells when the timed epochs begin; fit returns right
    # after the last one.
    starts = []
    begin_epoch = model._begin_epoch

    def timed_begin_epoch(*args):
        starts.append(clock())
        return begin_epoch(*args)

    model._begin_epoch = timed_begin_epoch
    model.fit(X)
    elapsed = clock() - starts[1]
    assert len(starts) == 1 + n_epochs and math.isfinite(model.history_["loss"][-1])
    return n_epochs * X.shape[0] / elapsed


def time_products(nx, nh, nz, dtype, min_time=0.2):
    """Samples/s if a step were only its matrix products: the floor for a NumPy step on this BLAS.

    The products of one step of the 1-hidden-layer VAE, with the shapes of the
    real step (batch B = 100): forward x Wᵀ through the encoder, the two heads
    and the decoder; backward δᵀx for every weight and δW for every input
    gradient but the encoder's first. Everything else a step does (activations,
    the loss, Adam) comes on top; ``minivae / products`` is the share of the
    step that the products take.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    B = BATCH_SIZE

    def arr(*shape):
        return rng.standard_normal(shape).astype(dtype)

    x, h, z, x_hat = arr(B, nx), arr(B, nh), arr(B, nz), arr(B, nx)
    W_enc, W_mu, W_ls, W_dec1, W_dec2 = arr(nh, nx), arr(nz, nh), arr(nz, nh), arr(nh, nz), arr(nx, nh)
    d_head, d_h = arr(B, nz), arr(B, nh)

    def products():
        x @ W_enc.T; h @ W_mu.T; h @ W_ls.T; z @ W_dec1.T; h @ W_dec2.T           # forward
        x_hat.T @ h; x_hat @ W_dec2                                              # decoder output layer
        d_h.T @ z; d_h @ W_dec1                                                  # decoder hidden layer
        d_head.T @ h; d_head @ W_mu; d_head.T @ h; d_head @ W_ls                 # the two heads
        d_h.T @ x                                                                # encoder (no δW: x is data)

    products()
    calls, start = 0, clock()
    while clock() - start < min_time:
        products()
        calls += 1
    return calls * B / (clock() - start)


# ---------------------------------------------------------------------- PyTorch
def make_torch_vae(torch, nx, nh, nz, dtype):
    """The same network as minivae's VAE: A, mu, log_sigma heads, decoder f ((2.26)-(2.28))."""
    nn = torch.nn
    kw = {"dtype": getattr(torch, dtype)}
    return nn.ModuleDict({
        "encoder": nn.Sequential(nn.Linear(nx, nh, **kw), nn.Sigmoid()),
        "mu": nn.Linear(nh, nz, **kw),
        "log_sigma": nn.Linear(nh, nz, **kw),
        "decoder": nn.Sequential(nn.Linear(nz, nh, **kw), nn.Sigmoid(), nn.Linear(nh, nx, **kw)),
    })


def torch_loss(net, x, eps, sigma2=1.0):
    """Batch-mean negative ELBO: Gaussian NLL (2.33) with its constant + analytic KL (2.31)."""
    h = net["encoder"](x)
    mu, log_sigma = net["mu"](h), net["log_sigma"](h)
    z = mu + log_sigma.exp() * eps                                   # (2.32)
    x_hat = net["decoder"](z)
    nll = 0.5 * ((x - x_hat) ** 2).sum(dim=1) / sigma2 + 0.5 * x.shape[1] * math.log(2 * math.pi * sigma2)
    kl = 0.5 * ((2 * log_sigma).exp() + mu * mu - 2 * log_sigma - 1).sum(dim=1)
    return (nll + kl).mean()


def time_torch(X, nh, nz, dtype, n_epochs, fused_adam=False):
    """Samples/s of the PyTorch loop over ``n_epochs`` epochs after one warm-up epoch."""
    import torch

    torch.manual_seed(0)
    Xt = torch.as_tensor(X, dtype=getattr(torch, dtype))
    n, nx = Xt.shape
    net = make_torch_vae(torch, nx, nh, nz, dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=fused_adam or None)
    start = None
    for epoch in range(1 + n_epochs):
        if epoch == 1:
            start = clock()
        order = torch.randperm(n)
        total = 0.0
        for s in range(0, n, BATCH_SIZE):
            xb = Xt[order[s:s + BATCH_SIZE]]
            eps = torch.randn(xb.shape[0], nz, dtype=xb.dtype)
            loss = torch_loss(net, xb, eps)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            # minivae records the loss of every batch too (history_ and the divergence check).
            total += loss.item() * xb.shape[0] / n
        assert math.isfinite(total)
    return n_epochs * n / (clock() - start)


# ---------------------------------------------------------------------- JAX
def make_jax_vae(nx, nh, nz, dtype):
    """The same VAE in JAX: (init, loss, Adam step) as pure functions of a parameter dict.

    The loss is the batch-mean negative ELBO of :func:`torch_loss` (log σ clamped
    to [−30, 30] as minivae does); the gradient comes from ``jax.value_and_grad``
    and the update is Adam written out by hand (Kingma & Ba 2015), the formulas
    of ``minivae.optim.Adam``.
    """
    import jax
    import jax.numpy as jnp

    dt = jnp.dtype(dtype)
    layers = {"enc": (nx, nh), "mu": (nh, nz), "log_sigma": (nh, nz), "dec0": (nz, nh), "dec1": (nh, nx)}
    const = 0.5 * nx * math.log(2 * math.pi)                         # sigma2 = 1

    def init(key):
        params = {}
        for name, (n_in, n_out) in layers.items():
            key, sub = jax.random.split(key)
            r = math.sqrt(6.0 / (n_in + n_out))
            W = jax.random.uniform(sub, (n_in, n_out), dt, -r, r)
            params[name + ".W"] = jnp.zeros_like(W) if name == "log_sigma" else W
            params[name + ".b"] = jnp.zeros(n_out, dt)
        return params

    def loss(p, x, eps):
        h = jax.nn.sigmoid(x @ p["enc.W"] + p["enc.b"])
        mu = h @ p["mu.W"] + p["mu.b"]
        log_sigma = jnp.clip(h @ p["log_sigma.W"] + p["log_sigma.b"], -30.0, 30.0)
        z = mu + jnp.exp(log_sigma) * eps                                         # (2.32)
        x_hat = jax.nn.sigmoid(z @ p["dec0.W"] + p["dec0.b"]) @ p["dec1.W"] + p["dec1.b"]
        nll = 0.5 * jnp.sum((x - x_hat) ** 2, axis=1) + const                      # (2.33)
        kl = 0.5 * jnp.sum(jnp.exp(2 * log_sigma) + mu * mu - 2 * log_sigma - 1, axis=1)  # (2.31)
        return jnp.mean(nll + kl)

    def train_step(carry, x, key):
        """One Adam step on the batch x with ε drawn from (key, t): returns (carry, loss)."""
        p, m, v, t = carry
        t = t + 1
        eps = jax.random.normal(jax.random.fold_in(key, t), (x.shape[0], nz), dt)
        value, g = jax.value_and_grad(loss)(p, x, eps)
        b1, b2, lr, e = 0.9, 0.999, LR, 1e-8
        tf = t.astype(dt)
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        c1, c2 = 1 - b1 ** tf, 1 - b2 ** tf
        p = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + e), p, m, v)
        return (p, m, v, t), value

    return init, train_step


def time_jax(X, nh, nz, dtype, n_epochs, scan):
    """Samples/s of the JAX loop: one jitted call per batch, or (``scan``) per epoch via ``lax.scan``."""
    import jax
    import jax.numpy as jnp

    n, nx = X.shape
    init, train_step = make_jax_vae(nx, nh, nz, dtype)
    key = jax.random.PRNGKey(0)
    p = init(key)
    zeros = jax.tree.map(jnp.zeros_like, p)
    carry = (p, zeros, zeros, jnp.zeros((), jnp.int32))
    Xj = jnp.asarray(X, dtype=dtype)
    n_batches = n // BATCH_SIZE                      # every config's n is a multiple of the batch

    @jax.jit
    def step(carry, X, rows, key):
        return train_step(carry, X[rows], key)

    @jax.jit
    def epoch(carry, X, key):
        order = jax.random.permutation(key, n)[:n_batches * BATCH_SIZE].reshape(n_batches, BATCH_SIZE)
        return jax.lax.scan(lambda c, rows: train_step(c, X[rows], key), carry, order)

    rng = __import__("numpy").random.default_rng(0)
    start = None
    for e in range(1 + n_epochs):
        if e == 1:
            jax.block_until_ready(carry)
            start = clock()
        key, sub = jax.random.split(key)
        if scan:
            carry, losses = epoch(carry, Xj, sub)
            total = float(losses.mean())
        else:
            order = rng.permutation(n)
            total = 0.0
            for s in range(0, n_batches * BATCH_SIZE, BATCH_SIZE):
                carry, value = step(carry, Xj, order[s:s + BATCH_SIZE], sub)
                # Every batch's loss is read, as minivae and the PyTorch loop do.
                total += float(value) / n_batches
        assert math.isfinite(total)
    jax.block_until_ready(carry)
    return n_epochs * n_batches * BATCH_SIZE / (clock() - start)


# ---------------------------------------------------------------------- worker
def worker(args):
    """Measure every (config, dtype) at this process's thread count; print JSON lines."""
    global clock
    threads = int(os.environ["OMP_NUM_THREADS"])
    if hasattr(os, "sched_setaffinity"):
        # Pin the process (and every thread it will start) to as many cores as
        # threads. Thread-count settings alone do not hold XLA to one core: its
        # runtime overlaps work on helper threads, which on an idle 2-core machine
        # gave JAX 1.5-1.9 cores' worth of CPU time in "1 thread" runs.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    import numpy as np

    if args.cpu_time:
        clock = time.process_time
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(threads)
        except ImportError:
            torch = None
    jax = None
    if not args.no_jax:
        try:
            import jax
            # float64 columns need 64-bit JAX; float32 arrays stay float32.
            jax.config.update("jax_enable_x64", True)
        except ImportError:
            jax = None
    for name in args.configs:
        nx, nh, nz, n_rows = CONFIGS[name]
        if args.quick:
            n_rows = max(10 * BATCH_SIZE, n_rows // 10)
        X = np.random.default_rng(0).standard_normal((n_rows, nx))
        for dtype in args.dtypes:
            print(f"  {LABELS[name]}, {dtype}, {threads} thread(s) ...", file=sys.stderr, flush=True)
            best = {"minivae": 0.0, "products": 0.0, "torch": 0.0, "jax_step": 0.0, "jax_scan": 0.0}
            # Interleaved repeats: a busy spell of the machine slows every column alike.
            for _ in range(args.repeats):
                best["minivae"] = max(best["minivae"], time_minivae(X, nh, nz, dtype, args.epochs))
                best["products"] = max(best["products"], time_products(nx, nh, nz, dtype))
                if torch is not None:
                    best["torch"] = max(best["torch"], time_torch(X, nh, nz, dtype, args.epochs,
                                                                  args.torch_adam == "fused"))
                if jax is not None:
                    best["jax_step"] = max(best["jax_step"], time_jax(X, nh, nz, dtype, args.epochs, False))
                    best["jax_scan"] = max(best["jax_scan"], time_jax(X, nh, nz, dtype, args.epochs, True))
            print(json.dumps({"config": name, "dtype": dtype, "threads": threads,
                              **{k: v or None for k, v in best.items()}}), flush=True)


def run_threads(threads, args, blas="env"):
    """Re-run this script as a worker with the thread variables set before any import.

    ``blas="native"`` removes ``OPENBLAS_CORETYPE`` from the worker's environment,
    so that OpenBLAS picks its kernels by CPU; ``"env"`` keeps the environment's.
    """
    env = dict(os.environ)
    if blas == "native":
        env.pop("OPENBLAS_CORETYPE", None)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    # XLA's CPU backend has its own (Eigen) thread pool.
    xla = [f for f in env.get("XLA_FLAGS", "").split() if "multi_thread_eigen" not in f
           and "intra_op_parallelism" not in f]
    if threads == 1:
        xla += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    env["XLA_FLAGS"] = " ".join(xla)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--repeats", str(args.repeats),
           "--epochs", str(args.epochs), "--configs", *args.configs, "--dtypes", *args.dtypes]
    for flag in ("quick", "no_torch", "no_jax", "cpu_time"):
        if getattr(args, flag):
            cmd.append("--" + flag.replace("_", "-"))
    cmd += ["--torch-adam", args.torch_adam]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return [{**json.loads(line), "blas": blas} for line in out.splitlines() if line.startswith("{")]


def describe_machine():
    """CPU, versions and load, without importing NumPy or PyTorch into this parent process."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    parts = [f"CPU {cpu} ({os.cpu_count()} logical cores)", f"Python {platform.python_version()}",
             f"NumPy {version('numpy')}"]
    try:
        parts.append(f"PyTorch {version('torch')}")
    except PackageNotFoundError:
        parts.append("PyTorch not installed (pip install -e \".[bench]\" for the comparison)")
    try:
        parts.append(f"JAX {version('jax')}")
    except PackageNotFoundError:
        parts.append("JAX not installed (pip install -e \".[bench]\" for its columns)")
    if os.environ.get("OPENBLAS_CORETYPE"):
        # It pins OpenBLAS's GEMM kernels (e.g. Haswell's AVX2 ones on an AVX-512 CPU),
        # and the matrix products are most of the MNIST-size step.
        parts.append(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}")
    if hasattr(os, "getloadavg"):
        parts.append("load average %.1f" % os.getloadavg()[0])
    return "; ".join(parts)


ANCHORS = (("torch", "PyTorch"), ("jax_step", "JAX jit"), ("jax_scan", "JAX scan"))
# Throughput targets on one thread: minivae / JAX's scanned epoch at least this.
TARGETS = {"kdd": 1.0, "htru2": 0.8, "mnist": 0.8}


def print_targets(rows):
    """One line per one-thread row with a JAX scan anchor: the ratio against its target."""
    lines = [r for r in rows if r["threads"] == 1 and r.get("jax_scan")]
    if not lines:
        return
    print("\nTargets (1 thread, minivae / JAX scanned epoch):")
    for r in lines:
        ratio, target = r["minivae"] / r["jax_scan"], TARGETS[r["config"]]
        blas = f" [{r['blas']} BLAS]" if len({q["blas"] for q in rows}) > 1 else ""
        print(f"  {LABELS[r['config']]:<23}{r['dtype']:<9}{ratio:5.2f}x  (target >= {target})  "
              f"{'PASS' if ratio >= target else 'FAIL'}{blas}")


def print_table(rows):
    """Samples/s of every column, then minivae's ratio to each anchor (> 1: minivae is faster)."""
    both = len({r["blas"] for r in rows}) > 1
    header = (f"{'architecture':<23}{'dtype':<9}{'thr':>4}" + (f"{'BLAS':>7}" if both else "")
              + f"{'minivae /s':>12}{'products /s':>13}"
              + "".join(f"{label + ' /s':>14}" for _, label in ANCHORS)
              + f"{'/ products':>12}"
              + "".join(f"{'/ ' + label:>12}" for _, label in ANCHORS))
    print(header)
    print("-" * len(header))
    for r in rows:
        line = f"{LABELS[r['config']]:<23}{r['dtype']:<9}{r['threads']:>4}"
        line += (f"{r['blas']:>7}" if both else "") + f"{r['minivae']:12,.0f}"
        line += f"{r['products']:13,.0f}"
        line += "".join(f"{r[k]:14,.0f}" if r.get(k) else f"{'-':>14}" for k, _ in ANCHORS)
        line += f"{r['minivae'] / r['products']:11.2f}x"
        line += "".join(f"{r['minivae'] / r[k]:11.2f}x" if r.get(k) else f"{'-':>12}" for k, _ in ANCHORS)
        print(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a tenth of the rows, one timed epoch, one repeat")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="BLAS/OpenMP thread counts, one subprocess each (default: 1 2)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
                        help="architectures to time (default: all)")
    parser.add_argument("--dtypes", nargs="+", choices=["float64", "float32"],
                        default=["float64", "float32"])
    parser.add_argument("--repeats", type=int, default=None, help="fits per measurement; the best counts")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs per fit")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX even if installed")
    parser.add_argument("--torch-adam", choices=["default", "fused"], default="default",
                        help="PyTorch's Adam: the default (per-tensor loop on CPU) or fused=True")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this process's CPU time instead of the wall clock: "
                             "steadier on a busy machine, but only meaningful with 1 thread")
    parser.add_argument("--blas-kernels", choices=["env", "native", "both"], default="env",
                        help="OpenBLAS kernels: as OPENBLAS_CORETYPE in the environment says "
                             "(default), OpenBLAS's own choice for this CPU (the variable "
                             "removed), or both, side by side")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.epochs is None:
        args.epochs = 1 if args.quick else 2
    if args.worker:
        worker(args)
        return
    print(describe_machine())
    print(f"batch {BATCH_SIZE}, sigmoid, Gaussian likelihood + analytic KL, Adam "
          f"(PyTorch: {args.torch_adam}); samples/s, best of {args.repeats}, warm-up epoch "
          f"excluded; {'CPU' if args.cpu_time else 'wall-clock'} time")
    if args.quick:
        print("--quick: short epochs and one repeat, a smoke test; the numbers are only indicative")
    print()
    settings = ["env", "native"] if args.blas_kernels == "both" else [args.blas_kernels]
    rows = []
    for threads in args.threads:
        for blas in settings:
            rows += run_threads(threads, args, blas)
    order = {name: i for i, name in enumerate(CONFIGS)}
    rows.sort(key=lambda r: (order[r["config"]], r["dtype"] != "float64", r["threads"],
                             settings.index(r["blas"])))
    print_table(rows)
    print_targets(rows)
    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
