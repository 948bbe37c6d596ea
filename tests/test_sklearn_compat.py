"""scikit-learn compatibility with no dependency on it (issue 9, item 16).

The ``ParamsMixin`` tests run everywhere; the Pipeline, ``clone`` and tags
tests run where scikit-learn (>= 1.6, the optional ``compat`` extra) is
installed and are skipped otherwise.
"""

import inspect

import numpy as np
import pytest

import minivae.models
from minivae._estimator import ParamsMixin
from minivae.bayes import BayesianLinearRegression

# Every public model class (BaseModel is the abstract loop, not an estimator).
MODELS = [cls for name in minivae.models.__all__
          if inspect.isclass(cls := getattr(minivae.models, name))
          and issubclass(cls, ParamsMixin) and not name.startswith("Base")]
SMALL = dict(n_latent=2, hidden_sizes=(4,), n_epochs=2, batch_size=16, random_state=0,
             layer_sizes=(4, 2), pretrain_epochs=2, finetune_epochs=1)
# The argument that sets the training length, by class.
EPOCHS = {"StackedAutoencoder": "finetune_epochs"}


def _small(cls):
    """A small, fast instance: only the SMALL arguments that ``cls`` takes."""
    names = cls._param_names()
    return cls(**{k: v for k, v in SMALL.items() if k in names})


def _sklearn():
    sklearn = pytest.importorskip("sklearn")
    major, minor = (int(p) for p in sklearn.__version__.split(".")[:2])
    if (major, minor) < (1, 6):
        pytest.skip("the tags API needs scikit-learn >= 1.6")
    return sklearn


X = np.random.default_rng(0).normal(size=(40, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]


# ---------------------------------------------------------------------- without scikit-learn
def test_the_sweep_finds_the_models():
    assert {"Autoencoder", "VAE", "WAE"} <= {cls.__name__ for cls in MODELS}


class _Inner(ParamsMixin):
    def __init__(self, a=1, b=2):
        self.a, self.b = a, b


class _Outer(ParamsMixin):
    def __init__(self, inner=None, c=3):
        self.inner, self.c = inner, c


def test_params_mixin_nested_get_and_set_params():
    outer = _Outer(_Inner(), c=4)
    assert outer.get_params(deep=False) == {"inner": outer.inner, "c": 4}
    deep = outer.get_params()
    assert deep["inner__a"] == 1 and deep["inner__b"] == 2 and deep["c"] == 4
    assert outer.set_params(inner__a=10, c=5) is outer
    assert outer.inner.a == 10 and outer.c == 5
    with pytest.raises(ValueError, match=r"_Outer has no parameter 'd'; valid: \['inner', 'c'\]"):
        outer.set_params(d=1)
    with pytest.raises(ValueError, match="_Inner has no parameter 'z'"):
        outer.set_params(inner__z=1)
    assert repr(outer) == "_Outer(inner=_Inner(a=10, b=2), c=5)"


def test_params_mixin_is_fitted_after_a_trailing_underscore_attribute():
    est = _Inner()
    assert not est.__sklearn_is_fitted__()
    est.coef_ = None                       # declared but not learned
    assert not est.__sklearn_is_fitted__()
    est.coef_ = np.ones(2)
    assert est.__sklearn_is_fitted__()


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_models_get_params_round_trip_and_fit_returns_self(cls):
    model = _small(cls)
    params = model.get_params()
    assert set(params) == set(cls._param_names())
    twin = cls(**model.get_params(deep=False))
    assert twin.get_params(deep=False) == model.get_params(deep=False)
    epochs = EPOCHS.get(cls.__name__, "n_epochs")
    assert model.set_params(**{epochs: 1}) is model and getattr(model, epochs) == 1
    assert model.fit(X) is model
    assert model.__sklearn_is_fitted__()
    assert not _small(cls).__sklearn_is_fitted__()


# ---------------------------------------------------------------------- with scikit-learn
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_pipeline_with_a_scaler(cls):
    _sklearn()
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), _small(cls))
    assert pipe.fit(X) is pipe
    Z = pipe.transform(X)
    assert Z.shape == (40, 2) and np.isfinite(Z).all()
    # The pipeline's output is the model's output on the scaled data.
    scaled = StandardScaler().fit_transform(X)
    np.testing.assert_array_equal(Z, _small(cls).fit(scaled).transform(scaled))
    if hasattr(cls, "score_samples"):
        assert pipe.score_samples(X).shape == (40,)
    # Parameters of a step are reachable by name, as GridSearchCV sets them.
    step, epochs = pipe.steps[-1][0], EPOCHS.get(cls.__name__, "n_epochs")
    pipe.set_params(**{f"{step}__{epochs}": 3})
    assert getattr(pipe[-1], epochs) == 3


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_clone_gives_an_unfitted_equal_copy(cls):
    _sklearn()
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    model = _small(cls).fit(X)
    check_is_fitted(model)
    copy = clone(model)
    assert type(copy) is cls and copy is not model
    assert copy.get_params(deep=False) == model.get_params(deep=False)
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)


@pytest.mark.parametrize("est", [*(_small(cls) for cls in MODELS), BayesianLinearRegression()],
                         ids=lambda e: type(e).__name__)
def test_tags(est):
    _sklearn()
    from sklearn.utils import get_tags

    tags = get_tags(est)
    assert tags.requires_fit
    assert tags.target_tags.required is est._requires_y
    assert (tags.transformer_tags is not None) is hasattr(est, "transform")
