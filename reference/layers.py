"""Layers: each a small class whose forward and hand-derived backward sit side by side.

The contract, for every layer:

    y, cache = layer.forward(params, x)      # params: this layer's own dict, e.g. {"W": ..., "b": ...}
    dx, grads = layer.backward(cache, dy)    # dy = dL/dy, same shape as y; grads has the keys of params

`backward` keeps no state between calls: everything it needs travels in `cache`, so the
results never depend on the order of calls. Shapes below use N examples, D inputs, H outputs.
Layers trust their inputs to be arrays of matching shapes and one dtype: the network checks
them, with messages that name the argument, before any layer runs.
"""

from __future__ import annotations

import numpy as np

from . import validate

LAYOUTS = ("row", "column")


class Dense:
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

    def __init__(self, fan_in: int, fan_out: int, layout: str = "row"):
        self.fan_in = validate.size("fan_in", fan_in)
        self.fan_out = validate.size("fan_out", fan_out)
        self.layout = validate.choice("layout", layout, LAYOUTS)
        self.options = {"layout": self.layout}
        weight = (fan_in, fan_out) if layout == "row" else (fan_out, fan_in)
        self.param_shapes = {"W": weight, "b": (fan_out,)}

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


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), evaluated through e^{-|z|} ≤ 1 so that no exponential overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid:
    """Elementwise logistic function, no parameters.

    Forward:   s = σ(z)                    (N, H) -> (N, H)
    Backward:  dz = dy ⊙ σ′(z) = dy ⊙ s ⊙ (1 − s)      all (N, H)

    Why a Hadamard product: an elementwise function has a diagonal Jacobian,
    ds/dz = diag(σ′(z)) of shape (H, H) per example, and dyᵀ diag(σ′(z)) = dy ⊙ σ′(z).
    """

    kind = "sigmoid"
    options: dict = {}
    param_shapes: dict = {}

    def forward(self, params, z):
        s = sigmoid(z)
        return s, s

    def backward(self, cache, dy):
        s = cache
        return dy * s * (1 - s), {}


LAYERS = {cls.kind: cls for cls in (Dense, Sigmoid)}
