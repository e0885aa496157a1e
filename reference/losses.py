"""Losses: the last layer of a network, turning its output and the targets into one number.

    loss, cache = loss_layer.forward(z, y)       # y already validated: (N, K) targets or one-hot rows
    dz, grads = loss_layer.backward(cache, dloss)  # dloss = dL/dloss, 1.0 at the top; grads is {}: no params

Like the layers, losses trust their inputs: the network validates them first.

The reduction over the batch lives here: "mean" divides the summed per-example loss by N,
"sum" does not, and the gradient carries the same factor (1/N or 1).
"""

from __future__ import annotations

import numpy as np

from . import validate
from .base import Text
from .layers import sigmoid

REDUCTIONS = ("mean", "sum")


class _Loss:
    """What every loss declares: its `kind`, `targets` (the validation of y, which fixes the targets'
    form), `min_outputs` (the fewest outputs K it makes sense for)."""

    min_outputs = 1
    domain = None  # or an object whose inside(z, y) says whether the scores are away from a kink

    def __init__(self, reduction: str = "mean"):
        self.reduction = validate.choice("reduction", reduction, REDUCTIONS)
        self.options = {"reduction": self.reduction}

    def scale(self, batch: int) -> float:
        """1/N for the mean over the batch, 1 for the sum."""
        return 1.0 / batch if self.reduction == "mean" else 1.0


class MSE(_Loss):
    """Squared error on the network's output ŷ (already activated).

    Forward:   C = s · Σ_n ½ Σ_k (ŷ_nk − y_nk)²       (N, K), (N, K) -> scalar;  s = 1/N (mean) or 1 (sum)
    Backward:  dŷ = dC · s · (ŷ − y)                   (N, K)
    """

    kind = "mse"
    targets = staticmethod(validate.targets)

    def explain(self, a):
        return Text((f"C = s · Σ_n ½ ‖{a}[n] − y[n]‖²",), (f"g_{a} = s ({a} − y)",), (f"dC/d{a} = s ({a} − y)",))

    def forward(self, yhat, y):
        s = self.scale(len(yhat))
        r = yhat - y
        return s * 0.5 * np.sum(r * r), (r, s)

    def backward(self, cache, dloss=1.0):
        r, s = cache
        return dloss * s * r, {}

    def predict(self, yhat):
        return yhat


def log_softmax(z):
    """log softmax(z) along the last axis, shifted by the row maximum so that no exponential overflows."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


class SoftmaxCrossEntropy(_Loss):
    """Softmax and cross-entropy fused, on the logits z (the output layer's pre-activation).

    Forward:   ŷ = softmax(z),  J = s · Σ_n −Σ_k y_nk log ŷ_nk     (N, K), (N, K) -> scalar
    Backward:  dz = dJ · s · (ŷ − y)                              (N, K)

    Why fused: the softmax Jacobian diag(ŷ) − ŷŷᵀ (K, K) times the cross-entropy gradient −y/ŷ
    collapses to ŷ·Σ_k y_k − y = ŷ − y for rows of y that sum to 1. Computing log ŷ as
    z − max z − log Σ exp(z − max z) keeps it finite for logits far beyond where log(softmax(z))
    would take the log of an underflowed 0 (tested at ±1e4; only differences of logits that
    overflow the dtype itself, ~1e308 in float64, are out of reach).
    """

    kind = "softmax_cross_entropy"
    targets = staticmethod(validate.class_targets)
    min_outputs = 2  # a softmax over one class is the constant 1

    def explain(self, a):
        return Text((f"ŷ = softmax({a}) over each row;  C = −s · Σ_n Σ_k y_nk log ŷ_nk",),
                    (f"g_{a} = s (ŷ − y)    (softmax and cross-entropy fused)",),
                    (f"dŷ/d{a} = diag(ŷ) − ŷ ŷᵀ per example (softmax is not elementwise); with dC/dŷ = −s y / ŷ the "
                     f"product is s (ŷ Σ_k y_k − y) = s (ŷ − y) where y sums to 1",))

    def forward(self, z, y):
        s = self.scale(len(z))
        logp = log_softmax(z)
        return -s * np.sum(y * logp), (np.exp(logp), y, s)

    def backward(self, cache, dloss=1.0):
        yhat, y, s = cache
        return dloss * s * (yhat - y), {}

    def predict(self, z):
        return np.exp(log_softmax(z))


def log_sigmoid(z):
    """log σ(z) = −(max(−z, 0) + log(1 + e^{−|z|})), finite for every finite z."""
    return -(np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))))


class SigmoidBinaryCrossEntropy(_Loss):
    """Sigmoid and binary cross-entropy fused, on the logits z: K independent yes/no outputs.

    Forward:   ŷ = σ(z),  J = s · Σ_n Σ_k −[y log ŷ + (1 − y) log(1 − ŷ)]       (N, K), (N, K) -> scalar
    Backward:  dz = dJ · s · (ŷ − y)                                           (N, K)

    Why fused: σ′(z) = ŷ(1 − ŷ) cancels the denominators of −y/ŷ + (1 − y)/(1 − ŷ), leaving ŷ − y.
    With log ŷ = log σ(z) and log(1 − ŷ) = log σ(−z) computed stably, the loss is finite for any
    finite logit, where log(σ(z)) would take the log of an underflowed 0 beyond |z| ≈ 745.
    """

    kind = "sigmoid_binary_cross_entropy"
    targets = staticmethod(validate.binary_targets)

    def explain(self, a):
        return Text((f"ŷ = σ({a});  C = s · Σ_n Σ_k −[y log ŷ + (1 − y) log(1 − ŷ)]",),
                    (f"g_{a} = s (ŷ − y)    (sigmoid and binary cross-entropy fused)",),
                    (f"dŷ/d{a} = diag(ŷ(1 − ŷ)), dC/dŷ = s (−y/ŷ + (1 − y)/(1 − ŷ)): σ′ cancels the denominators",))

    def forward(self, z, y):
        s = self.scale(len(z))
        loss = -s * np.sum(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
        return loss, (sigmoid(z), y, s)

    def backward(self, cache, dloss=1.0):
        yhat, y, s = cache
        return dloss * s * (yhat - y), {}

    def predict(self, z):
        return sigmoid(z)


class MarginsAwayFromTheHinge:
    """The SVM's test domain: every margin s_j − s_y + 1 (j ≠ y) at least `margin` (relative to the largest
    score) away from 0, the hinge's kink, where two correct engines may take different sides."""

    def __init__(self, margin=1e-3):
        self.margin = margin

    def inside(self, z, y) -> bool:
        margins = z - np.sum(y * z, axis=-1, keepdims=True) + 1
        gap = self.margin * max(1.0, float(np.max(np.abs(z), initial=0.0)))
        return bool(np.all((np.abs(margins) >= gap) | (y == 1)))


