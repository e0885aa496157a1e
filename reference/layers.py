"""Layers: each a small class whose forward and hand-derived backward sit side by side.

The contract, for every layer:

    y, cache = layer.forward(params, x)      # params: this layer's own dict, e.g. {"W": ..., "b": ...}
    dx, grads = layer.backward(cache, dy)    # dy = dL/dy, same shape as y; grads has the keys of params
    params = layer.init(rng, dtype)          # a starting point, the keys and shapes of layer.param_shapes

LAYERS is the registry: every layer in it is picked up by the property tests, which compare it
with each framework's op of the same `kind` (see README, "Add a layer").

`backward` keeps no state between calls: everything it needs travels in `cache`, so the
results never depend on the order of calls. Shapes below use N examples, D inputs, H outputs.
Layers trust their inputs to be arrays of matching shapes and one dtype: the network checks
them, with messages that name the argument, before any layer runs.
"""

from __future__ import annotations

import numpy as np

from . import validate
from .base import SIZES, Domain, Layer, Text, shape_text
from .conv import AvgPool2D, Conv2D, Flatten, MaxPool2D
from .norm import BatchNorm, Dropout, LayerNorm

LAYOUTS = ("row", "column")


class Dense(Layer):
    """Affine map. Row layout (CS224n): W is (D, H).  Column layout (textbook, torch.nn.Linear): W is (H, D).

    Forward, per batch:
        row:     z = x W + b          (N, D) @ (D, H) + (H,)  -> (N, H)
        column:  z = x Wᵀ + b         (N, D) @ (D, H) + (H,)  -> (N, H)   i.e. z_n = W x_n + b per example

    Backward, with δ = dL/dz of shape (N, H):
        row:     dW = xᵀ δ            (D, N) @ (N, H) -> (D, H)
                 dx = δ Wᵀ            (N, H) @ (H, D) -> (N, D)
        column:  dW = δᵀ x            (H, N) @ (N, D) -> (H, D)   = Σ_n δ_n x_nᵀ, outer products
                 dx = δ W             (N, H) @ (H, D) -> (N, D)   i.e. dx_n = Wᵀ δ_n per example
        both:    db = Σ_n δ_n         (N, H) -> (H,)  b is shared by every example, so its gradient sums

    Why dW is a matrix product: dz/dW is a 3-index tensor, ∂z_i/∂W_jk = 1[i = j] x_k (column layout),
    and contracting it with δ leaves only Σ_i δ_i ∂z_i/∂W_jk = δ_j x_k, the outer product δ xᵀ.
    """

    kind = "dense"
    numbered = "weight"
    ranks = (1,)

    def __init__(self, fan_in: int, fan_out: int, layout: str = "row"):
        self.fan_in = validate.size("fan_in", fan_in)
        self.fan_out = validate.size("fan_out", fan_out)
        self.layout = validate.choice("layout", layout, LAYOUTS)
        self.options = {"layout": self.layout}
        weight = (fan_in, fan_out) if layout == "row" else (fan_out, fan_in)
        self.param_shapes = {"W": weight, "b": (fan_out,)}

    def __repr__(self):
        layout = "" if self.layout == "row" else f", layout={self.layout!r}"
        return f"reference.Dense({self.fan_in}, {self.fan_out}{layout})"

    def output_shape(self, shape):
        if tuple(shape) != (self.fan_in,):
            self.refuse(shape, shape_text((self.fan_in,)))
        return (self.fan_out,)

    @classmethod
    def sample(cls, pick, shape=None):
        shape = shape if shape is not None else (pick("D", SIZES),)
        return cls(shape[0], pick("H", SIZES), pick("layout", LAYOUTS)), shape

    def explain(self, a, b, p):
        W, bias = p["W"], p["b"]
        if self.layout == "row":
            return Text((f"{b} = {a} {W} + {bias}",),
                        (f"d{W} = {a}ᵀ g_{b}", f"d{bias} = Σ_n g_{b}[n]", f"g_{a} = g_{b} {W}ᵀ"),
                        (f"∂{b}[n]/∂{a}[n] = {W}ᵀ ({self.fan_out}, {self.fan_in}) for each example; examples do not mix",))
        return Text((f"{b} = {a} {W}ᵀ + {bias}    (per example {b}[n] = {W} {a}[n] + {bias})",),
                    (f"d{W} = g_{b}ᵀ {a}    (Σ_n of the outer products g_{b}[n] {a}[n]ᵀ)", f"d{bias} = Σ_n g_{b}[n]",
                     f"g_{a} = g_{b} {W}"),
                    (f"∂{b}[n]/∂{a}[n] = {W} ({self.fan_out}, {self.fan_in}) for each example; examples do not mix",))

    def init(self, rng, dtype):
        """Glorot uniform: W ~ U(−r, r) with r = √(6 / (fan_in + fan_out)); b = 0."""
        limit = np.sqrt(6.0 / (self.fan_in + self.fan_out))
        return {"W": rng.uniform(-limit, limit, size=self.param_shapes["W"]).astype(dtype),
                "b": np.zeros(self.param_shapes["b"], dtype=dtype)}

    def forward(self, params, x):
        W, b = params["W"], params["b"]
        z = (x @ W if self.layout == "row" else x @ W.T) + b
        return z, (x, W)

    def backward(self, cache, dz):
        x, W = cache
        if self.layout == "row":
            dW, dx = x.T @ dz, dz @ W.T
        else:
            dW, dx = dz.T @ x, dz @ W
        return dx, {"W": dW, "b": dz.sum(axis=0)}


