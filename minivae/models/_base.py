"""What every minivae model shares: parameters, the training loop, save and load.

A model subclass declares its networks (``_make_modules``), the random draws
one training step needs (``_draw_noise``) and its objective with gradients
(``_loss_and_grad``). This base class does the rest once for all models:
building one flat parameter buffer, minibatches shuffled by the model's
Generator, Adam, per-epoch history, progress output, the divergence check,
scikit-learn style ``get_params``/``set_params``, and ``save``/``load``.
"""

import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from .._estimator import ParamsMixin
from .._validation import (
    check_array,
    check_dtype,
    check_is_fitted,
    check_positive,
    check_positive_int,
    check_random_state,
)
from ..nn import FlatParameters
from ..optim import Adam

__all__ = ["BaseModel", "TrainingDivergedError", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_FORMAT_NAME = "minivae-model"


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


class BaseModel(ParamsMixin):
    """Base class of the autoencoders and VAEs; not used directly.

    Subclasses store their constructor arguments unchanged (validation happens
    in ``fit``) and implement:

    ``_check_params()``
        Validate hyperparameters; raise ValueError naming the bad one.
    ``_make_modules(n_features)``
        Return a dict name -> network (``Dense`` or ``MLP``), in order.
    ``_extra_shapes(n_features)`` / ``_init_extra(rng, values)``
        Parameters that belong to no network (VampPrior's pseudo-inputs).
    ``_draw_noise(X, rng)``
        Every random draw one step needs (ε, corruption masks, prior samples),
        so that the objective itself is deterministic and can be
        gradient-checked with the noise held fixed.
    ``_loss_and_grad(X, noise)``
        Return ``(loss, terms)``: the batch-mean loss and a dict of named
        parts for the history; *add* the gradient of the loss into
        ``self._grads`` (zeroed by the caller).
    """

    # Fitted attributes other than params_ that save() must store (arrays or JSON-able).
    _extra_state = ()

    def _check_common(self):
        """Checks of the training-loop arguments every model has."""
        self._dtype = check_dtype(self.dtype)
        check_positive(self.lr, "lr")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.n_epochs, "n_epochs", minimum=0)
        if self.clip_norm is not None:
            check_positive(self.clip_norm, "clip_norm")

    # ------------------------------------------------------------------ building
    def _extra_shapes(self, n_features):
        return {}

    def _init_extra(self, rng, values):
        pass

    def _build(self, n_features, rng=None):
        """Create the networks and one flat buffer holding all their parameters.

        With ``rng=None`` the parameters are left at zero (``load`` fills them).
        """
        self._check_common()
        self._check_params()
        self.n_features_in_ = int(n_features)
        self.modules_ = self._make_modules(self.n_features_in_)
        shapes = {f"{m}.{k}": s for m, mod in self.modules_.items() for k, s in mod.shapes.items()}
        shapes.update(self._extra_shapes(self.n_features_in_))
        self._flat = FlatParameters(shapes, dtype=self._dtype)
        self.params_ = self._flat.params
        self._grads = {}
        for m, mod in self.modules_.items():
            params, grads = self._flat.subset(m + ".")
            mod.bind(params)
            self._grads[m] = grads
        if rng is not None:
            for m, mod in self.modules_.items():
                for k, v in mod.init_params(rng, self._dtype, bind=False).items():
                    self.params_[f"{m}.{k}"][...] = v
            self._init_extra(rng, self.params_)
        return self

    def initialize(self, X, random_state=None):
        """Build the networks for data shaped like ``X`` and draw initial weights, without training.

        Useful for exercises and gradient checks: afterwards ``params_`` exists
        and :meth:`objective` can be evaluated.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        self._build(X.shape[1], rng)
        self.history_ = {"loss": []}
        return self

    def _validate_X(self, X, reset=False):
        if reset:
            return check_array(X, dtype=check_dtype(self.dtype))
        # Before fit there is no _dtype yet: the fitted check must come first.
        check_is_fitted(self)
        return check_array(X, dtype=self._dtype, n_features=self.n_features_in_,
                           estimator=type(self).__name__)

    # ------------------------------------------------------------------ training
    def _draw_noise(self, X, rng):
        return None

    def _begin_epoch(self, epoch, X, rng):
        """Hook run before each epoch (KL warm-up, an EM step, ...)."""

    def objective(self, X, noise=None):
        """The training objective on ``X`` with the random draws ``noise`` held fixed.

        Returns
        -------
        loss : float
            The batch-mean loss that ``fit`` minimises.
        grads : dict
            Its gradient, keyed like ``params_`` (copies).

        Use with :func:`minivae.gradcheck.check_gradients` and a ``noise`` from
        ``model._draw_noise(X, rng)``.
        """
        check_is_fitted(self)
        self._flat.grad.fill(0.0)
        loss, _ = self._loss_and_grad(X, noise)
        return float(loss), {k: v.copy() for k, v in self._flat.grads.items()}

    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features) by minibatch Adam; returns self.

        Each epoch shuffles the rows with the model's Generator and takes one
        Adam step per minibatch of ``batch_size`` rows (the last one may be
        smaller). ``history_["loss"]`` holds the mean training loss of each
        epoch, and further keys the named parts of the objective.

        Raises
        ------
        TrainingDivergedError
            If the loss becomes NaN or infinite; the message names the epoch.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        self._build(X.shape[1], rng)
        self.history_ = {"loss": []}
        self._train(X, rng, self.n_epochs)
        return self

    def _train(self, X, rng, n_epochs):
        optimizer = Adam(lr=self.lr, clip_norm=self.clip_norm)
        params, grads = {"theta": self._flat.theta}, {"theta": self._flat.grad}
        n = X.shape[0]
        batch_size = min(self.batch_size, n)
        start_time = time.perf_counter()
        # Overflow inside a diverging step is reported once, by the check below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for epoch in range(n_epochs):
                self._begin_epoch(epoch, X, rng)
                order = rng.permutation(n)
                sums = {}
                for batch, start in enumerate(range(0, n, batch_size)):
                    xb = X[order[start:start + batch_size]]
                    noise = self._draw_noise(xb, rng)
                    self._flat.grad.fill(0.0)
                    loss, terms = self._loss_and_grad(xb, noise)
                    if not math.isfinite(loss):
                        self._diverged(epoch, batch, loss)
                    optimizer.step(params, grads)
                    w = xb.shape[0] / n
                    sums["loss"] = sums.get("loss", 0.0) + w * loss
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + w * v
                for k, v in sums.items():
                    self.history_.setdefault(k, []).append(float(v))
                if self.verbose:
                    self._report(epoch, n_epochs, sums, time.perf_counter() - start_time)

    def _diverged(self, epoch, batch, loss):
        raise TrainingDivergedError(
            f"{type(self).__name__}: the training loss became {loss} at epoch {epoch + 1}, "
            f"batch {batch + 1}. Remedies: lower lr (now {self.lr}), standardise X, "
            f"or set clip_norm (now {self.clip_norm})."
        )

    def _report(self, epoch, n_epochs, sums, elapsed):
        every = max(1, n_epochs // 20)
        if epoch % every and epoch != n_epochs - 1 and int(self.verbose) < 2:
            return
        parts = "  ".join(f"{k} {v:.4f}" for k, v in sums.items())
        print(f"[{type(self).__name__}] epoch {epoch + 1}/{n_epochs}  {parts}  ({elapsed:.1f}s)",
              file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ persistence
    def _after_load(self):
        """Hook run by ``load`` once parameters and fitted state are restored."""

    def _config(self):
        """JSON-able constructor arguments (a Generator random_state is stored as None)."""
        config = {}
        for k, v in self.get_params().items():
            if isinstance(v, np.random.Generator):
                v = None
            elif k == "dtype":
                v = np.dtype(v).name
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, np.generic):
                v = v.item()
            config[k] = v
        return config

    def save(self, path):
        """Write the fitted model to ``path`` (an ``.npz`` file), atomically.

        The file holds every array of ``params_``, fitted state, and a JSON
        header (format name and version, class, constructor arguments,
        ``history_``). It is written to a temporary file in the same directory
        and renamed, so a crash never leaves a half-written model. Loads with
        :func:`minivae.load` and ``allow_pickle=False``.
        """
        check_is_fitted(self)
        path = Path(path)
        meta = {
            "format": _FORMAT_NAME,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "config": self._config(),
            "n_features_in": self.n_features_in_,
            "history": getattr(self, "history_", {}),
            "state": {},
        }
        arrays = {f"param/{k}": np.asarray(v) for k, v in self.params_.items()}
        for name in self._extra_state:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                arrays[f"state/{name}"] = value
            else:
                meta["state"][name] = value
        arrays["__meta__"] = np.array(json.dumps(meta))
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return path


def _model_classes():
    import minivae.models as models

    classes = {}
    for name in models.__all__:
        obj = getattr(models, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            classes[name] = obj
    return classes


def load(path):
    """Load a model written by ``save``. Corrupt or foreign files raise ValueError.

    The file is read with ``allow_pickle=False``: it can contain nothing but
    numeric arrays and a JSON header.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("__meta__")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable minivae model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT_NAME:
        raise ValueError(f"{path} is not a minivae model file (no minivae header)")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has model format version {meta.get('version')}; "
                         f"this minivae reads version {FORMAT_VERSION}")
    classes = _model_classes()
    cls = classes.get(meta.get("class"))
    if cls is None:
        raise ValueError(f"{path} holds an unknown model class {meta.get('class')!r}")
    # JSON has no tuples: _config wrote tuple arguments (hidden_sizes) as lists.
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
    model = cls(**config)
    model._build(meta["n_features_in"], rng=None)
    for name, view in model.params_.items():
        key = f"param/{name}"
        if key not in arrays or arrays[key].shape != view.shape:
            raise ValueError(f"{path} is corrupt: parameter {name} is missing or has the wrong shape")
        view[...] = arrays[key]
    for name in cls._extra_state:
        if f"state/{name}" in arrays:
            setattr(model, name, arrays[f"state/{name}"])
        elif name in meta["state"]:
            setattr(model, name, meta["state"][name])
        else:
            raise ValueError(f"{path} is corrupt: fitted state {name} is missing")
    model.history_ = meta.get("history", {})
    model._after_load()
    return model

