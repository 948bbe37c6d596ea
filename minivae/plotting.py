"""Matplotlib figures shared by the demo, the CLI and the tutorials.

Imported lazily (the core never imports matplotlib); selects the headless Agg
backend unless a backend was chosen already, so everything works without a
display, and in a notebook the inline backend shows the figures.

Two layers:

* drawing helpers that draw on an axis you pass and return it
  (``scatter_compare``, ``image_grid``, ``loss_curve``);
* figure functions ``plot_*`` that build a whole figure and return the
  ``matplotlib.figure.Figure`` (save it with ``fig.savefig``; in a notebook it
  shows itself). Those with an ``ax`` argument draw into that axis instead and
  return its figure, so panels can be combined.

Every axis gets a title and axis labels (image panels: a title and row labels,
no ticks).
"""

import os
import sys

import numpy as np

__all__ = [
    "pyplot",
    "scatter_compare",
    "image_grid",
    "loss_curve",
    "plot_image_grid",
    "plot_reconstructions",
    "plot_interpolations",
    "plot_traversals",
    "plot_latent_scatter",
    "plot_loss_curves",
    "plot_roc",
    "plot_rate_distortion",
]


def pyplot():
    """Return ``matplotlib.pyplot``, using Agg when no interactive backend was chosen."""
    import matplotlib

    # Respect a backend the user chose (MPLBACKEND, or pyplot already imported
    # in a notebook); otherwise stay headless.
    if "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_compare(ax, X, S, title="", labels=("data", "samples"), s=4, axis_names=("x₁", "x₂")):
    """Scatter 2-D data X and model samples S on one axis (1-D inputs become histograms).

    ``axis_names`` labels the two coordinates (``("z₁", "z₂")`` for a latent space).
    """
    if X.shape[1] == 1:
        bins = np.histogram_bin_edges(np.concatenate([X[:, 0], S[:, 0]]), bins=40)
        ax.hist(X[:, 0], bins=bins, alpha=0.5, density=True, label=labels[0])
        ax.hist(S[:, 0], bins=bins, alpha=0.5, density=True, label=labels[1])
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel("density")
    else:
        ax.scatter(X[:, 0], X[:, 1], s=s, alpha=0.4, label=labels[0])
        ax.scatter(S[:, 0], S[:, 1], s=s, alpha=0.4, label=labels[1])
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(axis_names[0])
        ax.set_ylabel(axis_names[1])
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
    ax.set_ylabel("mean loss per example")
    # symlog: the first epochs are orders of magnitude above the rest, and a
    # Gaussian NLL with small ω² can be negative.
    ax.set_yscale("symlog")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


# =====================================================================================
# Figure functions: each returns the Figure
# =====================================================================================

def _image_shape(shape, n_features):
    if shape is None:
        side = int(round(np.sqrt(n_features)))
        if side * side != n_features:
            raise ValueError(f"shape must be given for images of {n_features} pixels "
                             "(not a square number)")
        return side, side
    h, w = (int(v) for v in shape)
    if h * w != n_features:
        raise ValueError(f"shape {shape!r} does not hold {n_features} pixels")
    return h, w


def _figure(ax, n_rows=1, n_cols=1, figsize=None):
    """A new figure with a grid of axes, or the figure of the given axis."""
    if ax is not None:
        return ax.figure, np.array([ax])
    plt = pyplot()
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False)
    return fig, axes.ravel()


