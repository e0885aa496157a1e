"""Checker: a framework-free numerical oracle.

Complex-step differentiation where every op of the network is analytic: for real f,
    f′(x)·v = Im f(x + i h v) / h  + O(h²),
with no subtraction, so h = 1e-30 gives the derivative exact to rounding. Ops that are not
complex-analytic fall back to central differences, (f(x + h v) − f(x − h v)) / 2h, accurate to
about eps^(2/3). Every op of today's networks is analytic, so the fallback is exercised only by
tests/test_oracle.py, against the complex step; it is there for the first op that is not.

Every value is computed in float64 / complex128 at the given point, even for float32 inputs,
so the oracle is the float64 truth against which float32 results are judged.

The forward pass is written here, in plain NumPy, independently of reference/.
"""

import numpy as np

from .walk import apply, network_loss

COMPLEX_STEP = 1e-30


def _logsumexp(z):
    c = z.real.max(axis=-1, keepdims=True)  # any constant shift is exact; the real max keeps exp finite
    return c[..., 0] + np.log(np.sum(np.exp(z - c), axis=-1))


def _reduce(per_example, reduction):
    return np.mean(per_example) if reduction == "mean" else np.sum(per_example)


def softmax_cross_entropy(z, y, reduction):
    if y.dtype.kind in "iu":
        y = np.eye(z.shape[-1])[y]
    return _reduce(_logsumexp(z) * y.sum(axis=-1) - np.sum(y * z, axis=-1), reduction)


OPS = {
    "dense": lambda x, W, b, layout: (x @ W if layout == "row" else x @ W.T) + b,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "mse": lambda yhat, y, reduction: _reduce(0.5 * np.sum((yhat - y) ** 2, axis=-1), reduction),
    "softmax_cross_entropy": softmax_cross_entropy,
}
# Kinds whose op above is complex-analytic, so the complex step applies to networks made only of them.
ANALYTIC = {"dense", "sigmoid", "mse", "softmax_cross_entropy"}


def directional(f, inputs, key, direction, method="complex"):
    """The derivative of the scalar f(**inputs) with respect to inputs[key], along `direction`."""
    point = np.asarray(inputs[key], dtype=np.float64)
    if method == "complex":
        moved = {**inputs, key: point + 1j * COMPLEX_STEP * direction}
        return np.imag(f(**moved)) / COMPLEX_STEP
    h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, float(np.max(np.abs(point))))
    ahead, behind = ({**inputs, key: point + s * h * direction} for s in (1, -1))
    return (f(**ahead) - f(**behind)) / (2 * h)


def gradient(f, inputs, keys, method="complex"):
    """df/d inputs[key] for each key, one directional derivative per element along the unit basis."""
    grads = {}
    for key in keys:
        shape = np.shape(inputs[key])
        basis = np.eye(int(np.prod(shape)))
        grads[key] = np.array([directional(f, inputs, key, e.reshape(shape), method) for e in basis]).reshape(shape)
    return grads


def method_for(kinds):
    return "complex" if set(kinds) <= ANALYTIC else "central"


def _float64(arrays):
    return {k: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
            for k, v in arrays.items()}


def loss_function(spec):
    """The network's loss as a function of keyword arrays x, y and the params, for `directional`."""

    def loss(x, y, **params):
        return network_loss(spec, OPS, params, x, y)

    return loss


def loss_and_grads(spec, params, x, y, method=None):
    """The float64 loss and gradients with respect to params and x at the given point."""
    method = method or method_for([s.kind for s in (*spec.layers, spec.loss)])
    inputs = _float64({**params, "x": x, "y": y})
    loss = loss_function(spec)
    return float(loss(**inputs)), gradient(loss, inputs, [*params, "x"], method)


def vjp(step, inputs, dy, y=None, method=None):
    """dy pulled back through one layer (or loss): the gradient of Σ dy ⊙ layer(inputs)."""
    method = method or method_for([step.kind])
    inputs = _float64(inputs)
    target = None if y is None else _float64({"y": y})["y"]

    def pulled(x, **params):
        return np.sum(dy * apply(step, OPS, x, params, target))

    return gradient(pulled, inputs, list(inputs), method)
