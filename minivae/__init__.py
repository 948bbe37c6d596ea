"""minivae: variational autoencoders written from scratch in NumPy, beside their derivations.

Modules, in the order imports flow:
``nn`` (layers, activations) -> ``optim`` (Adam, SGD) -> ``losses``, ``mmd`` and ``estep`` ->
``models`` (Autoencoder, VAE, WAE, EMVAE) -> ``demo`` / ``cli``. ``bayes`` (the Bayesian
chapter), ``datasets``, ``priors``, ``gradcheck`` and ``plotting`` stand beside them.

``minivae.mmd`` is the function :func:`minivae.mmd.mmd`; the module of the same name is
imported with ``from minivae.mmd import mmd_reference, mmd_and_grad, ...``.
"""

__version__ = "0.1.0"

from . import bayes, datasets, gradcheck, losses, nn, optim, preprocessing, priors  # noqa: E402
from ._validation import NotFittedError  # noqa: E402
from .gradcheck import check_gradients  # noqa: E402
from .mmd import Kernel, gaussian_kernel, imq_kernel, imq_multiscale, mmd  # noqa: E402
from .models import (  # noqa: E402
    EMVAE,
    VAE,
    WAE,
    Autoencoder,
    StackedAutoencoder,
    TrainingDivergedError,
    VampPriorVAE,
    load,
)
from .optim import SGD, Adam  # noqa: E402
from .priors import GaussianMixture, StandardNormal  # noqa: E402

__all__ = [
    "__version__",
    "Autoencoder",
    "StackedAutoencoder",
    "VAE",
    "VampPriorVAE",
    "WAE",
    "EMVAE",
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
    "preprocessing",
    "priors",
]
