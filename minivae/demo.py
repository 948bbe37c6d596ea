"""The main job: train the models on the built-in toy data and write figures and a summary.

An autoencoder and a VAE on the banana (thesis Fig. 2.6); a VAE and a WAE with
a two-component mixture prior on the two clusters of Fig. 2.13. When MNIST is on
disk (``$MINIVAE_DATA/mnist/``), an image panel too: a Bernoulli-decoder VAE's
samples and reconstructions of digits (``demo_images.png``); otherwise the summary
says how to get it.

``python -m minivae demo`` runs :func:`run_demo`. Everything is seeded, so two
runs write the same numbers. It finishes in well under a minute on 2 cores.
"""

import errno
import tempfile
import time

import numpy as np

from . import datasets
from ._validation import check_flag, check_path, check_random_state
from .models import VAE, WAE, Autoencoder
from .plotting import image_grid, loss_curve, pyplot, scatter_compare
from .priors import GaussianMixture

__all__ = ["run_demo", "gap_fraction"]


def gap_fraction(X, low=3.0, high=7.0, axis=1):
    """Fraction of rows whose coordinate ``axis`` lies strictly between the two clusters.

    For the two-cluster set of Fig. 2.13 (N(0, I) and N((0, 10), I)) almost no
    data point has 3 < y < 7 (about 0.1 %); a generator that smears mass
    between the clusters puts many samples there.
    """
    X = np.asarray(X)
    return float(np.mean((X[:, axis] > low) & (X[:, axis] < high)))


def _moments(X):
    return np.round(X.mean(axis=0), 2).tolist(), np.round(np.cov(X.T), 2).tolist()


def run_demo(out="minivae-demo", fast=False, random_state=0, log=print):
    """Train an autoencoder, VAEs and a WAE on toy data; save figures and ``summary.txt`` in ``out``.

    Parameters
    ----------
    out : str or Path
        Output directory (created).
    fast : bool
        Fewer epochs (for tests).
    random_state : int
        Seed of every fit and sample.
    log : callable
        Receives each line of the summary as it is produced.

    Returns
    -------
    dict
        The measured numbers (also written to ``summary.txt``).

    Raises
    ------
    TypeError, ValueError
        For a bad argument (checked before anything runs).
    OSError
        If ``out`` is an existing file, or cannot be created or written
        (checked before training, not after it).
    """
    out = check_path(out, "out")
    fast = check_flag(fast, "fast")
    check_random_state(random_state)
    if not callable(log):
        raise TypeError(f"log must be callable, got {type(log).__name__}")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "out must be a directory, but it is a file", str(out))
    out.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryFile(dir=out):   # fail now, not after a minute of training
            pass
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot write in the output directory ({exc.strerror})",
                        str(out)) from None
    plt = pyplot()
    scale = 0.2 if fast else 1.0
    epochs = lambda n: max(2, int(n * scale))  # noqa: E731
    lines, results = [], {}

    def say(line):
        lines.append(line)
        log(line)

    t0 = time.perf_counter()
    say("minivae demo: toy data sets of the thesis (Figs. 2.3-2.6) and Fig. 2.13")

    # 1. An autoencoder with a one-dimensional code on the banana: its reconstructions
    #    lie on a curve through the data (a non-linear principal curve).
    banana = datasets.banana(1000, random_state=random_state)
    ae = Autoencoder(n_latent=1, hidden_sizes=(16,), activation="tanh", n_epochs=epochs(200),
                     lr=5e-3, batch_size=50, random_state=random_state).fit(banana)
    R = ae.reconstruct(banana)
    ae_mse = float(np.mean(np.sum((banana - R) ** 2, axis=1)))
    results["autoencoder_banana_mse"] = ae_mse
    say(f"Autoencoder 2-16-1-16-2 on the banana: mean squared reconstruction error {ae_mse:.3f} "
        f"(total variance {float(np.trace(np.cov(banana.T))):.3f})")

    # 2. A VAE on the banana (Fig. 2.6): samples should cover the same curved shape.
    vae_b = VAE(n_latent=2, hidden_sizes=(32,), activation="swish", sigma2=0.1,
                n_epochs=epochs(300), lr=5e-3, batch_size=50, random_state=random_state).fit(banana)
    S_b = vae_b.sample(2000, random_state=random_state)
    (m_x, c_x), (m_s, c_s) = _moments(banana), _moments(S_b)
    results["vae_banana"] = {"data_mean": m_x, "sample_mean": m_s, "data_cov": c_x, "sample_cov": c_s}
    say(f"VAE on the banana (sigma2=0.1): sample mean {m_s} vs data {m_x}; "
        f"sample cov {c_s} vs data {c_x}")

    # 3. The two clusters of Fig. 2.13: reconstructions are fine, samples smear into the gap.
    clusters = datasets.two_clusters(random_state=random_state)
    vae_c = VAE(n_latent=2, hidden_sizes=(16,), activation="swish", sigma2=0.05,
                n_epochs=epochs(100), lr=5e-3, batch_size=100, random_state=random_state).fit(clusters)
    S_c = vae_c.sample(3000, random_state=random_state)
    R_c = vae_c.reconstruct(clusters)
    # 4. The WAE's answer (2.37): match the aggregate posterior to a two-component
    #    mixture prior, so that generation never needs to cross the gap.
    prior = GaussianMixture(means=[[0.0, -4.0], [0.0, 4.0]], scales=0.5, weights=[2.0, 1.0])
    wae_c = WAE(n_latent=2, hidden_sizes=(16,), activation="swish", sigma2=0.05, kernel="imq",
                lam=10.0, prior=prior, n_epochs=epochs(100), lr=2e-2, batch_size=100,
                random_state=random_state).fit(clusters)
    S_w = wae_c.sample(3000, random_state=random_state)
    gaps = {"data": gap_fraction(clusters), "vae_reconstructions": gap_fraction(R_c),
            "vae_samples": gap_fraction(S_c), "wae_samples": gap_fraction(S_w)}
    results["two_clusters_gap_fraction"] = gaps
    say("Two clusters, fraction of points with 3 < y < 7 (the gap): "
        + ", ".join(f"{k} {v:.3f}" for k, v in gaps.items()))

    fig, axes = plt.subplots(2, 4, figsize=(17, 8))
    scatter_compare(axes[0, 0], banana, R, "Autoencoder (code size 1): reconstructions",
                    labels=("data", "reconstruction"))
    scatter_compare(axes[0, 1], banana, S_b, "VAE on the banana: samples")
    loss_curve(axes[0, 2], vae_b.history_, title="VAE (banana): per-epoch loss")
    scatter_compare(axes[1, 0], clusters, R_c, "VAE, two clusters: reconstructions",
                    labels=("data", "reconstruction"))
    scatter_compare(axes[1, 1], clusters, S_c, f"VAE, two clusters: samples "
                    f"({100 * gaps['vae_samples']:.0f}% in the gap)")
    loss_curve(axes[1, 2], vae_c.history_, title="VAE (two clusters): per-epoch loss")
    scatter_compare(axes[0, 3], prior.sample(3000, random_state), wae_c.transform(clusters),
                    "WAE latent space: prior vs encoded data", labels=("prior", "encoded data"),
                    axis_names=("z₁", "z₂"))
    scatter_compare(axes[1, 3], clusters, S_w, f"WAE, mixture prior: samples "
                    f"({100 * gaps['wae_samples']:.1f}% in gap)")
    fig.tight_layout()
    fig.savefig(out / "demo.png", dpi=110)
    plt.close(fig)

    images = _image_panel(out, fast, random_state, say, plt)
    if images is not None:
        results["mnist"] = images

    elapsed = time.perf_counter() - t0
    results["seconds"] = elapsed
    extra = f", {out / 'demo_images.png'}" if images is not None else ""
    say(f"Figures: {out / 'demo.png'}{extra}  (total {elapsed:.1f} s)")
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    return results


