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

REDUCTIONS = ("mean", "sum")


class _Loss:
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

    def forward(self, z, y):
        s = self.scale(len(z))
        logp = log_softmax(z)
        return -s * np.sum(y * logp), (np.exp(logp), y, s)

    def backward(self, cache, dloss=1.0):
        yhat, y, s = cache
        return dloss * s * (yhat - y), {}

    def predict(self, z):
        return np.exp(log_softmax(z))


LOSSES = {cls.kind: cls for cls in (MSE, SoftmaxCrossEntropy)}
