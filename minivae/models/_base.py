"""What every minivae model shares: parameters, the training loop, save and load.

A model is read in one method, ``step``: its whole objective and chain rule on
one minibatch, top to bottom, with every 1/n and every β in sight::

    loss, terms = model.step(X_batch, noise, state, grads)

* ``noise``  every random draw the step needs (ε, corruption masks, prior
  samples), drawn beforehand by ``draw_noise``, so the step itself is a
  deterministic function that finite differences can check;
* ``state``  what changes between steps but is not a weight: the KL warm-up
  weight ``beta``, per-row quantities such as EMVAE's responsibilities, and
  ``rows``, the indices of the batch's rows in the training set;
* ``grads``  arrays the step *adds* its gradient into: ``grads[net]`` holds
  the gradients of network ``net`` keyed like its parameters, ``grads[name]``
  the gradient of a parameter that belongs to no network (VampPrior's ``u``).

This base class owns the rest, once for every model: the flat parameter
buffer, minibatches shuffled by the model's Generator, Adam, the per-epoch
history, progress output, the divergence check, and ``save``/``load``.

Hooks a model implements (all receive their inputs as arguments):

``_check_params()``                 validate hyperparameters (and nothing else)
``_set_up()``                       derived settings (normalised hidden sizes, the prior)
``_make_modules(X)``                {name: network}; X is the training data
``_extra_shapes(X)``                {name: shape} of parameters of no network
``_init_params(X, rng)``            initialisation beyond Glorot (optional)
``_draw_noise(X, rng)``             the draws of one step (``draw_noise`` checks inputs)
``init_state(X)``                   the state at the start of ``fit``
``_begin_epoch(epoch, X, state, rng)``  the state for this epoch
``step(X, noise, state, grads)``    the objective and its gradient
``_end_fit(X, state)``              fitted attributes derived from the last state
"""

import functools
import json
import math
import numbers
import sys
import time
import zipfile

import numpy as np

from .._atomic import write_atomic
from .._estimator import ParamsMixin
from .._validation import (
    check_array,
    check_dtype,
    check_flag,
    check_is_fitted,
    check_path,
    check_positive,
    check_positive_int,
    check_random_state,
    check_verbose,
)
from ..nn import ACTIVATIONS, FlatParameters, Identity
from ..optim import Adam

