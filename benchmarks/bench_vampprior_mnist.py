"""Standard-prior VAE against the VampPrior VAE on binarised MNIST, same network, same epochs.

What is measured
----------------
Both models have the one-hidden-layer architecture 784-300-40 (encoder trunk of
300 units, 40 latent dimensions, the decoder mirrored), a Bernoulli decoder,
Adam (lr 1e-3, batches of 100) and the same KL warm-up. The VampPrior VAE has
K = 500 pseudo-inputs initialised from training images and kept in [0, 1] by
hard-tanh, as Tomczak & Welling (2018) do. For each model the script reports

* the test log-likelihood: importance sampling (Burda et al. 2016) with
  ``--n-mc`` (default 1,000) samples per image, on the first ``--n-test``
  (default 1,000) test images, mean and its standard error over the images;
* the wall time of ``fit`` and of the evaluation;
* the number of active latent units, by Burda et al.'s criterion:
  unit u is active when Cov_x(E_q(z|x)[z_u]) = Var_x(μ_u(x)) > 0.01 on the test images;
* the time of one training step (batch of 100, and of 500), measured side by
  side in one run, and its ratio to the VAE's step: the extra cost of the
  second encoder pass over the K pseudo-inputs.

Data: the 60,000 MNIST training images split as in the authors' code into
50,000 for training and the last 10,000 held out (not used here), with
*dynamic* binarisation: every epoch each training image is a fresh Bernoulli
draw of its grey values (``DynamicBinarization`` below, one uniform draw per
pixel taken with the model's other random draws). The test images are
binarised once, with a fixed seed, so both models are scored on the same
binary images.

The authors report about −88.6 nats (standard prior) and −85.6 (VampPrior)
for this kind of one-layer model after very long training (up to 2,000
epochs with early stopping). A run here is a few epochs; the question is the
gap at equal epochs.

Measured
--------
Default run (10 epochs, 50,000 images, 1,000 test images, 1,000 samples each), one
BLAS thread, on a shared 2-core machine with a load average of 8-12:

    | model | test ln p(x) (nats) | active units | fit (s) | eval (s) | step b100 (ms) | ratio | step b500 (ms) | ratio |
    |---|---|---|---|---|---|---|---|---|
    | VAE, N(0, I) prior | -101.66 ± 0.80 | 39 | 304 | 162 | 14.1 | 1.00 | 84.9 | 1.00 |
    | VampPrior VAE, K = 500 | -97.85 ± 0.87 | 40 | 1030 | 122 | 67.2 | 4.75 | 154.4 | 1.82 |

The VampPrior is 3.8 nats better at equal epochs; the whole run took 27.0 minutes.
The pseudo-input pass is not small at batch 100 (K = 500 rows against 100): the
fit took 3.4 times as long, the best-of-20 step 4.75 times; at batch 500 the
ratio is 1.8.

Usage
-----
    python benchmarks/bench_vampprior_mnist.py                  # default (about 15-30 minutes)
    python benchmarks/bench_vampprior_mnist.py --epochs 20
    python benchmarks/bench_vampprior_mnist.py --quick          # smoke run (a minute)

Needs the MNIST files in the data home ($MINIVAE_DATA) or a network connection.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

# Measure the minivae of this checkout, not whichever copy is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minivae import VAE, VampPriorVAE, datasets


def dynamically_binarized(cls):
    """A subclass of model class ``cls`` that trains on a fresh binarisation of each minibatch.

    ``draw_noise`` adds one uniform number per pixel, and ``step`` trains on
    x_b = [uniform < x]: a Bernoulli(x) image (see :func:`minivae.datasets.binarize`).
    Each training row is visited once per epoch, so this is a fresh binary copy
    of every image in every epoch, seeded by the model's ``random_state``.
    """

    class DynamicBinarization(cls):
        def _draw_noise(self, X, rng):
            return {**super()._draw_noise(X, rng), "binarize": rng.random(X.shape)}

        def step(self, X, noise, state, grads):
            return super().step((noise["binarize"] < X).astype(X.dtype), noise, state, grads)

    DynamicBinarization.__name__ = cls.__name__
    return DynamicBinarization


def active_units(model, X, threshold=0.01):
    """Burda et al.'s count: latent units whose posterior mean varies over X with variance > threshold."""
    return int((model.transform(X).var(axis=0) > threshold).sum())


