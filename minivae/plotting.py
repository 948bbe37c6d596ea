"""Matplotlib figures shared by the demo and the tutorials.

Imported lazily (the core never imports matplotlib); selects the headless Agg
backend unless a backend was chosen already, so everything works without a
display.
"""

import os
import sys

import numpy as np

__all__ = ["pyplot", "scatter_compare", "image_grid", "loss_curve"]


def pyplot():
    """Return ``matplotlib.pyplot``, using Agg when no interactive backend was chosen."""
    import matplotlib

    # Respect a backend the user chose (MPLBACKEND, or pyplot already imported
    # in a notebook); otherwise stay headless.
    if "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_compare(ax, X, S, title="", labels=("data", "samples"), s=4):
    """Scatter 2-D data X and model samples S on one axis (1-D inputs become histograms)."""
    if X.shape[1] == 1:
        bins = np.histogram_bin_edges(np.concatenate([X[:, 0], S[:, 0]]), bins=40)
        ax.hist(X[:, 0], bins=bins, alpha=0.5, density=True, label=labels[0])
        ax.hist(S[:, 0], bins=bins, alpha=0.5, density=True, label=labels[1])
    else:
        ax.scatter(X[:, 0], X[:, 1], s=s, alpha=0.4, label=labels[0])
        ax.scatter(S[:, 0], S[:, 1], s=s, alpha=0.4, label=labels[1])
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", markerscale=3)
    return ax


def image_grid(ax, images, shape, n_cols=None, cmap="gray"):
    """Tile flattened images (n, h·w) into one picture on ``ax``."""
    images = np.asarray(images)
    n = images.shape[0]
    h, w = shape
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_cols))
    canvas = np.full((n_rows * (h + 1) - 1, n_cols * (w + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, n_cols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = images[i].reshape(h, w)
    ax.imshow(canvas, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    return ax


def loss_curve(ax, history, keys=None, title="training loss"):
    """Plot the per-epoch entries of a model's ``history_``."""
    for key in keys or history:
        ax.plot(np.arange(1, len(history[key]) + 1), history[key], label=key)
    ax.set_xlabel("epoch")
    # symlog: the first epochs are orders of magnitude above the rest, and a
    # Gaussian NLL with small ω² can be negative.
    ax.set_yscale("symlog")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