__all__ = ["BaseModel", "TrainingDivergedError", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1
FORMAT_NAME = "minivae-model"
# load() refuses headers that would allocate more than this many parameters
# before any array in the file has been checked against them.
MAX_PARAMETERS = 200_000_000


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss or the weights become NaN or infinite.

    The model is left unfitted (as before ``fit``), so a half-trained network
    can neither be used nor saved by mistake.
    """


# Scores run the networks on blocks of a fixed number of rows, a multiple of
# BLOCK_ROWS, with the last block padded: BLAS then computes every row with the
# same kernel and the same summation order, so a row's score is bit-identical
# alone or in a batch (a 1-row product would go through another BLAS routine).
BLOCK_ROWS = 64
# At most this many rows per block: a short X is padded to a whole block, so
# scoring one row costs a block (sized by a memory budget alone, a block was
# 250,000 rows for a 16-wide network with n_mc = 1).
MAX_BLOCK_ROWS = 256


# A Monte-Carlo score draws its n_mc values of ε once per call and reuses them
# for every block of rows (so that a row's score does not depend on the other
# rows): they are held in memory all at once, and this bounds them.
MAX_EPS_BYTES = 2**30


def check_n_mc(n_mc, floats_per_draw, dtype):
    """``n_mc`` as an int > 0 whose draws of ε, ``floats_per_draw`` each, fit in ``MAX_EPS_BYTES``.

    Raises
    ------
    TypeError, ValueError
        If n_mc is not a positive integer, or its draws would take more than
        1 GiB: the call fails at once, naming the size, instead of after
        exhausting the memory.
    """
    n_mc = check_positive_int(n_mc, "n_mc")
    draw_bytes = floats_per_draw * np.dtype(dtype).itemsize
    if n_mc * draw_bytes > MAX_EPS_BYTES:
        raise ValueError(
            f"n_mc={n_mc} draws of ε would take {n_mc * draw_bytes / 2**30:.1f} GiB "
            f"({floats_per_draw} {np.dtype(dtype).name} values per draw, held at once); "
            f"at most {MAX_EPS_BYTES // draw_bytes} draws fit in the 1 GiB allowed")
    return n_mc


def row_blocks(X, size):
    """``(rows, X_block)`` for consecutive blocks of ``size`` rows of X, the last padded with zeros.

    ``rows`` is the slice of X the block holds; a caller keeps the first
    ``rows.stop - rows.start`` values computed from the block.
    """
    n = X.shape[0]
    for start in range(0, n, size):
        xb = X[start:start + size]
        if xb.shape[0] < size:
            xb = np.concatenate([xb, np.zeros((size - xb.shape[0], X.shape[1]), dtype=X.dtype)])
        yield slice(start, min(start + size, n)), xb


def allow_overflow(score):
    """Decorate a score method so that a far outlier's overflow is silent: its error becomes
    +inf (its log-likelihood −inf), the honest value, never NaN and never a warning."""
    @functools.wraps(score)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore"):
            return score(*args, **kwargs)
    return wrapper


def warmup_beta(epoch, kl_warmup):
    """KL weight β of epoch ``epoch`` (0-based): rises linearly from 0 to 1 over ``kl_warmup`` epochs.

    β = min(1, epoch / kl_warmup); ``kl_warmup = 0`` means β = 1 throughout
    (Bowman et al. 2016; Sønderby et al. 2016).
    """
    return 1.0 if kl_warmup == 0 else min(1.0, epoch / kl_warmup)


class BaseModel(ParamsMixin):
    """Base class of every minivae model; subclass it, do not instantiate it.

    A subclass stores its constructor arguments unchanged (validation happens
    in ``fit``) and implements the hooks listed in the module docstring; the
    simplest complete example is :class:`minivae.models.Autoencoder`.
    Instantiating ``BaseModel`` itself raises TypeError.
    """

    # Fitted attributes other than params_ that save() must store (arrays or JSON-able).
    _extra_state = ()

    def __new__(cls, *args, **kwargs):
        if cls is BaseModel:
            raise TypeError("BaseModel is the base class of the models; use Autoencoder, VAE, WAE, "
                            "... or subclass it (see minivae.models._base)")
        return super().__new__(cls)

    def _check_common(self):
        """Checks of the training-loop arguments every model has."""
        check_dtype(self.dtype)
        check_positive(self.lr, "lr")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.n_epochs, "n_epochs", minimum=0)
        if self.clip_norm is not None:
            check_positive(self.clip_norm, "clip_norm")
        check_verbose(self.verbose)
        check_random_state_arg(self.random_state)
        check_flag(self.early_stopping, "early_stopping")
        check_positive_int(self.n_iter_no_change, "n_iter_no_change")
        fraction = check_positive(self.validation_fraction, "validation_fraction")
        if not fraction < 1:
            raise ValueError(f"validation_fraction must lie in (0, 1), got {fraction}")

    # ------------------------------------------------------------------ hooks with defaults
    def _set_up(self):
        """Derived settings the networks are built from; runs after the checks, before building.

        Subclasses extend it (``super()._set_up()`` first).
        """
        self._dtype = check_dtype(self.dtype)

    def _extra_shapes(self, X):
        return {}

    def _init_params(self, X, rng):
        pass

    def _draw_noise(self, X, rng):
        return {}

    def _check_data(self, X):
        """Refuse data outside the likelihood's domain: a Bernoulli decoder needs X in [0, 1]."""
        if getattr(self, "likelihood", None) == "bernoulli" and X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"likelihood='bernoulli' needs data in [0, 1], got values in "
                             f"[{X.min():.4g}, {X.max():.4g}]; rescale X or use likelihood='gaussian'")

    def init_state(self, X):
        """The state at the start of ``fit`` on ``X``: by default ``{"beta": 1.0}``."""
        return {"beta": 1.0}

    def default_state(self, X):
        """The state :meth:`objective` uses when none is given: the full objective, β = 1."""
        return {"beta": 1.0, "rows": np.arange(X.shape[0])}

    def _begin_epoch(self, epoch, X, state, rng):
        return state

    def _end_fit(self, X, state):
        pass

    # ------------------------------------------------------------------ building
    def _build(self, X, rng=None):
        """Create the networks for data ``X`` and one flat buffer holding all their parameters.

        With ``rng=None`` the parameters are left at zero (``load`` fills them).
        """
        self._check_common()
        self._check_params()
        self._set_up()
        modules = self._make_modules(X)
        self._allocate(X.shape[1], modules, self._extra_shapes(X))
        if rng is not None:
            for m, mod in self.modules_.items():
                for k, v in mod.init_params(rng, self._dtype, bind=False).items():
                    self.params_[f"{m}.{k}"][...] = v
            self._init_params(X, rng)
        return self

    def _allocate(self, n_features, modules, extra_shapes):
        self.n_features_in_ = int(n_features)
        self.modules_ = modules
        shapes = {f"{m}.{k}": s for m, mod in modules.items() for k, s in mod.shapes.items()}
        shapes.update(extra_shapes)
        self._flat = FlatParameters(shapes, dtype=self._dtype)
        self.params_ = self._flat.params
        self._grads = self._flat.groups(self._flat.grads)
        for m, mod in modules.items():
            mod.bind(self._flat.groups(self._flat.params)[m])
        # save() writes the arguments the networks were built with, even after set_params.
        self._fitted_params = self.get_params()

    def initialize(self, X, random_state=None):
        """Build the networks for data shaped like ``X`` and draw initial weights, without training.

        Afterwards ``params_`` exists and :meth:`objective` can be evaluated:
        useful for exercises and gradient checks.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        self._build(X, rng)
        self.history_ = {"loss": []}
        return self

    def _validate_X(self, X, reset=False, scored=False):
        """Check X; at fit (``reset``) and where X is scored, also the likelihood's domain."""
        if reset:
            X = check_array(X, dtype=check_dtype(self.dtype))
        else:
            # Before fit there is no _dtype yet: the fitted check must come first.
            check_is_fitted(self)
            X = check_array(X, dtype=self._dtype, n_features=self.n_features_in_,
                            estimator=type(self).__name__)
        if reset or scored:
            self._check_data(X)
        return X

    # ------------------------------------------------------------------ the objective
    def draw_noise(self, X, random_state=None):
        """Every random draw one training step on ``X`` needs, as a dict of arrays.

        Hold it fixed to make :meth:`objective` (and :meth:`step`) a
        deterministic function of the parameters, e.g. for
        :func:`minivae.gradcheck.check_gradients`.
        """
        X = self._validate_X(X)
        return self._draw_noise(X, check_random_state(random_state))

    def step(self, X, noise, state, grads):
        """One training step's objective on the minibatch ``X``; adds its gradient into ``grads``.

        Returns ``(loss, terms)``: the batch-mean loss and a dict of its named
        parts for ``history_``. Implemented by every model.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def objective(self, X, noise=None, state=None):
        """The training objective on ``X`` with the random draws ``noise`` held fixed.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
        noise : dict, optional
            From :meth:`draw_noise` on the same ``X``. May be omitted only for
            a model whose step draws nothing (a plain autoencoder).
        state : dict, optional
            As the training loop passes it (``beta``, per-row arrays, ``rows``).
            By default :meth:`default_state`: the *full* objective with β = 1,
            never "whatever the last fit left".

        Returns
        -------
        loss : float
            The batch-mean loss that ``fit`` minimises.
        grads : dict
            Its gradient, keyed like ``params_`` (copies).
        """
        X = self._validate_X(X, scored=True)
        expected = self._draw_noise(X, np.random.default_rng(0))
        if noise is None:
            if expected:
                raise TypeError(f"{type(self).__name__}.objective needs the random draws it holds "
                                f"fixed: pass noise=model.draw_noise(X, random_state)")
            noise = expected
        if not isinstance(noise, dict):
            raise TypeError("noise must be the dict returned by draw_noise(X, random_state), "
                            f"got {type(noise).__name__}")
        missing = sorted(set(expected) - set(noise))
        if missing:
            raise ValueError(f"noise lacks {missing}: draw it with draw_noise(X, random_state)")
        # ε may hold any number of draws (leading axes), but its last two axes are
        # (rows of X, latent or input width): a noise drawn for another X fails here.
        if "eps" in expected and np.shape(noise["eps"])[-2:] != expected["eps"].shape[-2:]:
            raise ValueError(f"noise['eps'] must end in shape {expected['eps'].shape[-2:]} for these "
                             f"{X.shape[0]} rows, got {np.shape(noise['eps'])}; draw it with "
                             "draw_noise(X, random_state) on the same X")
        state = self.default_state(X) if state is None else {"rows": np.arange(X.shape[0]), **state}
        self._flat.grad.fill(0.0)
        loss, _ = self.step(X, noise, state, self._grads)
        return float(loss), {k: v.copy() for k, v in self._flat.grads.items()}

    # ------------------------------------------------------------------ training
    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features) by minibatch Adam; returns self.

        Each epoch shuffles the rows with the model's Generator and takes one
        Adam step per minibatch of ``batch_size`` rows (the last one may be
        smaller). ``history_["loss"]`` holds the mean training loss of each
        epoch, and further keys the named parts of the objective.

        Raises
        ------
        TrainingDivergedError
            If the loss or the weights become NaN or infinite; the message
            names the epoch and remedies, and the model is left unfitted.
        """
        X = self._validate_X(X, reset=True)
        self._check_fit_size(X.shape)
        rng = check_random_state(self.random_state)
        self._build(X, rng)
        self.history_ = {"loss": []}
        X_val = None
        if self.early_stopping:
            X, X_val = self._split_validation(X, rng)
        try:
            state = self._train(X, rng, self.init_state(X), X_val)
            self._end_fit(X, state)
        except TrainingDivergedError:
            self._forget_fit()
            raise
        return self

    def _check_fit_size(self, shape):
        """Refuse, before any work, a fit whose step would need more memory than a laptop has (hook)."""

    def _split_validation(self, X, rng):
        n_val = int(round(self.validation_fraction * X.shape[0]))
        if n_val < 1 or n_val >= X.shape[0]:
            raise ValueError(f"early_stopping holds out validation_fraction={self.validation_fraction} "
                             f"of {X.shape[0]} rows, which leaves no validation or no training row")
        order = rng.permutation(X.shape[0])
        return X[order[n_val:]], X[order[:n_val]]

    def _forget_fit(self):
        for name in ("params_", "modules_", "_flat", "_grads", "history_", "n_features_in_",
                     "optimizer_", "best_epoch_", "_best_theta", *self._extra_state):
            self.__dict__.pop(name, None)

    def _train(self, X, rng, state, X_val=None):
        optimizer = Adam(lr=self.lr, clip_norm=self.clip_norm)
        self.optimizer_ = optimizer
        params, flat_grad = {"theta": self._flat.theta}, {"theta": self._flat.grad}
        grads = self._grads
        n = X.shape[0]
        batch_size = min(self.batch_size, n)
        start_time = time.perf_counter()
        # Overflow inside a diverging step is reported once, by the checks below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for epoch in range(self.n_epochs):
                state = self._begin_epoch(epoch, X, state, rng)
                order = rng.permutation(n)
                sums = {}
                for batch, start in enumerate(range(0, n, batch_size)):
                    rows = order[start:start + batch_size]
                    xb = X[rows]
                    noise = self._draw_noise(xb, rng)
                    self._flat.grad.fill(0.0)
                    loss, terms = self.step(xb, noise, {**state, "rows": rows}, grads)
                    if not math.isfinite(loss):
                        self._diverged(epoch, batch, f"the training loss became {loss}")
                    optimizer.step(params, flat_grad)
                    w = xb.shape[0] / n
                    sums["loss"] = sums.get("loss", 0.0) + w * loss
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + w * v
                # A step can turn finite weights into ones that overflow the forward
                # pass (a huge lr): once per epoch, the last batch is evaluated again
                # with the updated weights, so no epoch ends on an unusable model.
                if not np.isfinite(self._flat.theta).all():
                    self._diverged(epoch, batch, "the weights became non-finite")
                self._flat.grad.fill(0.0)
                after, _ = self.step(xb, noise, {**state, "rows": rows}, grads)
                if not math.isfinite(after):
                    self._diverged(epoch, batch, f"the loss after the last step became {after}")
                if X_val is not None:
                    sums["val_loss"] = self._validation_loss(X_val)
                for k, v in sums.items():
                    self.history_.setdefault(k, []).append(float(v))
                if self.verbose:
                    self._report(epoch, self.n_epochs, sums, time.perf_counter() - start_time)
                if X_val is not None and self._no_improvement(epoch):
                    break
        if X_val is not None:
            self._flat.theta[...] = self._best_theta
        return state

    def _validation_loss(self, X_val):
        """The full objective (β = 1) on the held-out rows, with draws fixed for the whole fit."""
        noise = self._draw_noise(X_val, np.random.default_rng(0))
        return self.step(X_val, noise, self.default_state(X_val), self._grads)[0]

    def _no_improvement(self, epoch):
        """Track the best validation loss; True once it is ``n_iter_no_change`` epochs old."""
        val = self.history_["val_loss"]
        if epoch == 0 or val[-1] < min(val[:-1]):
            self._best_theta = self._flat.theta.copy()
            self.best_epoch_ = epoch + 1
        return epoch + 1 - self.best_epoch_ >= self.n_iter_no_change

    def optimizer_state(self):
        """Adam's moment estimates after ``fit``: ``{"m": {name: view}, "v": {...}, "t": steps}``.

        The views have the names and shapes of ``params_`` (m and v of the
        one flat buffer that Adam updates).
        """
        check_is_fitted(self, "optimizer_")
        opt = self.optimizer_
        return {"m": self._flat.views(opt.m["theta"]), "v": self._flat.views(opt.v["theta"]),
                "t": opt.steps["theta"]}

    def _diverged(self, epoch, batch, what):
        raise TrainingDivergedError(
            f"{type(self).__name__}: {what} at epoch {epoch + 1}, batch {batch + 1}. "
            f"Remedies: lower lr (now {self.lr}), standardise X, or set clip_norm "
            f"(now {self.clip_norm}). The model is left unfitted."
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

    def _config(self, params):
        """JSON-able constructor arguments; a Generator random_state is stored as None."""
        return {k: jsonable(v, k) for k, v in params.items()}

    def save(self, path):
        """Write the fitted model to ``path`` (an ``.npz`` file), atomically.

        The file holds every array of ``params_``, fitted state, and a JSON
        header (format name and version, class, the constructor arguments the
        model was fitted with, ``history_``). It is written to a uniquely named
        temporary file in the same directory, flushed to disk, and renamed
        over ``path``, so a crash or a concurrent save never leaves a torn
        file: readers see the old model or the new one. Loads with
        :func:`minivae.load` and ``allow_pickle=False``.

        Raises
        ------
        TypeError
            If ``path`` is not a str or path-like.
        ValueError
            If the model's parameters are not finite.
        """
        check_is_fitted(self)
        path = check_path(path, "path")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot save to {path}: no directory {path.parent}")
        if not np.isfinite(self._flat.theta).all():
            raise ValueError(f"refusing to save a {type(self).__name__} with non-finite parameters")
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "config": self._config(self._fitted_params),
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
                meta["state"][name] = jsonable(value, name)
        arrays["__meta__"] = np.array(json.dumps(meta))
        write_atomic(path, lambda fh: np.savez(fh, **arrays))
        return path


def jsonable(value, name):
    """``value`` as plain JSON types: tuples and arrays become lists, NumPy scalars Python ones.

    An activation object is stored by its name; a Generator random_state as None.
    """
    if isinstance(value, np.random.Generator):
        return None
    if isinstance(value, Identity):
        if value.name not in ACTIVATIONS:
            raise TypeError(f"cannot save {name}={value!r}: only the activations named in "
                            f"minivae.nn.ACTIVATIONS can be saved")
        return value.name
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, (np.ndarray, list, tuple)):
        return [jsonable(v, name) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v, name) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "get_config"):
        return jsonable(value.get_config(), name)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict(), name)
    raise TypeError(f"cannot save {name}={value!r}: a {type(value).__name__} has no JSON form")


