"""A network is a chain of layers ending in a loss; its gradient is the chain rule run backwards.

    net = sequential([Conv2D(3, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dense(64, 10)],
                     input_shape=(3, 8, 8), output="softmax", loss="cross_entropy")
    params = net.init(np.random.default_rng(0))      # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)   # grads: the keys of params plus "x"

reference.builders makes networks: `sequential` from any list of layers, `mlp` and the named
one-hidden-layer networks over it.

`net.spec` describes the network as plain data (layer kinds, which params each layer uses,
options such as the layout) so that an independent checker can build the same network with
its own framework's ops without touching any of the math here.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from . import validate


class Step(NamedTuple):
    """One layer, loss or penalty as plain data: its kind, its (local name, params key) pairs, its
    options and, for an elementwise layer, its forward as a formula over z (for the numerical oracle)."""

    kind: str
    params: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, object], ...] = ()
    formula: str | None = None

    @classmethod
    def of(cls, part, keys=None) -> Step:
        """The description of a layer, loss or penalty whose params sit under `keys` ({local: params key})."""
        return cls(part.kind, tuple((keys or {}).items()), tuple(part.options.items()), getattr(part, "formula", None))


class Spec(NamedTuple):
    """A whole network as plain, hashable data: loss(layers(x), y) + Σ penalties(params), for x of shape
    (N, *input_shape) or one example of shape input_shape."""

    layers: tuple[Step, ...]
    loss: Step
    penalties: tuple[Step, ...] = ()
    input_shape: tuple[int, ...] = ()


class Network:
    """Layers applied in order, then a loss. Each layer gets its parameters under global keys (W1, b1, ...).

    input_shape is one example's shape, shapes[i] the shape of layer i's output for one example, outputs
    the K scores the loss takes. sizes (D, H1, ..., K) is set for the dense chains mlp builds, else None.
    """

    def __init__(self, name: str, layers, loss, penalties=(), *, input_shape, shapes, call=None, config=None,
                 sizes=None, layout="row"):
        self.name = name
        self.config = dict(config or {})  # the builder's keywords: reference.mlp(*net.sizes, **net.config) rebuilds it
        self.sizes = sizes
        self.input_shape = tuple(input_shape)
        self.shapes = tuple(shapes)
        self.outputs = self.shapes[-1][0] if self.shapes else self.input_shape[0]
        self.layout = layout
        self.reduction = loss.reduction
        self.layers = tuple(layers)  # (layer, {local name: params key}) pairs
        self.loss_layer = loss
        self.penalties = tuple(penalties)  # (penalty, {local name: params key}) pairs
        self.param_shapes = {key: layer.param_shapes[local] for layer, keys in self.layers for local, key in keys.items()}
        inputs = [self.input_shape, *self.shapes]
        self.min_batch = max((layer.min_batch_for(inputs[i]) for i, (layer, _) in enumerate(self.layers)), default=1)
        self._call = call or f"reference.{name}(...)"
        self.spec = Spec(
            layers=tuple(Step.of(layer, keys) for layer, keys in self.layers),
            loss=Step.of(loss),
            penalties=tuple(Step.of(penalty, keys) for penalty, keys in self.penalties),
            input_shape=self.input_shape,
        )

    @property
    def parts(self):
        """Every layer, the loss and every penalty: the pieces a mistake can be made in."""
        return (*(layer for layer, _ in self.layers), self.loss_layer, *(p for p, _ in self.penalties))

    def __repr__(self):
        return self._call

    def with_parts(self, replace) -> Network:
        """A copy whose every layer, loss and penalty is replace(part): a known-wrong variant of some of them
        (reference.mistakes), or each wrapped to perturb what it computes (agreement.rounding)."""
        out = copy.copy(self)
        out.layers = tuple((replace(layer), keys) for layer, keys in self.layers)
        out.loss_layer = replace(self.loss_layer)
        out.penalties = tuple((replace(penalty), keys) for penalty, keys in self.penalties)
        return out

    def init(self, rng, dtype=np.float64) -> dict[str, np.ndarray]:
        """Each layer's own starting point (Glorot-uniform weights, zero biases), in float64 or float32."""
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
        for layer, keys in self.layers:
            own = layer.init(rng, dtype)
            params.update({key: own[local] for local, key in keys.items()})
        return params

    def _inputs(self, params, x):
        why = f"layout={self.layout!r}, sizes={self.sizes}" if self.sizes else f"{self!r}"
        params, dtype = validate.params(params, self.param_shapes, why)
        return params, validate.inputs(x, self.input_shape, dtype)

    def single(self, x) -> bool:
        """Whether x is one example (of shape input_shape) rather than a batch."""
        return np.ndim(x) == len(self.input_shape)

    def batched(self, x):
        """x as a batch: one example becomes a batch of one."""
        return x[None] if self.single(x) else x

    def _refuse_small_batch(self, x) -> None:
        if len(self.batched(x)) < self.min_batch:
            raise ValueError(f"x holds {len(self.batched(x))} example(s); {self!r} normalizes over the batch and "
                             f"needs at least {self.min_batch}")

    def targets(self, y, x):
        """y validated against x, in the form the loss takes (one-hot rows for class labels)."""
        like = x if len(self.input_shape) == 1 else np.broadcast_to(np.zeros((), x.dtype),
                                                                     x.shape[:-len(self.input_shape)] + (self.outputs,))
        return self.loss_layer.targets(y, like, self.outputs)

    def _forward(self, params, x):
        h, caches = x, []
        for layer, keys in self.layers:
            h, cache = layer.forward({local: params[key] for local, key in keys.items()}, h)
            caches.append(cache)
        return h, caches

    def predict(self, params, x) -> np.ndarray:
        """The network's output ŷ: (N, K) for a batch, (K,) for one example; softmax probabilities for softmax."""
        params, x = self._inputs(params, x)
        self._refuse_small_batch(x)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            out, _ = self._forward(params, self.batched(x))
            yhat = self.loss_layer.predict(out)
        _refuse_overflow([yhat], params, x)
        return yhat[0] if self.single(x) else yhat

    def loss_and_grads(self, params, x, y) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and its gradient with respect to every parameter and to x, in the params' dtype."""
        params, x = self._inputs(params, x)
        y = self.targets(y, x)
        single = self.single(x)
        self._refuse_small_batch(x)
        # Overflow is reported below, as an error about the inputs, rather than as a warning and a NaN.
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            out, caches = self._forward(params, self.batched(x))
            loss, loss_cache = self.loss_layer.forward(out, y[None] if single else y)
            delta, _ = self.loss_layer.backward(loss_cache, 1.0)
            grads = {}
            for penalty, keys in self.penalties:
                value, cache = penalty.forward({local: params[key] for local, key in keys.items()})
                loss = loss + value
                grads.update({keys[local]: g for local, g in penalty.backward(cache, 1.0).items()})
            for (layer, keys), cache in zip(reversed(self.layers), reversed(caches), strict=True):
                delta, layer_grads = layer.backward(cache, delta)
                for local, key in keys.items():
                    grads[key] = grads[key] + layer_grads[local] if key in grads else layer_grads[local]
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


