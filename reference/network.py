"""A network is a chain of layers ending in a loss; its gradient is the chain rule run backwards.

    net = sigmoid_mse(3, 4, 1)                       # D=3 inputs, H=4 hidden, K=1 output
    params = net.init(np.random.default_rng(0))      # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)   # grads: the keys of params plus "x"

`net.spec` describes the network as plain data (layer kinds, which params each layer uses,
options such as the layout) so that an independent checker can build the same network with
its own framework's ops without touching any of the math here.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import validate
from .layers import LAYOUTS, Dense, Sigmoid
from .losses import MSE, REDUCTIONS, SoftmaxCrossEntropy


class Step(NamedTuple):
    """One layer as plain data: its kind, its (local name, params key) pairs and its options."""

    kind: str
    params: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, object], ...] = ()


class Spec(NamedTuple):
    """A whole network as plain, hashable data."""

    layers: tuple[Step, ...]
    loss: Step


class Network:
    """Layers applied in order, then a loss. Each layer gets its parameters under global keys (W1, b1, ...)."""

    def __init__(self, name: str, sizes: tuple[int, ...], layers, loss, layout: str):
        self.name = name
        self.sizes = sizes
        self.layout = layout
        self.reduction = loss.reduction
        self.layers = tuple(layers)  # (layer, {local name: params key}) pairs
        self.loss_layer = loss
        self.param_shapes = {key: layer.param_shapes[local] for layer, keys in self.layers for local, key in keys.items()}
        self.spec = Spec(
            layers=tuple(Step(layer.kind, tuple(keys.items()), tuple(layer.options.items())) for layer, keys in self.layers),
            loss=Step(loss.kind, (), tuple(loss.options.items())),
        )

    def __repr__(self):
        sizes = ", ".join(map(str, self.sizes))
        return f"reference.{self.name}({sizes}, layout={self.layout!r}, reduction={self.reduction!r})"

    def init(self, rng, dtype=np.float64) -> dict[str, np.ndarray]:
        """Glorot-uniform weights, zero biases, in float64 or float32."""
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            rng = np.random.default_rng(validate.size("rng (a seed)", rng, minimum=0))
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)) or a seed, "
                            f"got {type(rng).__name__}")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if dtype not in validate.FLOAT_DTYPES:
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        params = {}
        for key, shape in self.param_shapes.items():
            if len(shape) == 2:
                limit = np.sqrt(6.0 / sum(shape))
                params[key] = rng.uniform(-limit, limit, size=shape).astype(dtype)
            else:
                params[key] = np.zeros(shape, dtype=dtype)
        return params

    def _inputs(self, params, x):
        params, dtype = validate.params(params, self.param_shapes, f"layout={self.layout!r}, sizes={self.sizes}")
        return params, validate.features(x, self.sizes[0], dtype)

    def _forward(self, params, x):
        h, caches = x, []
        for layer, keys in self.layers:
            h, cache = layer.forward({local: params[key] for local, key in keys.items()}, h)
            caches.append(cache)
        return h, caches

    def predict(self, params, x) -> np.ndarray:
        """The network's output ŷ: (N, K) for a batch, (K,) for one example; softmax probabilities for softmax."""
        params, x = self._inputs(params, x)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            out, _ = self._forward(params, np.atleast_2d(x))
            yhat = self.loss_layer.predict(out)
        _refuse_overflow([yhat], params, x)
        return yhat if x.ndim == 2 else yhat[0]

    def loss_and_grads(self, params, x, y) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and its gradient with respect to every parameter and to x, in the params' dtype."""
        params, x = self._inputs(params, x)
        y = self.loss_layer.targets(y, x, self.sizes[-1])
        single = x.ndim == 1
        # Overflow is reported below, as an error about the inputs, rather than as a warning and a NaN.
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            out, caches = self._forward(params, np.atleast_2d(x))
            loss, loss_cache = self.loss_layer.forward(out, np.atleast_2d(y))
            delta, _ = self.loss_layer.backward(loss_cache, 1.0)
            grads = {}
            for (layer, keys), cache in zip(reversed(self.layers), reversed(caches), strict=True):
                delta, layer_grads = layer.backward(cache, delta)
                grads.update({key: layer_grads[local] for local, key in keys.items()})
        grads = {key: grads[key] for key in self.param_shapes}
        grads["x"] = delta[0] if single else delta
        _refuse_overflow([loss, *grads.values()], params, x)
        return float(loss), grads


def _refuse_overflow(results, params, x) -> None:
    """Finite inputs so large that the arithmetic left the dtype's range: an error, not a NaN."""
    if not all(np.all(np.isfinite(r)) for r in results):
        largest = max(float(np.max(np.abs(a))) for a in (x, *params.values()))
        raise ValueError(f"the result overflowed {x.dtype}: params and x (largest |value| {largest:.3g}) "
                         f"are too large for this dtype")


def _one_hidden_layer(name, d, h, k, output_layers, loss_cls, layout, reduction, min_k=1):
    d, h = validate.size("D (inputs)", d), validate.size("H (hidden units)", h)
    k = validate.size("K (outputs)" if min_k == 1 else "K (classes, softmax needs at least 2)", k, minimum=min_k)
    layout = validate.choice("layout", layout, LAYOUTS)
    reduction = validate.choice("reduction", reduction, REDUCTIONS)
    layers = [
        (Dense(d, h, layout), {"W": "W1", "b": "b1"}),
        (Sigmoid(), {}),
        (Dense(h, k, layout), {"W": "W2", "b": "b2"}),
        *[(layer, {}) for layer in output_layers],
    ]
    return Network(name, (d, h, k), layers, loss_cls(reduction), layout)


def sigmoid_mse(d: int, h: int, k: int, *, layout: str = "row", reduction: str = "mean") -> Network:
    """x -> Dense -> σ -> Dense -> σ -> squared error ½ Σ_k (ŷ_k − y_k)² per example."""
    return _one_hidden_layer("sigmoid_mse", d, h, k, [Sigmoid()], MSE, layout, reduction)


def sigmoid_softmax_ce(d: int, h: int, k: int, *, layout: str = "row", reduction: str = "mean") -> Network:
    """x -> Dense -> σ -> Dense -> softmax -> cross-entropy −Σ_k y_k log ŷ_k per example."""
    return _one_hidden_layer("sigmoid_softmax_ce", d, h, k, [], SoftmaxCrossEntropy, layout, reduction, min_k=2)


NETWORKS = {"sigmoid_mse": sigmoid_mse, "sigmoid_softmax_ce": sigmoid_softmax_ce}