def _label_image_axis(ax, title, xlabel="", ylabel=""):
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def plot_image_grid(images, shape=None, n_cols=None, title="images", ax=None):
    """A grid of flattened images, e.g. samples from a model.

    Parameters
    ----------
    images : array-like of shape (n_images, h·w)
        Row-major images; values in [0, 1] look best.
    shape : (h, w), optional
        Image shape; default a square.
    n_cols : int, optional
        Images per row (default about √n_images).
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axis.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2 or images.shape[0] == 0:
        raise ValueError(f"images must be a non-empty 2-D array (n_images, n_pixels), got shape "
                         f"{images.shape}")
    shape = _image_shape(shape, images.shape[1])
    fig, axes = _figure(ax, figsize=(5, 5))
    image_grid(axes[0], images, shape, n_cols=n_cols)
    _label_image_axis(axes[0], title, xlabel=f"{images.shape[0]} images of {shape[0]}x{shape[1]}")
    return fig


def plot_reconstructions(X, X_hat, shape=None, n=10, titles=("data", "reconstruction")):
    """Inputs in the top row, their reconstructions below.

    Parameters
    ----------
    X, X_hat : array-like of shape (n_samples, h·w)
    shape : (h, w), optional
    n : int
        How many pairs (the first n rows).
    titles : pair of str

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the inputs, the reconstructions.
    """
    X, X_hat = np.asarray(X, dtype=np.float64), np.asarray(X_hat, dtype=np.float64)
    if X.shape != X_hat.shape or X.ndim != 2:
        raise ValueError(f"X and X_hat must be 2-D arrays of one shape, got {X.shape} and {X_hat.shape}")
    n = min(int(n), X.shape[0])
    shape = _image_shape(shape, X.shape[1])
    fig, axes = _figure(None, 2, 1, figsize=(1.0 * n + 1, 2.8))
    for ax, imgs, title in zip(axes, (X[:n], X_hat[:n]), titles):
        image_grid(ax, imgs, shape, n_cols=n)
        _label_image_axis(ax, title, ylabel=title.split()[0])
    axes[1].set_xlabel("example")
    fig.tight_layout()
    return fig


def plot_interpolations(paths, shape=None, title="latent interpolation"):
    """One strip of decoded images per interpolation method, endpoints at the ends.

    Parameters
    ----------
    paths : dict of str to array-like of shape (steps, h·w)
        E.g. ``{"linear": ..., "slerp": ...}`` from :func:`minivae.latent.interpolate`.
    shape : (h, w), optional
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axis per method.
    """
    if not paths:
        raise ValueError("paths must hold at least one interpolation, got an empty dict")
    paths = {k: np.asarray(v, dtype=np.float64) for k, v in paths.items()}
    steps, n_features = next(iter(paths.values())).shape
    shape = _image_shape(shape, n_features)
    fig, axes = _figure(None, len(paths), 1, figsize=(0.9 * steps + 1, 1.3 * len(paths) + 0.6))
    for ax, (name, imgs) in zip(axes, paths.items()):
        image_grid(ax, imgs, shape, n_cols=imgs.shape[0])
        _label_image_axis(ax, "", ylabel=name)
    axes[0].set_title(title)
    axes[-1].set_xlabel("t from 0 (first input) to 1 (second input)")
    fig.tight_layout()
    return fig


def plot_traversals(sweeps, values, shape=None, units=None, title="latent traversals"):
    """A grid whose row u decodes the code with unit u swept through ``values``.

    Parameters
    ----------
    sweeps : array-like of shape (n_units, n_values, h·w)
        From :func:`minivae.latent.latent_traversal`, one call per unit.
    values : array-like of shape (n_values,)
    shape : (h, w), optional
    units : sequence of int, optional
        Unit index of each row (default 0, 1, …).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One axis.
    """
    sweeps = np.asarray(sweeps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if sweeps.ndim != 3 or sweeps.shape[1] != values.size:
        raise ValueError(f"sweeps must have shape (n_units, {values.size}, n_pixels), got {sweeps.shape}")
    n_units, n_values, n_features = sweeps.shape
    shape = _image_shape(shape, n_features)
    units = list(range(n_units)) if units is None else list(units)
    fig, axes = _figure(None, figsize=(0.8 * n_values + 1.5, 0.8 * n_units + 1.0))
    ax = axes[0]
    image_grid(ax, sweeps.reshape(-1, n_features), shape, n_cols=n_values)
    _label_image_axis(ax, title, xlabel="z_u = " + ", ".join(f"{v:g}" for v in values),
                      ylabel="unit u")
    h = shape[0]
    ax.set_yticks([(h + 1) * i + h / 2 for i in range(n_units)])
    ax.set_yticklabels([str(u) for u in units])
    fig.tight_layout()
    return fig


def plot_latent_scatter(Z, labels=None, title="latent space", ax=None, s=4):
    """The first two latent coordinates of each row, coloured by its label.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_latent >= 2)
    labels : array-like of shape (n_samples,), optional
        Class labels (a legend entry per class).
    title : str
    ax : matplotlib Axes, optional
    s : float
        Marker size.

    Returns
    -------
    matplotlib.figure.Figure
        One axis (the legend lives inside it).
    """
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 2:
        raise ValueError(f"Z must have shape (n_samples, >= 2), got {Z.shape}")
    fig, axes = _figure(ax, figsize=(6, 5.5))
    ax = axes[0]
    if labels is None:
        ax.scatter(Z[:, 0], Z[:, 1], s=s, alpha=0.6)
    else:
        labels = np.asarray(labels)
        if labels.shape != (Z.shape[0],):
            raise ValueError(f"labels must have shape ({Z.shape[0]},), got {labels.shape}")
        for value in np.unique(labels):
            keep = labels == value
            ax.scatter(Z[keep, 0], Z[keep, 1], s=s, alpha=0.6, label=str(value))
        ax.legend(loc="best", fontsize="small", markerscale=3, title="label")
    ax.set_xlabel("z_1")
    ax.set_ylabel("z_2")
    ax.set_title(title)
    return fig


def plot_loss_curves(histories, keys=None, title="training loss"):
    """Per-epoch curves of one or more training histories, one axis per history.

    Parameters
    ----------
    histories : dict of str to dict
        Name -> a model's ``history_`` (dict of per-epoch lists); a plain list is
        plotted as ``{"loss": list}``.
    keys : sequence of str, optional
        Which entries to draw (default all).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        ``len(histories)`` axes.
    """
    if not histories:
        raise ValueError("histories must hold at least one history, got an empty dict")
    fig, axes = _figure(None, 1, len(histories), figsize=(4.5 * len(histories), 3.5))
    for ax, (name, hist) in zip(axes, histories.items()):
        if not isinstance(hist, dict):
            hist = {"loss": list(hist)}
        drawn = [k for k in (keys or hist) if k in hist]
        loss_curve(ax, hist, keys=drawn, title=f"{title}: {name}")
        values = np.concatenate([np.asarray(hist[k], dtype=np.float64) for k in drawn]) if drawn else []
        # loss_curve's symlog axis suits losses spanning decades or crossing 0; within
        # one decade it shows no tick labels, so fall back to a linear axis there.
        if len(values) and values.min() > 0 and values.max() < 10 * values.min():
            ax.set_yscale("linear")
        ax.set_ylabel("loss per example")
    fig.tight_layout()
    return fig


def plot_roc(curves, title="ROC curve", ax=None):
    """ROC curves: true-positive rate against false-positive rate, with the chance diagonal.

    Parameters
    ----------
    curves : dict of str to tuple
        Name -> ``(fpr, tpr)`` or ``(fpr, tpr, auc)``; fpr and tpr are arrays of
        equal length, from (0, 0) to (1, 1).
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axis.
    """
    if not curves:
        raise ValueError("curves must hold at least one ROC curve, got an empty dict")
    fig, axes = _figure(ax, figsize=(5, 5))
    ax = axes[0]
    for name, curve in curves.items():
        fpr, tpr = np.asarray(curve[0], dtype=np.float64), np.asarray(curve[1], dtype=np.float64)
        if fpr.shape != tpr.shape or fpr.ndim != 1:
            raise ValueError(f"curve {name!r}: fpr and tpr must be 1-D arrays of one length, "
                             f"got {fpr.shape} and {tpr.shape}")
        label = name if len(curve) < 3 else f"{name} (AUC {float(curve[2]):.3f})"
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false-positive rate FP / (FP + TN)")
    ax.set_ylabel("true-positive rate TP / (TP + FN)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_rate_distortion(table, title="rate-distortion", ax=None):
    """Reconstruction error against bits per example: the latent codec and the PCA baselines.

    Parameters
    ----------
    table : dict
        From :func:`minivae.latent.rate_distortion`: ``bits_per_example`` and any
        of ``model_error``, ``pca_error``, ``pca_best_error``; a scalar
        ``model_error_unquantized`` is drawn as a horizontal line.
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axis.
    """
    if "bits_per_example" not in table:
        raise ValueError("table must have a 'bits_per_example' entry (see minivae.latent.rate_distortion)")
    rate = np.asarray(table["bits_per_example"], dtype=np.float64)
    fig, axes = _figure(ax, figsize=(5.5, 4))
    ax = axes[0]
    names = {"model_error": "latent codec (model)", "pca_error": "PCA, n_latent components",
             "pca_best_error": "PCA, best split of the bits"}
    for key, label in names.items():
        if key in table:
            ax.plot(rate, table[key], marker="o", label=label)
    if "model_error_unquantized" in table:
        ax.axhline(float(table["model_error_unquantized"]), color="grey", linestyle=":",
                   label="model, unquantised code")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bits per example")
    ax.set_ylabel("squared reconstruction error per example")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig
