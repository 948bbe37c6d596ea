"""The models: autoencoders and variational autoencoders, all trained by one loop (``_base``)."""

from ._base import BaseModel, TrainingDivergedError, load
from .autoencoder import Autoencoder
from .emvae import EMVAE
from .stacked import StackedAutoencoder
from .vae import VAE
from .vampprior import VampPriorVAE
from .wae import WAE

__all__ = ["BaseModel", "TrainingDivergedError", "load", "Autoencoder", "VAE", "WAE", "EMVAE",
           "VampPriorVAE", "StackedAutoencoder"]
