"""The stacked autoencoder [F 1.3.4]: greedy layer-wise training, then end-to-end fine-tuning.

Stage k is a shallow :class:`~minivae.models.Autoencoder` h_{k-1} -> h_k -> ĥ_{k-1}
trained on the codes of stage k − 1 (h_0 = x). Stacking the stage encoders
gives a deep encoder, and the stage decoders in reverse order a deep decoder:

    f = f_K ∘ … ∘ f_1,    g = g_1 ∘ … ∘ g_K,    x̂ = g(f(x)).

Fine-tuning then backpropagates the reconstruction loss L(x, g(f(x))) through
the whole assembled network (Hinton & Salakhutdinov 2006). With
``activation="sigmoid"`` the assembled network has exactly the architecture of
``Autoencoder(n_latent=layer_sizes[-1], hidden_sizes=layer_sizes[:-1])``, so the
two training schemes can be compared on equal terms (tutorial 07).
"""

import json

import numpy as np

from .._atomic import write_atomic
from .._estimator import ParamsMixin
from .._validation import (
    check_array,
    check_hidden_sizes,
    check_is_fitted,
    check_path,
    check_positive,
    check_positive_int,
    check_random_state,
)
from ._base import (FORMAT_NAME, FORMAT_VERSION, MAX_BLOCK_ROWS, MAX_PARAMETERS, corrupt_file_error,
                    jsonable, read_model_file, row_blocks)
from ..losses import bernoulli_nll, gaussian_nll
from ..nn import Dense, FlatParameters, get_activation, sigmoid
from ..optim import Adam
from .autoencoder import Autoencoder

__all__ = ["StackedAutoencoder"]