class Activation(Layer):
    """An elementwise function a = f(z): no parameters, one declared derivative.

    Forward:   a = f(z)                     (N, H) -> (N, H)
    Backward:  dz = dy ⊙ f′(z)              all (N, H)

    Why a Hadamard product: an elementwise function has a diagonal Jacobian, da/dz = diag(f′(z))
    of shape (H, H) per example, and dyᵀ diag(f′(z)) = dy ⊙ f′(z): the diagonal matrix is never built.

    A subclass declares `kind`, `formula` (its forward as plain math over z, for the numerical
    oracle, which evaluates it with its own functions: exp, log, log1p, tanh, abs, maximum, ...; it must
    stay finite over the test inputs, so write it in a form that does not overflow),
    `value(z)` and `derivative(z, a)`; optionally `domain` (see Domain). How far rounding can move
    its results needs no declaration: the comparison measures it per example (agreement.rounding).
    """

    kind: str
    formula: str
    symbol: str | None = None  # how explain writes f and f′(z), e.g. "σ" and "σ(z)(1 − σ(z))"; default: the kind
    derivative_text: str | None = None
    elementwise = True

    def forward(self, params, z):
        a = self.value(z)
        return a, (z, a)

    def explain(self, a, b, p):
        f = self.symbol or self.kind
        d = self.derivative_text or f"{self.kind}′(z)"
        return Text((f"{b} = {f}({a})    elementwise",), (f"g_{a} = g_{b} ⊙ f′({a}),  f′(z) = {d}",),
                    (f"∂{b}/∂{a} = diag(f′({a})): each output depends on its own input only, so g ⊙ f′ replaces the "
                     f"product with the diagonal matrix",))

    def backward(self, cache, dy):
        z, a = cache
        return dy * self.derivative(z, a), {}


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), evaluated through e^{-|z|} ≤ 1 so that no exponential overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^{−z});  σ′(z) = σ(z) (1 − σ(z)), written with the forward's output a = σ(z)."""

    kind = "sigmoid"
    symbol, derivative_text = "σ", "σ(z)(1 − σ(z))"
    formula = "(1 + tanh(z / 2)) / 2"  # = 1 / (1 + e^{−z}), and no exponential to overflow at z ≪ 0

    def value(self, z):
        return sigmoid(z)

    def derivative(self, z, a):
        return a * (1 - a)


class Tanh(Activation):
    """tanh(z);  tanh′(z) = 1 − tanh²(z) = 1 − a²."""

    kind = "tanh"
    symbol, derivative_text = "tanh", "1 − tanh²(z)"
    formula = "tanh(z)"

    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1 - a * a


class ReLU(Activation):
    """max(z, 0);  ReLU′(z) = 1 where z > 0, else 0 (0 at the kink itself, as PyTorch and JAX have it)."""

    kind = "relu"
    symbol, derivative_text = "relu", "1[z > 0]"
    formula = "maximum(z, 0)"
    # Near the kink, rounding decides the side: two engines whose z differ in the last bit can take
    # different branches, and a finite difference straddling 0 measures neither. Test inputs keep
    # |z| ≥ 1e-3 · max |z|, far above float32 rounding (~1e-6 relative) and any difference step.
    domain = Domain(avoid=(0.0,), margin=1e-3)

    def value(self, z):
        return np.maximum(z, 0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


class Identity(Activation):
    """z itself, a linear output;  derivative 1."""

    kind = "identity"
    symbol, derivative_text = "id", "1"
    formula = "z"

    def value(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)


class Softplus(Activation):
    """softplus(z) = log(1 + e^z), computed as max(z, 0) + log(1 + e^{−|z|});  softplus′(z) = σ(z)."""

    kind = "softplus"
    symbol, derivative_text = "softplus", "σ(z)"
    formula = "maximum(z, 0) + log1p(exp(-abs(z)))"

    def value(self, z):
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def derivative(self, z, a):
        return sigmoid(z)


LAYERS = {cls.kind: cls for cls in (Dense, Sigmoid, Tanh, ReLU, Identity, Softplus,
                                    Conv2D, MaxPool2D, AvgPool2D, Flatten, BatchNorm, LayerNorm, Dropout)}
ACTIVATIONS = {kind: cls for kind, cls in LAYERS.items() if cls.elementwise}
