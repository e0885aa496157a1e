"""Checker: a framework-free numerical oracle.

Complex-step differentiation: for real f,
    f′(x)·v = Im f(x + i h v) / h  + O(h²),
with no subtraction, so h = 1e-30 gives the derivative exact to rounding. It needs every op to be
complex-analytic where it is evaluated. Ops with a kink (abs, maximum) branch on the real part,
which the imaginary step never moves, so the step sees the analytic piece the point lies on: exact
everywhere but on the kink itself, where the tests do not go (see reference.Domain). Central
differences, (f(x + h v) − f(x − h v)) / 2h, accurate to about eps^(2/3), are the second method;
tests/test_oracle.py checks every op's complex step against them.

Every value is computed in float64 / complex128 at the given point, even for float32 inputs,
so the oracle is the float64 truth against which float32 results are judged.

The forward pass is the oracle's own plain NumPy: dense layers, losses and penalties are written
below. An elementwise layer is computed from the formula its class declares (Step.formula, plain
math text such as "(1 + tanh(z / 2)) / 2"), evaluated with the FUNCTIONS below and nothing else:
the oracle never runs the reference's code, but for an elementwise layer it differentiates the
layer's own statement of its forward. That statement is checked in turn: tests/test_layers.py
compares every layer's forward output, the formula's included, with torch's and JAX's own ops,
over the test inputs and at arguments up to ±1e4.
"""

import functools

import numpy as np

from .walk import evaluate, network_loss

COMPLEX_STEP = 1e-30


# Kinks branch on the real part. At the kink itself both take the branch of z ≥ 0 (as if z were
# 0⁺), so that pieces whose kinks cancel, as in maximum(z, 0) + log1p(exp(-abs(z))), stay consistent.
def _abs(z):
    return np.where(np.real(z) < 0, -z, z)


def _maximum(a, b):
    return np.where(np.real(a) >= np.real(b), a, b)


# What a formula may call: complex-analytic functions, and the two kinks above (z as first argument).
FUNCTIONS = {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "sin": np.sin, "cos": np.cos, "arctan": np.arctan,
    "abs": _abs, "maximum": _maximum,
}


@functools.cache
def formula_op(formula: str):
    """The elementwise function z -> formula, evaluated with FUNCTIONS only."""
    code = compile(formula, f"<formula {formula!r}>", "eval")
    return lambda z: eval(code, {"__builtins__": {}, **FUNCTIONS}, {"z": z})  # a declared formula, with FUNCTIONS only


def _logsumexp(z):
    c = z.real.max(axis=-1, keepdims=True)  # any constant shift is exact; the real max keeps exp finite
    return c[..., 0] + np.log(np.sum(np.exp(z - c), axis=-1))


def _softplus(z):
    """log(1 + e^z), stable for both signs."""
    return _maximum(z, 0) + np.log1p(np.exp(-_abs(z)))


def _reduce(per_example, reduction):
    return np.mean(per_example) if reduction == "mean" else np.sum(per_example)


def softmax_cross_entropy(z, y, reduction):
    if y.dtype.kind in "iu":
        y = np.eye(z.shape[-1])[y]
    return _reduce(_logsumexp(z) * y.sum(axis=-1) - np.sum(y * z, axis=-1), reduction)


def sigmoid_binary_cross_entropy(z, y, reduction):
    # −[y log σ(z) + (1 − y) log σ(−z)] = y softplus(−z) + (1 − y) softplus(z)
    return _reduce(np.sum(y * _softplus(-z) + (1 - y) * _softplus(z), axis=-1), reduction)


OPS = {
    "dense": lambda x, W, b, layout: (x @ W if layout == "row" else x @ W.T) + b,
    "mse": lambda yhat, y, reduction: _reduce(0.5 * np.sum((yhat - y) ** 2, axis=-1), reduction),
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "l2": lambda strength, **weights: strength * sum(np.sum(W * W) for W in weights.values()),
}


def op_for(step):
    """The oracle's op for a step: its own entry, else the step's formula, else a clear error."""
    if step.kind in OPS:
        return OPS[step.kind]
    if step.formula:
        return formula_op(step.formula)
    raise KeyError(f"the oracle has no op for {step.kind!r}: add it to frameworks.oracle.OPS, or declare "
                   f"the layer's `formula` if it is elementwise")


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


def _float64(arrays):
    return {k: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
            for k, v in arrays.items()}


def loss_function(spec):
    """The network's loss as a function of keyword arrays x, y and the params, for `directional`."""

    def loss(x, y, **params):
        return network_loss(spec, op_for, params, x, y)

    return loss


def loss_and_grads(spec, params, x, y, method="complex"):
    """The float64 loss and gradients with respect to params and x at the given point."""
    inputs = _float64({**params, "x": x, "y": y})
    loss = loss_function(spec)
    return float(loss(**inputs)), gradient(loss, inputs, [*params, "x"], method)


def value(step, inputs, y=None):
    """One step's output at `inputs`, in float64, by the oracle's own op or the step's formula."""
    target = None if y is None else _float64({"y": y})["y"]
    return np.asarray(evaluate(step, op_for, _float64(inputs), target))


def vjp(step, inputs, dy, y=None, method="complex"):
    """dy pulled back through one step: the gradient of Σ dy ⊙ step(inputs)."""
    inputs = _float64(inputs)
    target = None if y is None else _float64({"y": y})["y"]

    def pulled(**inputs):
        return np.sum(dy * evaluate(step, op_for, inputs, target))

    return gradient(pulled, inputs, list(inputs), method)
