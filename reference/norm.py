"""Normalization and dropout: batch norm (training mode), layer norm, inverted dropout.

Batch norm and layer norm share one computation over different axes: x̂ = (x − μ) / √(σ² + ε) with
μ and σ² the mean and the biased variance over the axes normalized, then y = γ x̂ + β per feature.
Their backward, with m the number of values in each mean and g = dL/dx̂ = δ ⊙ γ:

    dx = 1/(m √(σ² + ε)) · (m g − Σ g − x̂ Σ (g ⊙ x̂))        sums over the normalized axes
    dγ = Σ_batch δ ⊙ x̂,   dβ = Σ_batch δ

The two sums are the mean terms: every x moves μ and σ², which every output of its group uses, so
each output depends on all m inputs of the group. Treating μ and σ² as constants leaves dx = g / √(σ² + ε),
the classic mistake (reference.mistakes).
"""

from __future__ import annotations

import numpy as np

from . import validate
from .base import SIZES, Layer, Text, shape_text


class Spread:
    """The test domain of a normalization: every group's standard deviation at least `margin` (relative to
    the largest input) so that 1/σ stays moderate. Where σ → 0 the layer is ill-conditioned: its gradient
    grows as 1/σ and its curvature as 1/σ³, which no finite difference follows."""

    def __init__(self, layer, margin=0.02):
        self.layer, self.margin = layer, margin

    def _least(self, h):
        return self.margin * max(1.0, float(np.max(np.abs(h), initial=0.0)))

    def inside(self, h) -> bool:
        return bool(np.all(h.std(axis=self.layer.axes(h.ndim)) >= self._least(h)))

    def into(self, h):
        """Each group too narrow replaced by its mean plus a pattern of alternating signs with the least spread."""
        axes = self.layer.axes(h.ndim)
        mu, sd = h.mean(axis=axes, keepdims=True), h.std(axis=axes, keepdims=True)
        signs = np.where(np.indices(h.shape).sum(axis=0) % 2 == 0, 1.0, -1.0)
        signs = signs - signs.mean(axis=axes, keepdims=True)
        pattern = signs / signs.std(axis=axes, keepdims=True)
        return np.where(sd < self._least(h), mu + 2 * self._least(h) * pattern, h).astype(h.dtype)


def normalize(x, axes, eps):
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    return (x - mu) * inv, inv


def normalize_backward(g, xhat, inv, axes):
    m = int(np.prod([g.shape[a] for a in axes]))
    return inv / m * (m * g - g.sum(axis=axes, keepdims=True) - xhat * (g * xhat).sum(axis=axes, keepdims=True))


class _Normalization(Layer):
    numbered = "norm"
    centers = True  # computes x − mean(x): the mean's own rounding moves every deviation (agreement.rounding)
    fewest_features = 2  # in a drawn network: a normalization over one value is β

    def __init__(self, features: int, eps: float = 1e-5):
        self.features = validate.size("features", features)
        self.eps = validate.nonnegative("eps", eps)
        if self.eps == 0:
            raise ValueError("eps must be > 0: it keeps 1/√(σ² + ε) finite where a feature is constant; got 0")
        self.options = {"eps": self.eps}
        self.param_shapes = {"gamma": (self.features,), "beta": (self.features,)}

    @property
    def domain(self):
        return Spread(self)

    def __repr__(self):
        eps = "" if self.eps == 1e-5 else f", eps={self.eps!r}"
        return f"reference.{type(self).__name__}({self.features}{eps})"

    def init(self, rng, dtype):
        """γ = 1, β = 0: the normalized input itself, as torch and CS231n start."""
        return {"gamma": np.ones(self.features, dtype=dtype), "beta": np.zeros(self.features, dtype=dtype)}

    def output_shape(self, shape):
        self.check_rank(shape)
        if shape[0] != self.features:
            raise ValueError(f"{self!r} normalizes {self.features} features (axis 1 of the batch), got input shape "
                             f"{shape_text(shape)}")
        return tuple(shape)

    def _channel(self, v, ndim):
        """γ or β shaped to broadcast over the features axis 1 of an (N, D) or (N, C, H, W) batch."""
        return v.reshape(1, -1, *([1] * (ndim - 2)))

    def forward(self, params, x):
        axes = self.axes(x.ndim)
        xhat, inv = normalize(x, axes, self.eps)
        gamma = self._channel(params["gamma"], x.ndim)
        return gamma * xhat + self._channel(params["beta"], x.ndim), (xhat, inv, gamma)

    def backward(self, cache, dy):
        xhat, inv, gamma = cache
        batch = self.batch_axes(dy.ndim)
        dx = normalize_backward(dy * gamma, xhat, inv, self.axes(dy.ndim))
        return dx, {"gamma": (dy * xhat).sum(axis=batch), "beta": dy.sum(axis=batch)}

    @classmethod
    def sample(cls, pick, shape=None):
        shape = shape if shape is not None else (pick("D", SIZES),)
        return cls(shape[0]), shape

    def explain(self, a, b, p, shape=None):
        gamma, beta = p["gamma"], p["beta"]
        over, m, group = self.groups(shape)
        return Text(
            (f"μ, σ² = mean and biased variance of {a} over {over};  x̂ = ({a} − μ) / √(σ² + {self.eps:g});  "
             f"{b} = {gamma} ⊙ x̂ + {beta}",),
            (f"ĝ = g_{b} ⊙ {gamma};  g_{a} = (m ĝ − Σ ĝ − x̂ Σ (ĝ ⊙ x̂)) / (m √(σ² + ε)), sums over {over}, m = {m}",
             f"d{gamma} = Σ g_{b} ⊙ x̂,  d{beta} = Σ g_{b}, sums over every axis but the features"),
            (f"∂{b}/∂{a} = γ/σ (1[same input] − 1/m − x̂ x̂ᵀ / m) within {group}: every output depends on every input "
             "of its group through μ and σ², which is where the two sums of the backward come from; treating μ and σ² "
             "as constants would leave γ/σ alone",))


