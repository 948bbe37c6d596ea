"""Data sets: the thesis's toy distributions, and loaders for HTRU2, KDD Cup 1999 and MNIST.

One module per job; every public name is available as ``minivae.datasets.<name>``.

``toy``
    ``normal_1d``, ``normal_2d``, ``linear_2d``, ``banana`` (the VAE toy sets,
    thesis Figs. 2.3-2.6), ``two_clusters``, ``three_clusters`` (Fig. 2.13 and
    (2.45)), ``bars`` (tiny binary images). Generated on the fly, seeded.
``uci``
    ``load_htru2``, ``load_kddcup99`` and the KDD feature-name tuples (the
    anomaly-detection sets of the thesis's chapter 3).
``mnist``
    ``load_mnist``; ``binarize`` and ``binarized_epochs`` for the stochastically
    ("dynamically") binarised MNIST of the VampPrior experiments.
``split``
    ``train_validation_split``: a seeded held-out validation set.
``_files``
    Where data lives and how it arrives: ``get_data_home`` (``data_home``
    argument, else ``$MINIVAE_DATA``, else ``~/.minivae/data``; the layout is
    ``htru2/HTRU_2.csv``, ``kddcup99/kddcup.data_10_percent.gz``,
    ``mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``), checksummed
    atomic downloads (``ChecksumError``), clear errors for damaged files
    (``DataFileError``), and ``get_cache_home`` for derived caches
    (``$MINIVAE_CACHE``, else ``$XDG_CACHE_HOME/minivae``, else
    ``~/.cache/minivae``). Nothing is ever written into the data home except
    the files downloaded there; it may be shared and read-only.

The standardisation used by the anomaly experiments lives in
``minivae.preprocessing.Standardizer`` (re-exported here for older code).
"""

from ..preprocessing import Standardizer  # noqa: F401  (moved; re-exported for older code)
from ._files import ChecksumError, DataFileError, Dataset, get_cache_home, get_data_home
from .mnist import binarize, binarized_epochs, load_mnist
from .split import train_validation_split
from .toy import banana, bars, linear_2d, normal_1d, normal_2d, three_clusters, two_clusters
from .uci import (
    HTRU2_FEATURE_NAMES,
    KDD_COUNT_LIKE_FEATURES,
    KDD_FEATURE_NAMES,
    KDD_HEAVY_TAILED_FEATURES,
    KDD_SYMBOLIC_FEATURES,
    KDD_THESIS_FEATURES,
    load_htru2,
    load_kddcup99,
)

__all__ = [
    "normal_1d",
    "normal_2d",
    "linear_2d",
    "banana",
    "two_clusters",
    "three_clusters",
    "bars",
    "Dataset",
    "ChecksumError",
    "DataFileError",
    "get_data_home",
    "get_cache_home",
    "load_htru2",
    "load_kddcup99",
    "load_mnist",
    "binarize",
    "binarized_epochs",
    "train_validation_split",
    "HTRU2_FEATURE_NAMES",
    "KDD_FEATURE_NAMES",
    "KDD_SYMBOLIC_FEATURES",
    "KDD_COUNT_LIKE_FEATURES",
    "KDD_THESIS_FEATURES",
    "KDD_HEAVY_TAILED_FEATURES",
]