def _model_classes():
    import minivae.models as models

    classes = {}
    for name in models.__all__:
        obj = getattr(models, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            classes[name] = obj
    return classes


def corrupt_file_error(path, why):
    return ValueError(f"{path} is not a valid minivae model file: {why}")


def load(path):
    """Load a model written by ``save``.

    The file is read with ``allow_pickle=False``: it can contain nothing but
    numeric arrays and a JSON header, and the header is checked before
    anything is allocated from it.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    TypeError
        If ``path`` is not a str or path-like.
    ValueError
        For anything else: not an ``.npz`` archive, no or a malformed header,
        an unknown class or constructor argument, parameters that are missing,
        misshapen, non-finite, complex or not numbers.
    """
    path, meta, arrays = read_model_file(path)
    if meta["class"] == "StackedAutoencoder":
        # Not a BaseModel (it trains stage by stage): it rebuilds itself from the
        # checked header. Imported here because stacked.py imports this module.
        from .stacked import StackedAutoencoder
        return StackedAutoencoder._from_arrays(path, meta, arrays)
    cls = _model_classes().get(meta["class"])
    if cls is None:
        raise corrupt_file_error(path, f"unknown model class {meta['class']!r}")
    valid = cls._param_names()
    unknown = sorted(set(meta["config"]) - set(valid))
    if unknown:
        raise corrupt_file_error(path, f"{cls.__name__} has no constructor argument(s) {unknown}")
    # JSON has no tuples: _config wrote tuple arguments (hidden_sizes) as lists.
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
    try:
        model = cls(**config)
        model._check_common()
        model._check_params()
        model._set_up()
        modules = model._make_modules(np.empty((1, meta["n_features_in"])))
        extra = model._extra_shapes(np.empty((1, meta["n_features_in"])))
    except (TypeError, ValueError) as exc:
        raise corrupt_file_error(path, f"its configuration is invalid ({exc})") from None
    expected = {f"{m}.{k}": s for m, mod in modules.items() for k, s in mod.shapes.items()}
    expected.update(extra)
    if sum(math.prod(s) for s in expected.values()) > MAX_PARAMETERS:
        raise corrupt_file_error(path, "its header describes an implausibly large network")
    for name, shape in expected.items():
        value = arrays.get(f"param/{name}")
        if value is None or value.shape != tuple(shape):
            raise corrupt_file_error(path, f"parameter {name} is missing or has the wrong shape")
        if value.dtype.kind != "f" or not np.isfinite(value).all():
            raise corrupt_file_error(path, f"parameter {name} must hold finite real numbers, "
                                 f"got dtype {value.dtype}")
    model._allocate(meta["n_features_in"], modules, extra)
    for name, view in model.params_.items():
        view[...] = arrays[f"param/{name}"]
    for name in cls._extra_state:
        if f"state/{name}" in arrays:
            setattr(model, name, arrays[f"state/{name}"])
        elif name in meta["state"]:
            setattr(model, name, meta["state"][name])
        else:
            raise corrupt_file_error(path, f"fitted state {name} is missing")
    model.history_ = meta["history"]
    model._after_load()
    return model


def read_model_file(path):
    """``(path, header, arrays)`` of a model file: the path checked, the header read and checked.

    Raises FileNotFoundError, TypeError or ValueError as :func:`load` does.
    """
    path = check_path(path, "path")
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    arrays = read_archive(path)
    return path, read_header(path, arrays.pop("__meta__", None)), arrays


def read_archive(path):
    """Every array of the ``.npz`` file ``path``, read without pickles, or a ValueError naming it."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise corrupt_file_error(path, "it is a single .npy array, not an .npz archive")
        with data:
            return {k: data[k] for k in data.files}
    except ValueError as exc:
        if "not a valid minivae" in str(exc):
            raise
        if "allow_pickle" in str(exc):
            # NumPy's advice to load with pickles enabled is the wrong advice here.
            raise corrupt_file_error(path, "NumPy cannot read it as an .npz archive") from None
        raise corrupt_file_error(path, f"{type(exc).__name__}: {exc}") from None
    except (OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise corrupt_file_error(path, f"{type(exc).__name__}: {exc}") from None


def read_header(path, raw):
    """The JSON header as a dict with every field checked, or a ValueError naming the fault."""
    if raw is None:
        raise corrupt_file_error(path, "it has no minivae header")
    try:
        meta = json.loads(str(raw))
    except (json.JSONDecodeError, TypeError) as exc:
        raise corrupt_file_error(path, f"its header is not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise corrupt_file_error(path, "it has no minivae header")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has model format version {meta.get('version')!r}; "
                         f"this minivae reads version {FORMAT_VERSION}")
    if not isinstance(meta.get("class"), str):
        raise corrupt_file_error(path, f"the class name must be a string, got {meta.get('class')!r}")
    if not isinstance(meta.get("config"), dict):
        raise corrupt_file_error(path, f"the configuration must be a JSON object, got {meta.get('config')!r}")
    n = meta.get("n_features_in")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= 10_000_000:
        raise corrupt_file_error(path, f"n_features_in must be an int in [1, 1e7], got {n!r}")
    meta.setdefault("state", {})
    meta.setdefault("history", {})
    if not isinstance(meta["state"], dict) or not isinstance(meta["history"], dict):
        raise corrupt_file_error(path, "its state and history must be JSON objects")
    return meta


def check_random_state_arg(random_state):
    """Check the *type* of a ``random_state`` argument without creating a Generator."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return
    check_random_state(random_state)
