"""scikit-learn style parameter access, shared by every estimator class.

``__init__`` only stores its arguments under their own names; ``get_params``
reads them back through the signature, so an estimator can be cloned, printed
and used in a scikit-learn Pipeline without minivae depending on scikit-learn.

What scikit-learn (>= 1.6) asks of an estimator, and where it is met:

* ``get_params(deep)`` / ``set_params(**params)``, nested ``"step__param"`` names
  included — here, from the constructor's signature; ``sklearn.base.clone``
  then rebuilds an unfitted copy (it also checks that ``__init__`` stored every
  argument unchanged, which is each estimator's duty);
* ``__sklearn_tags__()`` — here; it imports scikit-learn only when
  scikit-learn itself calls it. A class says what it is with two class
  attributes: ``_estimator_type`` (None, ``"regressor"``, ...) and
  ``_requires_y`` (``fit`` needs a target);
* ``__sklearn_is_fitted__()`` — here: fitted once an attribute ending in ``_`` is set;
* ``fit(X, y=None)`` returning ``self``, and ``transform`` / ``score_samples``
  — each estimator's own.
"""

import inspect

from ._validation import check_flag

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """``get_params`` / ``set_params`` / ``repr`` / scikit-learn tags from the constructor's signature.

    Attributes
    ----------
    _estimator_type : str or None
        scikit-learn's estimator type (``"regressor"``, ``"classifier"``,
        ``"clusterer"``, ``"density_estimator"``) or None.
    _requires_y : bool
        Whether ``fit`` needs a target ``y``.
    """

    _estimator_type = None
    _requires_y = False

    @classmethod
    def _param_names(cls):
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep=True):
        """Constructor arguments as a dict (scikit-learn convention).

        With ``deep=True`` the parameters of arguments that are estimators
        themselves (they have ``get_params``) are added as ``"arg__param"``.
        """
        deep = check_flag(deep, "deep")
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params):
        """Set constructor arguments (``"arg__param"`` sets a nested one); returns self.

        Raises
        ------
        ValueError
            For a name that is not a constructor argument.
        """
        valid = self._param_names()
        nested = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid: {valid}")
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __sklearn_tags__(self):
        """Tags for scikit-learn >= 1.6 (imported here, so minivae never needs scikit-learn)."""
        from sklearn.utils import RegressorTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=self._requires_y),
            transformer_tags=TransformerTags() if hasattr(self, "transform") else None,
            regressor_tags=RegressorTags() if self._estimator_type == "regressor" else None,
        )

    def __sklearn_is_fitted__(self):
        """True once ``fit`` has set a learned attribute (a name ending in ``_``)."""
        return any(k.endswith("_") and not k.startswith("__") and v is not None
                   for k, v in vars(self).items())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"