def _image_panel(out, fast, random_state, say, plt):
    """Digits from a small Bernoulli-decoder VAE on 14 x 14 MNIST, if MNIST is on disk.

    Never downloads: without the files it says where they go and returns None.
    """
    n_train, n_epochs = (1000, 10) if fast else (6000, 30)
    try:
        X, _ = datasets.load_mnist("train", n_samples=n_train, downsample=2, binarize=True,
                                   download=False)
        X_test, _ = datasets.load_mnist("test", n_samples=500, downsample=2, binarize=True,
                                        download=False)
    except OSError:
        say(f"Image panel skipped: MNIST not found in {datasets.get_data_home() / 'mnist'} "
            "(set MINIVAE_DATA to a directory holding mnist/*-ubyte.gz; "
            "minivae.datasets.load_mnist() downloads it there)")
        return None
    vae = VAE(n_latent=8, hidden_sizes=(64,), activation="relu", likelihood="bernoulli", lr=5e-3,
              n_epochs=n_epochs, random_state=random_state).fit(X)
    samples = vae.sample(32, random_state=random_state)
    R = vae.reconstruct(X_test[:16])
    ll = float(vae.log_likelihood(X_test, n_mc=20, random_state=random_state).mean())
    say(f"MNIST 14x14, Bernoulli VAE 196-64-8 on {n_train} digits: test ln p(x) ~ {ll:.2f} nats "
        "(importance sampling, K = 20)")
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    image_grid(axes[0], samples, (14, 14), n_cols=8)
    axes[0].set_title("VAE samples (Bernoulli means)")
    image_grid(axes[1], np.concatenate([X_test[:16], R]), (14, 14), n_cols=8)
    axes[1].set_title("test digits (top two rows) and their reconstructions")
    fig.tight_layout()
    fig.savefig(out / "demo_images.png", dpi=110)
    plt.close(fig)
    return {"test_log_likelihood": ll}