class MulticlassSVM(_Loss):
    """The multiclass SVM (hinge) loss of CS231n, on the scores z (output="identity"); one correct class y each.

    Forward:   L = s · Σ_n Σ_{j ≠ y_n} max(0, z_nj − z_ny + 1)          (N, K) -> scalar
    Backward:  dz_nj = s · 1[margin_nj > 0]  for j ≠ y_n,   dz_ny = −s · #{j ≠ y_n : margin_nj > 0}
    Each positive margin pushes its class's score up and the correct score down by the same amount:
    the correct class's gradient is minus the count of the classes that beat its margin.
    """

    kind = "svm"
    targets = staticmethod(validate.label_targets)
    min_outputs = 2
    domain = MarginsAwayFromTheHinge()

    def explain(self, a):
        margin = f"m_nj = {a}[n, j] − {a}[n, y_n] + 1"
        return Text((f"C = s · Σ_n Σ_j≠y_n max(0, m_nj),  {margin}",),
                    (f"g_{a}[n, j] = s · 1[m_nj > 0] for j ≠ y_n;  g_{a}[n, y_n] = −s · #{{j ≠ y_n : m_nj > 0}}",),
                    (f"dC/d{a}: the hinge's derivative is a step, 0 or 1 for each margin, so the gradient is piecewise "
                     f"constant in {a}, defined everywhere but on the kinks m_nj = 0",))

    def forward(self, z, y):
        s = self.scale(len(z))
        margins = np.maximum(0, z - np.sum(y * z, axis=-1, keepdims=True) + 1) * (1 - y)
        return s * np.sum(margins), (margins > 0, y, s)

    def backward(self, cache, dloss=1.0):
        positive, y, s = cache
        positive = positive.astype(y.dtype)
        return dloss * s * (positive - y * positive.sum(axis=-1, keepdims=True)), {}

    def predict(self, z):
        return z


LOSSES = {cls.kind: cls for cls in (MSE, SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, MulticlassSVM)}


class L2:
    """Weight decay: λ · Σ_l ‖W_l‖²_F added to the loss, whatever the reduction; biases are not penalised.

    Forward:   P = λ Σ_l Σ_ij W_l,ij²             -> scalar
    Backward:  dW_l = dP · 2 λ W_l                 same shape as W_l
    """

    kind = "l2"

    def __init__(self, strength: float):
        self.strength = validate.nonnegative("l2", strength)
        self.options = {"strength": self.strength}

    def explain(self, keys):
        return Text((f"C += λ Σ ‖W‖²_F over {', '.join(keys)},  λ = {self.strength:g} (biases not penalised)",),
                    (f"dW += 2λ W for each of {', '.join(keys)}",), ())

    def forward(self, weights):
        return self.strength * sum(np.sum(W * W) for W in weights.values()), weights

    def backward(self, cache, dloss=1.0):
        return {key: dloss * 2 * self.strength * W for key, W in cache.items()}


PENALTIES = {cls.kind: cls for cls in (L2,)}
