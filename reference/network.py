"""A network is a chain of layers ending in a loss; its gradient is the chain rule run backwards.

    net = mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.05)
    net = sigmoid_mse(3, 4, 1)                       # D=3 inputs, H=4 hidden, K=1 output
    params = net.init(np.random.default_rng(0))      # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)   # grads: the keys of params plus "x"

`net.spec` describes the network as plain data (layer kinds, which params each layer uses,
options such as the layout) so that an independent checker can build the same network with
its own framework's ops without touching any of the math here.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np

from . import validate
from .layers import ACTIVATIONS, LAYOUTS, Dense
from .losses import L2, LOSSES, REDUCTIONS


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
    """A whole network as plain, hashable data: loss(layers(x), y) + Σ penalties(params)."""

    layers: tuple[Step, ...]
    loss: Step
    penalties: tuple[Step, ...] = ()


class Network:
    """Layers applied in order, then a loss. Each layer gets its parameters under global keys (W1, b1, ...)."""

    def __init__(self, name: str, sizes: tuple[int, ...], layers, loss, layout: str, penalties=(), call=None,
                 config=None):
        self.name = name
        self.config = dict(config or {})  # mlp's keywords: reference.mlp(*net.sizes, **net.config) rebuilds it
        self.sizes = sizes
        self.layout = layout
        self.reduction = loss.reduction
        self.layers = tuple(layers)  # (layer, {local name: params key}) pairs
        self.loss_layer = loss
        self.penalties = tuple(penalties)  # (penalty, {local name: params key}) pairs
        self.param_shapes = {key: layer.param_shapes[local] for layer, keys in self.layers for local, key in keys.items()}
        self._call = call or f"reference.{name}(...)"
        self.spec = Spec(
            layers=tuple(Step.of(layer, keys) for layer, keys in self.layers),
            loss=Step.of(loss),
            penalties=tuple(Step.of(penalty, keys) for penalty, keys in self.penalties),
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


# (output, loss) -> (the output activation's kind, or None where the loss takes the logits, the loss's kind)
OUTPUTS = {
    **{(kind, "mse"): (kind, "mse") for kind in ACTIVATIONS},
    ("softmax", "cross_entropy"): (None, "softmax_cross_entropy"),
    ("sigmoid", "binary_cross_entropy"): (None, "sigmoid_binary_cross_entropy"),
}
LOSS_NAMES = tuple(dict.fromkeys(loss for _, loss in OUTPUTS))
OUTPUT_NAMES = tuple(dict.fromkeys(output for output, _ in OUTPUTS))


def _output(output, loss):
    """The output activation's kind (or None) and the loss's kind for output= and loss=, or a ValueError."""
    loss = validate.choice("loss", loss, LOSS_NAMES)
    output = validate.choice("output", output, OUTPUT_NAMES)
    if (output, loss) not in OUTPUTS:
        fits = [o for o, l_ in OUTPUTS if l_ == loss]
        raise ValueError(f"output={output!r} is not supported with loss={loss!r}; loss={loss!r} takes output "
                         f"{' or '.join(map(repr, fits))}")
    return OUTPUTS[output, loss]


def _hidden_kinds(hidden, count: int) -> tuple[str, ...]:
    """hidden= as one kind per hidden layer: a single kind for all of them, or a sequence of `count` kinds."""
    kinds = (hidden,) * count if isinstance(hidden, str) else hidden
    if isinstance(kinds, (str, bytes)) or not hasattr(kinds, "__len__"):
        raise TypeError(f"hidden must be an activation kind or a sequence of them, got {type(hidden).__name__}")
    kinds = tuple(kinds)
    if len(kinds) != count:
        raise ValueError(f"hidden has {len(kinds)} kinds, expected one per hidden layer: {count}")
    return tuple(validate.choice("hidden", kind, tuple(ACTIVATIONS)) for kind in kinds)


def mlp(*sizes: int, hidden="sigmoid", output: str = "sigmoid", loss: str = "mse", l2: float = 0.0,
        layout: str = "row", reduction: str = "mean") -> Network:
    """A fully connected network of any depth: x -> [Dense -> hidden]* -> Dense -> output -> loss.

    sizes: D, H1, ..., K (at least two). hidden: an activation kind for every hidden layer, or one
    kind per hidden layer. output and loss: any activation with "mse"; "softmax" with
    "cross_entropy" and "sigmoid" with "binary_cross_entropy", each fused with its loss on the
    logits. l2=λ adds λ Σ_l ‖W_l‖²_F to the loss. Params W1, b1, ..., WL, bL.
    """
    return _mlp("mlp", sizes, hidden, output, loss, l2, layout, reduction)


def _mlp(name, sizes, hidden, output, loss, l2, layout, reduction, call=None) -> Network:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        raise TypeError(f"pass the sizes as separate arguments, mlp({', '.join(map(str, sizes[0]))}, ...), "
                        f"or unpack them: mlp(*sizes, ...); got one {type(sizes[0]).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must give at least the inputs D and the outputs K, got {len(sizes)} size(s)")
    depth = len(sizes) - 1
    activation, loss_kind = _output(output, loss)
    loss_cls = LOSSES[loss_kind]
    names = ["D (inputs)", *(f"H{i} (hidden units)" if depth > 2 else "H (hidden units)" for i in range(1, depth)),
             "K (outputs)" if loss_cls.min_outputs == 1 else f"K (classes, {output} needs at least {loss_cls.min_outputs})"]
    sizes = tuple(validate.size(n, s, minimum=loss_cls.min_outputs if i == depth else 1)
                  for i, (n, s) in enumerate(zip(names, sizes, strict=True)))
    kinds = _hidden_kinds(hidden, depth - 1)
    layout = validate.choice("layout", layout, LAYOUTS)
    reduction = validate.choice("reduction", reduction, REDUCTIONS)
    strength = validate.nonnegative("l2", l2)
    layers = []
    for i in range(depth):
        layers.append((Dense(sizes[i], sizes[i + 1], layout), {"W": f"W{i + 1}", "b": f"b{i + 1}"}))
        kind = kinds[i] if i < depth - 1 else activation
        if kind is not None:
            layers.append((ACTIVATIONS[kind](), {}))
    penalties = [(L2(strength), {f"W{i}": f"W{i}" for i in range(1, depth + 1)})] if strength else []
    if call is None:
        args = ", ".join(map(str, sizes))
        hidden_arg = f"hidden={kinds[0]!r}, " if len(set(kinds)) == 1 else f"hidden={kinds!r}, " if kinds else ""
        l2_arg = f"l2={strength!r}, " if strength else ""
        call = (f"reference.mlp({args}, {hidden_arg}output={output!r}, loss={loss!r}, {l2_arg}"
                f"layout={layout!r}, reduction={reduction!r})")
    config = dict(hidden=kinds, output=output, loss=loss, l2=strength, layout=layout, reduction=reduction)
    return Network(name, sizes, layers, loss_cls(reduction), layout, penalties, call, config)


def _shorthand(name, d, h, k, output, loss, kw):
    """The named one-hidden-layer sigmoid networks: mlp(d, h, k, hidden="sigmoid", ...) under their own name."""
    unknown = set(kw) - {"layout", "reduction", "l2"}
    if unknown:
        raise TypeError(f"{name}() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    options = {"layout": "row", "reduction": "mean", **kw}
    extra = "".join(f", {key}={value!r}" for key, value in options.items() if key != "l2" or value)
    call = f"reference.{name}({d}, {h}, {k}{extra})"
    return _mlp(name, (d, h, k), "sigmoid", output, loss, options.pop("l2", 0.0), call=call, **options)


def sigmoid_mse(d: int, h: int, k: int, **kw) -> Network:
    """x -> Dense -> σ -> Dense -> σ -> squared error ½ Σ_k (ŷ_k − y_k)² per example.
    Keywords as for mlp: layout, reduction, l2."""
    return _shorthand("sigmoid_mse", d, h, k, "sigmoid", "mse", kw)


def sigmoid_softmax_ce(d: int, h: int, k: int, **kw) -> Network:
    """x -> Dense -> σ -> Dense -> softmax -> cross-entropy −Σ_k y_k log ŷ_k per example.
    Keywords as for mlp: layout, reduction, l2."""
    return _shorthand("sigmoid_softmax_ce", d, h, k, "softmax", "cross_entropy", kw)


NETWORKS = {"sigmoid_mse": sigmoid_mse, "sigmoid_softmax_ce": sigmoid_softmax_ce}