def step_time(model, X, batch_size, repeats):
    """Best time of one training step (forward, backward) on ``batch_size`` rows, in ms."""
    xb = X[:batch_size]
    noise = model.draw_noise(xb, 0)
    state = {"beta": 1.0, "rows": np.arange(batch_size)}
    model.step(xb, noise, state, model._grads)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        model.step(xb, noise, state, model._grads)
        best = min(best, time.perf_counter() - t)
    return 1e3 * best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--n-train", type=int, default=50_000, help="training images (of the first 50,000)")
    parser.add_argument("--n-test", type=int, default=1_000)
    parser.add_argument("--n-mc", type=int, default=1_000, help="importance samples per test image")
    parser.add_argument("--n-pseudo", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=2, help="KL warm-up epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 2,000 training and 200 test images, 100 samples, "
                             "at most 100 pseudo-inputs")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.n_train, args.n_test, args.n_mc = 2, 2_000, 200, 100
        args.n_pseudo = min(args.n_pseudo, 100)

    grey, _ = datasets.load_mnist("train")
    grey_train, _ = datasets.train_validation_split(grey, validation_size=10_000, shuffle=False)
    grey_train = grey_train[:args.n_train]
    grey_test, _ = datasets.load_mnist("test", n_samples=args.n_test)
    X_test = datasets.binarize(grey_test, random_state=10_000 + args.seed)

    common = dict(n_latent=40, hidden_sizes=(300,), activation="tanh", likelihood="bernoulli",
                  kl_warmup=args.warmup, lr=1e-3, batch_size=100, n_epochs=args.epochs,
                  random_state=args.seed)
    models = {
        "VAE, N(0, I) prior": dynamically_binarized(VAE)(**common),
        f"VampPrior VAE, K = {args.n_pseudo}": dynamically_binarized(VampPriorVAE)(
            n_pseudo=args.n_pseudo, pseudo_transform="hardtanh", **common),
    }
    print(f"binarised MNIST: {grey_train.shape[0]} training images (dynamic binarisation), "
          f"{X_test.shape[0]} test images, {args.epochs} epochs, IS with {args.n_mc} samples")
    print(f"machine: {platform.processor() or platform.machine()}, load average "
          f"{os.getloadavg()[0]:.1f}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")

    # step times side by side, before training (same random init as fit)
    steps = {}
    for name, model in models.items():
        probe = type(model)(**model.get_params()).initialize(grey_train, random_state=0)
        steps[name] = {b: step_time(probe, grey_train, b, repeats=5 if args.quick else 20) for b in (100, 500)}

    results = {}
    for name, model in models.items():
        t = time.perf_counter()
        model.fit(grey_train)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        ll = model.log_likelihood(X_test, n_mc=args.n_mc, random_state=args.seed)
        eval_s = time.perf_counter() - t
        results[name] = {
            "test_ll": float(ll.mean()), "test_ll_se": float(ll.std(ddof=1) / np.sqrt(ll.size)),
            "fit_s": fit_s, "eval_s": eval_s, "active_units": active_units(model, X_test),
            "train_loss_last_epoch": model.history_["loss"][-1],
            "step_ms_b100": steps[name][100], "step_ms_b500": steps[name][500],
        }
        print(f"  {name}: ln p(x) {results[name]['test_ll']:.2f} ± {results[name]['test_ll_se']:.2f}, "
              f"fit {fit_s:.0f} s, evaluation {eval_s:.0f} s", flush=True)

    base = results["VAE, N(0, I) prior"]
    print()
    print("| model | test ln p(x) (nats) | active units (of 40) | fit (s) | eval (s) "
          "| step, batch 100 (ms) | ratio | step, batch 500 (ms) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['test_ll']:.2f} ± {r['test_ll_se']:.2f} | {r['active_units']} "
              f"| {r['fit_s']:.0f} | {r['eval_s']:.0f} | {r['step_ms_b100']:.1f} "
              f"| {r['step_ms_b100'] / base['step_ms_b100']:.2f} | {r['step_ms_b500']:.1f} "
              f"| {r['step_ms_b500'] / base['step_ms_b500']:.2f} |")
    vamp = results[f"VampPrior VAE, K = {args.n_pseudo}"]
    gap = vamp["test_ll"] - base["test_ll"]
    print(f"\nVampPrior − standard prior: {gap:+.2f} nats at {args.epochs} epochs "
          f"(target ≥ +1; the authors: +3.0 after long training). "
          f"Total wall time {sum(r['fit_s'] + r['eval_s'] for r in results.values()) / 60:.1f} min.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results, "gap": gap}, f, indent=2)


if __name__ == "__main__":
    main()