class StackedAutoencoder(ParamsMixin):
    """Deep autoencoder trained greedily, one shallow autoencoder per layer, then fine-tuned ([F §1.3.4]).

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths of the successive codes h_1, …, h_K; the last is the code size
        (``n_latent``). ``(64, 16)`` trains 784 -> 64 -> 784, then 64 -> 16 -> 64.
    activation : str
        Activation of the intermediate codes h_1 … h_{K−1} (and of the decoder
        layers that reconstruct them).
    code_activation : str
        Activation of the last code h_K (``"identity"``: real-valued code).
    likelihood : {"gaussian", "bernoulli"}
        Reconstruction loss of the data: ½‖x − x̂‖² or the Bernoulli NLL of
        x ∈ [0, 1] (decoder output = logits). Stages k ≥ 2 reconstruct codes: with
        a sigmoid ``activation`` the codes lie in (0, 1) and the stage uses the
        Bernoulli NLL with a sigmoid output (Hinton & Salakhutdinov's logistic
        units), otherwise ½‖h − ĥ‖² with a linear output.
    pretrain_epochs : int
        Epochs of each greedy stage.
    finetune_epochs : int
        Epochs of end-to-end fine-tuning (0: greedy training only).
    lr, batch_size : float, int
        Adam learning rate and minibatch size, for the stages and the fine-tuning.
    random_state : None, int or numpy.random.Generator
        One seed drives every stage's initialisation and shuffling and the
        fine-tuning's shuffling.
    verbose : bool

    Attributes
    ----------
    stages_ : list of Autoencoder
        The fitted greedy stages, first (data level) to last.
    params_ : dict
        The assembled network: ``encoder.{k}.W``, ``encoder.{k}.b`` (stage k's
        encoder) and ``decoder.{j}.W``, ``decoder.{j}.b`` (decoder layer j, from the
        code outwards: ``decoder.0`` is stage K's decoder), float64 views into one buffer.
    history_ : dict
        ``"pretrain"``: per stage, its per-epoch loss list; ``"finetune"``: per-epoch
        mean loss of the fine-tuning, whose entry 0 is the loss of the greedy
        network on the whole training set before any fine-tuning step.
    n_features_in_ : int

    Notes
    -----
    The fine-tuned objective is (1/n) Σ_n L(x_n, g(f(x_n))) [F 1.1], the same as
    :class:`~minivae.models.Autoencoder`'s without penalties. Greedy training
    matters historically: it made deep sigmoid networks trainable before good
    initialisations and Adam (Bengio et al. 2007); tutorial 07 measures whether
    it still helps.

    Unlike the other models this is not a :class:`~minivae.models.BaseModel`
    and has no ``step``: its training is not one objective run by one loop but
    a sequence of separate optimisations, by design (greedy layer-wise
    training). Each greedy stage is an :class:`~minivae.models.Autoencoder`,
    trained by that model's own ``step`` and loop; the fine-tuning objective
    of the assembled network is :meth:`objective` (no random draws, so it
    needs no ``noise``), minimised by :meth:`finetune`.

    ``save`` writes the same kind of file as the other models (an ``.npz``
    with a JSON header, written atomically), holding the assembled network
    and every stage; read it back with :meth:`StackedAutoencoder.load` or
    :func:`minivae.load`.

    References
    ----------
    Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the dimensionality of data
    with neural networks. Science 313, 504-507.
    Bengio, Y., Lamblin, P., Popovici, D. & Larochelle, H. (2007). Greedy layer-wise
    training of deep networks. NIPS.
    """

    def __init__(self, layer_sizes=(64, 16), activation="sigmoid", code_activation="identity",
                 likelihood="gaussian", pretrain_epochs=20, finetune_epochs=20, lr=1e-3,
                 batch_size=100, random_state=None, verbose=False):
        self.layer_sizes = layer_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.likelihood = likelihood
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        self._sizes = check_hidden_sizes(self.layer_sizes, "layer_sizes")
        if not self._sizes:
            raise ValueError("layer_sizes must name at least one code layer, got ()")
        get_activation(self.activation)
        get_activation(self.code_activation, "code_activation")
        if self.likelihood not in ("gaussian", "bernoulli"):
            raise ValueError(f"likelihood must be 'gaussian' or 'bernoulli', got {self.likelihood!r}")
        check_positive_int(self.pretrain_epochs, "pretrain_epochs", minimum=0)
        check_positive_int(self.finetune_epochs, "finetune_epochs", minimum=0)
        check_positive(self.lr, "lr")
        check_positive_int(self.batch_size, "batch_size")

    @property
    def n_latent(self):
        """Width of the last code, h_K."""
        sizes = check_hidden_sizes(self.layer_sizes, "layer_sizes")
        if not sizes:
            raise ValueError("layer_sizes must name at least one code layer, got ()")
        return sizes[-1]

    def _stage_likelihood(self, k):
        if k == 0:
            return self.likelihood
        return "bernoulli" if self.activation == "sigmoid" else "gaussian"

    def _stage(self, k, seed):
        """The shallow autoencoder of greedy stage k (0-based)."""
        last = k == len(self._sizes) - 1
        return Autoencoder(n_latent=self._sizes[k], hidden_sizes=(), activation=self.activation,
                           code_activation=self.code_activation if last else self.activation,
                           likelihood=self._stage_likelihood(k), lr=self.lr,
                           batch_size=self.batch_size, n_epochs=self.pretrain_epochs,
                           random_state=seed, verbose=self.verbose)

    def _assemble(self, n_features):
        """Dense layers of the deep network and one flat parameter buffer for them."""
        widths = [n_features, *self._sizes]
        K = len(self._sizes)
        self.encoder_ = [Dense(widths[k], widths[k + 1],
                               self.code_activation if k == K - 1 else self.activation)
                         for k in range(K)]
        # Decoder layer j undoes stage K−1−j; its output map is that stage's:
        # the data level gives logits / means (identity), higher levels σ or identity.
        self.decoder_ = []
        for j in range(K):
            k = K - 1 - j
            out = "sigmoid" if k > 0 and self._stage_likelihood(k) == "bernoulli" else "identity"
            self.decoder_.append(Dense(widths[k + 1], widths[k], out))
        shapes = {}
        for part, layers in (("encoder", self.encoder_), ("decoder", self.decoder_)):
            for i, layer in enumerate(layers):
                for name, shape in layer.shapes.items():
                    shapes[f"{part}.{i}.{name}"] = shape
        self._flat = FlatParameters(shapes, dtype=np.float64)
        self.params_ = self._flat.params
        self._grads = {}
        for part, layers in (("encoder", self.encoder_), ("decoder", self.decoder_)):
            for i, layer in enumerate(layers):
                prefix = f"{part}.{i}."
                layer.bind({n: self._flat.params[prefix + n] for n in layer.shapes})
                self._grads[(part, i)] = {n: self._flat.grads[prefix + n] for n in layer.shapes}

    # ------------------------------------------------------------------ training
    def fit(self, X, y=None):
        """Greedy layer-wise training of every stage, then ``finetune_epochs`` of fine-tuning.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            In [0, 1] for ``likelihood="bernoulli"``.

        Returns
        -------
        self
        """
        self._check_params()
        X = check_array(X)
        rng = check_random_state(self.random_state)
        self.n_features_in_ = X.shape[1]
        # Seeds are drawn first, so the stages do not depend on finetune_epochs.
        seeds = [int(s) for s in rng.integers(0, 2**63 - 1, size=len(self._sizes) + 1)]
        self.stages_ = []
        H = X
        for k, seed in enumerate(seeds[:-1]):
            stage = self._stage(k, seed).fit(H)
            self.stages_.append(stage)
            H = stage.transform(H)
        self._assemble(X.shape[1])
        # save() writes the arguments the network was built with, even after set_params.
        self._fitted_params = self.get_params()
        self._copy_stage_weights()
        self.history_ = {"pretrain": [list(s.history_["loss"]) for s in self.stages_],
                         "finetune": [self._mean_loss(X)]}
        return self.finetune(X, self.finetune_epochs, random_state=seeds[-1])

    def _copy_stage_weights(self):
        K = len(self.stages_)
        for k, stage in enumerate(self.stages_):
            for name in ("W", "b"):
                self.params_[f"encoder.{k}.{name}"][...] = stage.params_[f"encoder.0.{name}"]
                self.params_[f"decoder.{K - 1 - k}.{name}"][...] = stage.params_[f"decoder.0.{name}"]

    def finetune(self, X, n_epochs, random_state=None):
        """Train the assembled network end to end by minibatch Adam for ``n_epochs`` more epochs.

        Appends each epoch's mean loss to ``history_["finetune"]``; returns self.
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        n_epochs = check_positive_int(n_epochs, "n_epochs", minimum=0)
        rng = check_random_state(random_state)
        optimizer = Adam(lr=self.lr)
        params, grads = {"theta": self._flat.theta}, {"theta": self._flat.grad}
        n = X.shape[0]
        batch_size = min(self.batch_size, n)
        for _ in range(n_epochs):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                xb = X[order[start:start + batch_size]]
                self._flat.grad.fill(0.0)
                loss = self._loss_and_grad(xb)
                optimizer.step(params, grads)
                total += loss * xb.shape[0] / n
            self.history_["finetune"].append(total)
            if self.verbose:
                print(f"[StackedAutoencoder] fine-tune loss {total:.4f}")
        return self

    def _loss_and_grad(self, X):
        """Batch-mean reconstruction loss; adds its gradient into the flat gradient buffer.

        Forward x -> f(x) -> g(f(x)) layer by layer, then the chain rule back
        through the decoder layers and the encoder layers in reverse order
        ((1.36-1.37) per layer).
        """
        n = X.shape[0]
        h, caches = X, []
        for layer in (*self.encoder_, *self.decoder_):
            h, cache = layer.forward(h)
            caches.append(cache)
        rec, d_out = self._reconstruction(X, h)
        d = d_out / n                                  # the only 1/n: loss = (1/n) Σ_n rec_n
        layers = [("encoder", i, L) for i, L in enumerate(self.encoder_)] + \
                 [("decoder", j, L) for j, L in enumerate(self.decoder_)]
        for idx in range(len(layers) - 1, -1, -1):
            part, i, layer = layers[idx]
            d, _ = layer.backward(d, caches[idx], self._grads[(part, i)], need_dx=idx > 0)
        return float(rec.sum() / n)

    def _reconstruction(self, X, out):
        if self.likelihood == "gaussian":
            return gaussian_nll(X, out)
        return bernoulli_nll(X, out)

    def objective(self, X, noise=None):
        """The fine-tuning loss (1/n) Σ_n L(x_n, g(f(x_n))) and its gradient keyed like ``params_``.

        ``noise`` is accepted for symmetry with the other models and must be None.
        Use with :func:`minivae.gradcheck.check_gradients`.
        """
        check_is_fitted(self)
        if noise is not None:
            raise ValueError(f"StackedAutoencoder draws no noise; noise must be None, got {noise!r}")
        X = self._validate_X(X)
        self._flat.grad.fill(0.0)
        loss = self._loss_and_grad(X)
        return loss, {k: v.copy() for k, v in self._flat.grads.items()}

    def _mean_loss(self, X):
        return float(np.mean(self._reconstruction(X, self._forward_out(X))[0]))

    # ------------------------------------------------------------------ inference
    def _validate_X(self, X):
        check_is_fitted(self)
        return check_array(X, n_features=self.n_features_in_, estimator=type(self).__name__)

    def _forward_out(self, X):
        h = X
        for layer in (*self.encoder_, *self.decoder_):
            h = layer.forward(h)[0]
        return h

    def stage_inputs(self, X):
        """The input of every greedy stage for X: [x, h_1, …, h_{K−1}] (through the stages' encoders)."""
        X = self._validate_X(X)
        out = [X]
        for stage in self.stages_[:-1]:
            out.append(stage.transform(out[-1]))
        return out

    def transform(self, X):
        """The code h_K = f(x) of each row, shape (n_samples, n_latent)."""
        h = self._validate_X(X)
        for layer in self.encoder_:
            h = layer.forward(h)[0]
        return h

    def inverse_transform(self, H):
        """Decode codes H (n_samples, n_latent) to data space (σ applied for a Bernoulli decoder)."""
        check_is_fitted(self)
        h = check_array(H, name="H", n_features=self._sizes[-1],
                        estimator=f"{type(self).__name__}'s code layer")
        for layer in self.decoder_:
            h = layer.forward(h)[0]
        return sigmoid(h) if self.likelihood == "bernoulli" else h

    def reconstruct(self, X):
        """g(f(x)) for each row of X."""
        return self.inverse_transform(self.transform(X))

    def score_samples(self, X):
        """Minus the per-sample reconstruction loss: higher means more typical; (n_samples,), float64.

        The network runs on padded blocks of a fixed number of rows, as the
        other models' scores do, so a row's score is bit-identical alone or in
        a batch (float64 models).
        """
        X = self._validate_X(X)
        out = np.empty(X.shape[0], dtype=np.float64)
        for rows, xb in row_blocks(X, MAX_BLOCK_ROWS):
            out[rows] = -self._reconstruction(xb, self._forward_out(xb))[0][:rows.stop - rows.start]
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the fitted model to ``path`` (an ``.npz`` file), atomically.

        The file holds the assembled network (``param/encoder.0.W``, ...), every
        greedy stage's parameters (``stage/{k}/param/...``), and a JSON header
        in the format of the other models (format name and version, class,
        the constructor arguments the model was fitted with, ``n_features_in``,
        ``history_``, and each stage's seed and loss history). It is written to
        a temporary file beside ``path`` and renamed over it
        (:func:`minivae._atomic.write_atomic`), so a crash never leaves a torn
        file. Read it with :meth:`StackedAutoencoder.load` (no pickles).

        Returns
        -------
        pathlib.Path

        Raises
        ------
        NotFittedError
            If the model is not fitted (a ValueError).
        TypeError
            If ``path`` is not a str or path-like.
        FileNotFoundError
            If the directory of ``path`` does not exist.
        ValueError
            If the model's parameters are not finite.
        """
        check_is_fitted(self)
        path = check_path(path, "path")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot save to {path}: no directory {path.parent}")
        arrays = {f"param/{k}": np.asarray(v) for k, v in self.params_.items()}
        stages = []
        for k, stage in enumerate(self.stages_):
            for name, value in stage.params_.items():
                arrays[f"stage/{k}/param/{name}"] = np.asarray(value)
            stages.append({"random_state": jsonable(stage.random_state, "random_state"),
                           "history": jsonable(stage.history_, "history")})
        bad = [k for k, v in arrays.items() if not np.isfinite(v).all()]
        if bad:
            raise ValueError(f"refusing to save a StackedAutoencoder with non-finite parameters "
                             f"({bad[0]})")
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "config": {k: jsonable(v, k) for k, v in self._fitted_params.items()},
            "n_features_in": self.n_features_in_,
            "history": jsonable(self.history_, "history"),
            "state": {"stages": stages},
        }
        arrays["__meta__"] = np.array(json.dumps(meta))
        write_atomic(path, lambda fh: np.savez(fh, **arrays))
        return path

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`; its predictions are bit-identical to the saved model's.

        The file is read with ``allow_pickle=False`` and its header checked
        before anything is allocated from it; every array is checked for
        shape and finiteness. Fine-tuning can continue (:meth:`finetune`).

        Returns
        -------
        StackedAutoencoder

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        TypeError
            If ``path`` is not a str or path-like.
        ValueError
            For anything else: not an ``.npz`` archive, no or a malformed header,
            a file of another model class (load it with :func:`minivae.load`), an
            unknown or invalid constructor argument, parameters that are missing,
            misshapen, non-finite or not real numbers, a malformed history.
        """
        path, meta, arrays = read_model_file(path)
        if meta["class"] != cls.__name__:
            raise corrupt_file_error(path, f"it holds a model of class {meta['class']}, not a "
                                           f"{cls.__name__}; load it with minivae.load")
        return cls._from_arrays(path, meta, arrays)

    @classmethod
    def _from_arrays(cls, path, meta, arrays):
        """The model described by a checked header ``meta`` and the file's ``arrays``."""
        unknown = sorted(set(meta["config"]) - set(cls._param_names()))
        if unknown:
            raise corrupt_file_error(path, f"{cls.__name__} has no constructor argument(s) {unknown}")
        # JSON has no tuples: layer_sizes was written as a list.
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        n_features = meta["n_features_in"]
        try:
            model = cls(**config)
            model._check_params()
        except (TypeError, ValueError) as exc:
            raise corrupt_file_error(path, f"its configuration is invalid ({exc})") from None
        widths = [n_features, *model._sizes]
        # both the assembled network and the stages: 2 × (W and b of every layer, both ways)
        n_params = 2 * sum(2 * a * b + a + b for a, b in zip(widths[:-1], widths[1:]))
        if n_params > MAX_PARAMETERS:
            raise corrupt_file_error(path, "its header describes an implausibly large network")
        history, stage_info = meta["history"], meta["state"].get("stages")
        K = len(model._sizes)
        if not (isinstance(stage_info, list) and len(stage_info) == K
                and all(isinstance(s, dict) and isinstance(s.get("history"), dict) for s in stage_info)):
            raise corrupt_file_error(path, f"it must describe {K} greedy stages (seed and history each)")
        if not (isinstance(history.get("finetune"), list) and isinstance(history.get("pretrain"), list)
                and len(history["pretrain"]) == K):
            raise corrupt_file_error(path, "its history must hold 'pretrain' (one list per stage) and "
                                 "'finetune' lists")

        def fill(params, prefix):
            for name, view in params.items():
                value = arrays.get(prefix + name)
                if value is None or value.shape != view.shape:
                    raise corrupt_file_error(path, f"parameter {prefix + name} is missing or has the wrong "
                                         f"shape (expected {view.shape})")
                if value.dtype.kind != "f" or not np.isfinite(value).all():
                    raise corrupt_file_error(path, f"parameter {prefix + name} must hold finite real "
                                         f"numbers, got dtype {value.dtype}")
                view[...] = value

        model.stages_ = []
        for k, info in enumerate(stage_info):
            seed = info.get("random_state")
            try:
                stage = model._stage(k, seed)
                stage._build(np.zeros((1, widths[k])))     # zero weights, filled just below
            except (TypeError, ValueError) as exc:
                raise corrupt_file_error(path, f"stage {k} is invalid ({exc})") from None
            fill(stage.params_, f"stage/{k}/param/")
            stage.history_ = info["history"]
            model.stages_.append(stage)
        model.n_features_in_ = n_features
        model._assemble(n_features)
        fill(model.params_, "param/")
        model._fitted_params = model.get_params()
        model.history_ = history
        return model