class BatchNorm(_Normalization):
    """Batch normalization in training mode, with the batch's own statistics (the biased variance, as torch).

    (N, D): per feature, over the batch;  (N, C, H, W): per channel, over the batch and every pixel (spatial).
    x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β,  γ and β of shape (D,) or (C,);  m = N, or N·H·W when spatial.
    Backward: see the module's docstring; dγ = Σ δ ⊙ x̂ and dβ = Σ δ over the same axes as μ.
    The Jacobian is over the whole batch: ∂y[n, d]/∂x[k, d] = γ/σ (1[n = k] − 1/m − x̂[n, d] x̂[k, d] / m).
    """

    kind = "batch_norm"
    ranks = (1, 3)
    min_batch = 2  # one example of D features has variance 0 in each: its normalized value is 0 whatever it is

    def min_batch_for(self, shape):
        return self.min_batch if len(shape) == 1 or shape[1] * shape[2] == 1 else 1  # an image's pixels share a mean

    def groups(self, shape):
        if shape is not None and len(shape) == 3:
            return ("the batch and every pixel, per channel", "N·H·W",
                    "each channel, across the whole batch (not one example: reference.jacobian takes the batch)")
        return ("the batch, per feature", "N", "each feature's column, across the whole batch (not one example: "
                "reference.jacobian takes the batch)")

    def axes(self, ndim):
        return (0,) if ndim == 2 else (0, 2, 3)

    batch_axes = axes

    @classmethod
    def sample(cls, pick, shape=None):
        if shape is None:
            shape = pick("input", ((pick("D", SIZES),), (pick("C", (1, 2, 3)), pick("H", SIZES), pick("W", SIZES))))
        return cls(shape[0]), shape


class LayerNorm(_Normalization):
    """Layer normalization: each example normalized over its own D features; the batch plays no part.

    x (N, D);  x̂ = (x − μ_n) / √(σ²_n + ε) with μ_n, σ²_n over the row;  y = γ x̂ + β, γ and β (D,);  m = D.
    Backward: see the module's docstring, with the sums along each row; dγ = Σ_n δ ⊙ x̂, dβ = Σ_n δ.
    Its Jacobian is per example: ∂y_i/∂x_j = γ_i/σ (1[i = j] − 1/D − x̂_i x̂_j / D), a (D, D) matrix.
    """

    kind = "layer_norm"
    ranks = (1,)

    @classmethod
    def sample(cls, pick, shape=None):
        return super().sample(pick, shape if shape is not None else (pick("D", SIZES[cls.fewest_features - 1:]),))

    # Drawn over three features or more (test inputs only; any D is taken): over one feature the output is β, over
    # two it is ±γ + β whatever the input, and its gradient with respect to the input is the eps term alone, terms
    # that cancel to within rounding: a float32 JAX dx of -1.4e-7 where the reference's is -1.3e-9 (layernorm_svm).
    fewest_features = 3

    def groups(self, shape):
        return "each example's D features", "D", "each example's row; examples do not mix"

    def axes(self, ndim):
        return (1,)

    def batch_axes(self, ndim):
        return (0,)


def dropout_mask(seed: int, shape, keep: float) -> np.ndarray:
    """The units kept: np.random.default_rng(seed).random(shape) < keep, the same in every checker."""
    return np.random.default_rng(seed).random(shape) < keep


class Dropout(Layer):
    """Inverted dropout in training mode, with the mask fixed by a seed so that it can be verified.

    mask = default_rng(seed).random(x.shape) < keep;  y = x ⊙ mask / keep;  dx = dy ⊙ mask / keep.
    Dividing by keep at training time keeps E[y] = x, so the test-time layer is the identity. The
    mask depends on the batch's shape: one example alone is a batch of one, with the mask of shape (1, …).
    """

    kind = "dropout"

    def __init__(self, keep: float, seed: int = 0):
        self.keep = validate.probability("keep", keep)
        self.seed = validate.size("seed", seed, minimum=0)
        self.options = {"keep": self.keep, "seed": self.seed}

    def __repr__(self):
        return f"reference.Dropout(keep={self.keep!r}, seed={self.seed})"

    def explain(self, a, b, p):
        mask = f"mask = default_rng({self.seed}).random({a}.shape) < {self.keep:g}"
        return Text((f"{b} = {a} ⊙ mask / {self.keep:g},  {mask}",), (f"g_{a} = g_{b} ⊙ mask / {self.keep:g}",),
                    (f"∂{b}/∂{a} = diag(mask / {self.keep:g}): the kept units pass the gradient scaled, the dropped ones 0",))

    def forward(self, params, x):
        scale = dropout_mask(self.seed, x.shape, self.keep) / self.keep
        return x * scale.astype(x.dtype), scale

    def backward(self, cache, dy):
        return dy * cache.astype(dy.dtype), {}

    @classmethod
    def sample(cls, pick, shape=None):
        shape = shape if shape is not None else (pick("D", SIZES),)
        return cls(pick("keep", (0.5, 0.8, 0.3, 1.0)), pick("seed", (0, 1, 2, 3, 4, 5, 6, 7))), shape
