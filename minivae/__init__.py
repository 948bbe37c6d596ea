"""minivae: variational autoencoders written from scratch in NumPy, beside their derivations.

Modules, in the order imports flow:
``nn`` (layers, activations) -> ``optim`` (Adam, SGD) -> ``losses`` and ``mmd`` ->
``models`` (Autoencoder, VAE, WAE) -> ``demo`` / ``cli``. ``bayes`` (the Bayesian
chapter), ``datasets``, ``priors``, ``gradcheck`` and ``plotting`` stand beside them.

``minivae.mmd`` is the function :func:`minivae.mmd.mmd`; the module of the same name is
imported with ``from minivae.mmd import mmd_reference, mmd_and_grad, ...``.
"""

__version__ = "0.1.0"

from . import bayes, datasets, gradcheck, losses, nn, optim, priors  # noqa: E402
from ._validation import NotFittedError  # noqa: E402
from .gradcheck import check_gradients  # noqa: E402
from .mmd import Kernel, gaussian_kernel, imq_kernel, imq_multiscale, mmd  # noqa: E402
from .models import VAE, WAE, Autoencoder, TrainingDivergedError, load  # noqa: E402
from .optim import SGD, Adam  # noqa: E402
from .priors import GaussianMixture, StandardNormal  # noqa: E402

__all__ = [
    "__version__",
    "Autoencoder",
    "VAE",
    "WAE",
    "load",
    "StandardNormal",
    "GaussianMixture",
    "Adam",
    "SGD",
    "check_gradients",
    "Kernel",
    "gaussian_kernel",
    "imq_kernel",
    "imq_multiscale",
    "mmd",
    "NotFittedError",
    "TrainingDivergedError",
    "bayes",
    "datasets",
    "gradcheck",
    "losses",
    "nn",
    "optim",
    "priors",
]
