"""Wekinator's neural-network and linear models behind gesturemap's model API: the MLP
(classifier or regressor), and linear and polynomial regression. scikit-learn trains them; their
weights are kept as plain arrays (saved as ``.npz``) and evaluated by numba kernels at run time.
See :mod:`gesturemap.models.classic.core` for what every classic model shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import bad_param, check_choice, check_float, check_size, register_model
from . import _kernels as _k
from .core import RANDOM_STATE, ClassicModel, Evaluator, _get


@register_model
class MLP(ClassicModel):
    """Multi-layer perceptron (Wekinator's neural network): classifier, or regressor on
    bimodal data (scikit-learn's MLPClassifier / MLPRegressor, Adam).

    Parameters
    ----------
    hidden : units in each hidden layer (at most 2,048).
    layers : hidden layers (at most 10).
    activation : of the hidden units: ``"relu"``, ``"tanh"``, ``"logistic"`` or
        ``"identity"``.
    alpha : L2 penalty.
    learning_rate : Adam's initial step size.
    max_iter : training epochs at most.
    standardize : scale inputs (and a regressor's outputs) to zero mean and unit variance
        first; a network trains badly on raw sensor ranges.
    max_frames, likelihood_window, decision : as for :class:`KNN`.
    """

    kind = "mlp"
    can_regress = True

    def __init__(self, hidden: int = 16, *, layers: int = 1, activation: str = "relu",
                 alpha: float = 1e-4, learning_rate: float = 1e-3, max_iter: int = 200,
                 standardize: bool = True, max_frames: int = 20000,
                 likelihood_window: int = 5, decision: str = "cumulative") -> None:
        self.hidden = hidden
        self.layers = layers
        self.activation = activation
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_size("hidden", self.hidden)
        check_size("layers", self.layers)
        check_choice("activation", self.activation, _k.ACTIVATIONS)
        check_float("alpha", self.alpha)
        check_float("learning_rate", self.learning_rate, 0.0, strict=True)
        check_size("max_iter", self.max_iter, limit="iterations")

    def _options(self) -> dict[str, Any]:
        return {"hidden_layer_sizes": (int(self.hidden),) * int(self.layers),
                "activation": self.activation, "alpha": float(self.alpha),
                "learning_rate_init": float(self.learning_rate),
                "max_iter": int(self.max_iter), "random_state": RANDOM_STATE}

    @staticmethod
    def _network(net: Any) -> dict[str, np.ndarray]:
        sizes = [net.coefs_[0].shape[0]] + [w.shape[1] for w in net.coefs_]
        return {"sizes": np.array(sizes, dtype=np.int64),
                "weights": np.concatenate([w.ravel() for w in net.coefs_]),
                "biases": np.concatenate(net.intercepts_)}

    def _fit_classifier(self, z, y, n_classes):
        from sklearn.neural_network import MLPClassifier

        return self._network(MLPClassifier(**self._options()).fit(z, y))

    def _fit_regressor(self, z, outputs):
        from sklearn.neural_network import MLPRegressor

        mean, scale = outputs.mean(axis=0), outputs.std(axis=0)
        if not self.standardize:
            mean, scale = np.zeros_like(mean), np.ones_like(scale)
        scale = np.where(scale > 0, scale, 1.0)
        net = MLPRegressor(**self._options()).fit(z, (outputs - mean) / scale)
        return {**self._network(net), "out_mean": mean, "out_scale": scale}

    def _evaluator(self) -> Evaluator:
        a = self.arrays_
        sizes, weights, biases = a["sizes"], a["weights"], a["biases"]
        hidden = _k.ACTIVATIONS.index(self.activation)
        buf_a, buf_b = np.zeros(sizes.max()), np.zeros(sizes.max())
        if self.output_dim_:
            mean, scale = a["out_mean"], a["out_scale"]

            def regress(z: np.ndarray, out: np.ndarray) -> None:
                _k.mlp_forward(z, sizes, weights, biases, hidden, _k.OUT_IDENTITY, buf_a,
                               buf_b, out)
                out *= scale
                out += mean

            return regress
        act = _k.OUT_LOGISTIC if len(self.labels_) == 2 else _k.OUT_SOFTMAX
        return lambda z, out: _k.mlp_forward(z, sizes, weights, biases, hidden, act, buf_a,
                                             buf_b, out)

    def _check_arrays(self, arrays):
        sizes = _get(arrays, "sizes", (int(self.layers) + 2,), integer=True)
        n_out = self.output_dim_ or (1 if len(self.labels_) == 2 else len(self.labels_))
        if sizes[0] != self.input_dim_ or sizes[-1] != n_out or (sizes < 1).any():
            raise ValueError(f"network sizes {sizes.tolist()} do not match the model")
        out = {"sizes": sizes,
               "weights": _get(arrays, "weights", (int((sizes[:-1] * sizes[1:]).sum()),)),
               "biases": _get(arrays, "biases", (int(sizes[1:].sum()),))}
        if self.output_dim_:
            out["out_mean"] = _get(arrays, "out_mean", (self.output_dim_,))
            out["out_scale"] = _get(arrays, "out_scale", (self.output_dim_,))
        return out


@register_model
class Polynomial(ClassicModel):
    """Polynomial regression (Wekinator's polynomial regression): least squares (ridge when
    ``alpha > 0``) on every product of inputs up to ``degree``. Regression only.

    Parameters
    ----------
    degree : highest power (1 = linear regression).
    alpha : ridge penalty (0 = ordinary least squares).
    standardize : scale inputs first (keeps high powers well conditioned).
    max_frames, likelihood_window, decision : as for :class:`KNN`.
    """

    kind = "polynomial"
    can_classify = False
    can_regress = True
    #: More features than this is almost surely a mistake (and slow at every frame).
    MAX_FEATURES = 5000

    def __init__(self, degree: int = 2, *, alpha: float = 0.0, standardize: bool = True,
                 max_frames: int = 0, likelihood_window: int = 5,
                 decision: str = "cumulative") -> None:
        self.degree = degree
        self.alpha = alpha
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    def _check_params(self) -> None:
        check_size("degree", self.degree)
        check_float("alpha", self.alpha)

    def _fit_regressor(self, z, outputs):
        from sklearn.linear_model import LinearRegression, Ridge
        from sklearn.preprocessing import PolynomialFeatures

        poly = PolynomialFeatures(int(self.degree), include_bias=False).fit(z[:1])
        if poly.n_output_features_ > self.MAX_FEATURES:
            raise bad_param("degree", self.degree,
                            f"at most {self.MAX_FEATURES} products of the {z.shape[1]} inputs",
                            "Lower the degree or select fewer inputs.")
        feats = poly.transform(z)
        reg = Ridge(alpha=float(self.alpha)) if self.alpha > 0 else LinearRegression()
        reg.fit(feats, outputs)
        return {"powers": poly.powers_.astype(np.int64),
                "coef": np.ascontiguousarray(reg.coef_, dtype=np.float64),
                "intercept": np.ascontiguousarray(reg.intercept_, dtype=np.float64)}

    def _evaluator(self) -> Evaluator:
        a = self.arrays_
        powers, coef, icpt = a["powers"], a["coef"], a["intercept"]
        feats = np.zeros(len(powers))
        return lambda z, out: _k.polynomial_regress(z, powers, coef, icpt, feats, out)

    def _check_arrays(self, arrays):
        powers = _get(arrays, "powers", (None, self.input_dim_), integer=True)
        # each power bounded before the row sums: powers of 2**62 summed past int64 to a
        # negative total, passed, and the kernel's multiplication loop then never ended
        if ((powers < 0).any() or (powers > int(self.degree)).any()
                or (powers.sum(axis=1) > int(self.degree)).any()):
            raise ValueError("array 'powers' does not match the degree")
        if len(powers) > self.MAX_FEATURES:
            raise ValueError(f"array 'powers' has {len(powers)} rows, more than the "
                             f"{self.MAX_FEATURES} products a fit keeps")
        return {"powers": powers,
                "coef": _get(arrays, "coef", (self.output_dim_, len(powers))),
                "intercept": _get(arrays, "intercept", (self.output_dim_,))}


@register_model
class Linear(Polynomial):
    """Linear regression (Wekinator's linear regression): least squares, ridge when
    ``alpha > 0``. Regression only.

    Parameters
    ----------
    alpha : ridge penalty (0 = ordinary least squares).
    standardize, max_frames, likelihood_window, decision : as for :class:`Polynomial` (the fit does
        not depend on standardisation; off by default).
    """

    kind = "linear"

    def __init__(self, *, alpha: float = 0.0, standardize: bool = False, max_frames: int = 0,
                 likelihood_window: int = 5, decision: str = "cumulative") -> None:
        self.alpha = alpha
        self.standardize = standardize
        self.max_frames = max_frames
        self.likelihood_window = likelihood_window
        self.decision = decision

    #: A class attribute, not a parameter: linear regression is degree 1.
    degree = 1
