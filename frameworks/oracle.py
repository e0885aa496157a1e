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

The gradient with respect to x takes one direction per element of one example, not of the batch,
where every layer treats each example apart (ROWWISE: every layer but batch norm): then the loss is
a sum of one term per example, ℓ_n depending on x_n alone, and a step along the same element of
every example at once moves each term by its own example's derivative, read off from that term.
The result is the same as from a direction per element of the batch (tests/test_oracle.py checks
it), for N times fewer directions: 200 to 10 on the CS224n network 20×(10-5-10).
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


# Every array carries a leading axis of M directions (1 for an unperturbed input), so that one
# evaluation gives all M directional derivatives. Batches are (M, N, ...); a loss is (M,).
def _reduce(per_example, reduction):
    if reduction == "none":  # each example's term, (M, N): the gradient along every example at once (ROWWISE)
        return per_example
    return np.mean(per_example, axis=-1) if reduction == "mean" else np.sum(per_example, axis=-1)


def _total(a):
    return np.sum(a, axis=tuple(range(1, np.ndim(a))))


def softmax_cross_entropy(z, y, reduction):
    if y.dtype.kind in "iu":
        y = np.eye(z.shape[-1])[y]
    return _reduce(_logsumexp(z) * y.sum(axis=-1) - np.sum(y * z, axis=-1), reduction)


def sigmoid_binary_cross_entropy(z, y, reduction):
    # −[y log σ(z) + (1 − y) log σ(−z)] = y softplus(−z) + (1 − y) softplus(z)
    return _reduce(np.sum(y * _softplus(-z) + (1 - y) * _softplus(z), axis=-1), reduction)


def svm(z, y, reduction):
    if y.dtype.kind in "iu":
        y = np.eye(z.shape[-1])[y]
    margins = _maximum(z - np.sum(y * z, axis=-1, keepdims=True) + 1, 0) * (1 - y)
    return _reduce(np.sum(margins, axis=-1), reduction)


def _windows(x, kernel, stride):
    """x (M, N, C, H, W) as its windows (M, N, C, H′, W′, KH·KW), the oracle's own reading of the stride."""
    m, n, c, h, w = x.shape
    rows, cols = (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1
    out = np.empty((m, n, c, rows, cols, kernel[0] * kernel[1]), dtype=x.dtype)
    for i in range(rows):
        for j in range(cols):
            patch = x[..., i * stride[0]:i * stride[0] + kernel[0], j * stride[1]:j * stride[1] + kernel[1]]
            out[:, :, :, i, j] = patch.reshape(m, n, c, -1)
    return out


def conv2d(x, W, b, stride, padding):
    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    cols = _windows(xp, W.shape[-2:], stride)  # (M, N, C, H′, W′, KH·KW)
    weights = np.broadcast_to(W.reshape(*W.shape[:3], -1), (max(len(W), len(x)), *W.shape[1:3], cols.shape[-1]))
    return np.einsum("mnchwk,mfck->mnfhw", np.broadcast_to(cols, (len(weights), *cols.shape[1:])), weights) \
        + b[:, None, :, None, None]


def max_pool2d(x, kernel, stride):
    cols = _windows(x, kernel, stride)
    winner = np.argmax(np.real(cols), axis=-1)  # the branch the real part takes; the imaginary step follows it
    return np.take_along_axis(cols, winner[..., None], axis=-1)[..., 0]


def _normalize(x, gamma, beta, eps, axes):
    """(x − mean) / √(var + ε) γ + β over `axes`, in complex arithmetic (no conjugate: analytic in x)."""
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=axes, keepdims=True)
    def per_feature(v):  # (M, D) -> (M, 1, D, 1, 1), against x (M, N, D, H, W)
        return v.reshape(len(v), 1, -1, *[1] * (x.ndim - 3))

    return (x - mean) / np.sqrt(var + eps) * per_feature(gamma) + per_feature(beta)


def dropout(x, keep, seed):
    # the mask every checker draws: NumPy's generator from the seed, at the batch's shape (reference.Dropout)
    return x * (np.random.default_rng(seed).random(x.shape[1:]) < keep) / keep


OPS = {
    "dense": lambda x, W, b, layout: (x @ W if layout == "row" else x @ np.swapaxes(W, -1, -2)) + b[:, None, :],
    "conv2d": conv2d,
    "max_pool2d": max_pool2d,
    "avg_pool2d": lambda x, kernel, stride: np.mean(_windows(x, kernel, stride), axis=-1),
    "flatten": lambda x: x.reshape(*x.shape[:2], -1),
    "batch_norm": lambda x, gamma, beta, eps: _normalize(x, gamma, beta, eps, (1,) if x.ndim == 3 else (1, 3, 4)),
    "layer_norm": lambda x, gamma, beta, eps: _normalize(x, gamma, beta, eps, (-1,)),
    "dropout": dropout,
    "svm": svm,
    "mse": lambda yhat, y, reduction: _reduce(0.5 * np.sum((yhat - y) ** 2, axis=-1), reduction),
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "l2": lambda strength, **weights: strength * sum(_total(W * W) for W in weights.values()),
}


# The layers that compute each example from that example alone (the batch is axis 1, after the directions),
# so that the derivative with respect to x can be taken along every example at once; an elementwise layer
# (one with a formula) is one too. Batch norm, whose statistics mix the examples, is not; nor is any kind
# added later until it is listed here. (A formula is trusted to be elementwise: tests/test_oracle.py compares every
# registered layer's gradient along every example at once with the gradient along each element.)
ROWWISE = frozenset({"dense", "conv2d", "max_pool2d", "avg_pool2d", "flatten", "layer_norm", "dropout"})
# The losses that sum one term per example (their reduction "none" gives the terms; "mean" divides by N).
PER_EXAMPLE = frozenset({"mse", "svm", "softmax_cross_entropy", "sigmoid_binary_cross_entropy"})


def rowwise(step) -> bool:
    return step.kind in ROWWISE or (step.kind not in OPS and bool(step.formula))


def op_for(step):
    """The oracle's op for a step: its own entry, else the step's formula, else a clear error."""
    if step.kind in OPS:
        return OPS[step.kind]
    if step.formula:
        return formula_op(step.formula)
    raise KeyError(f"the oracle has no op for {step.kind!r}: add it to frameworks.oracle.OPS, or declare "
                   f"the layer's `formula` if it is elementwise")


CHUNK = 512  # directions per evaluation: bounds the memory of one batched forward


def _along(f, inputs, key, directions, method):
    """d/dt f(inputs[key] + t v) for each v in `directions` (M, *shape), in evaluations of up to CHUNK
    directions at once. f takes arrays with a leading axis of directions and returns one value each."""
    point = np.asarray(inputs[key], dtype=np.float64)
    fixed = {k: np.asarray(v)[None] for k, v in inputs.items() if k != key}
    out = []
    for start in range(0, len(directions), CHUNK):
        v = directions[start:start + CHUNK]
        if method == "complex":
            out.append(np.imag(f(**fixed, **{key: point + 1j * COMPLEX_STEP * v})) / COMPLEX_STEP)
        else:
            h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, float(np.max(np.abs(point), initial=0.0)))
            out.append((f(**fixed, **{key: point + h * v}) - f(**fixed, **{key: point - h * v})) / (2 * h))
    return np.concatenate(out) if out else np.zeros(0)


def along_rows(terms, inputs, key, method="complex"):
    """df/d inputs[key] for f = Σ_n terms(**inputs)[n], where term n depends on example n of inputs[key] (its
    axis 0) alone: one direction per element of one example, applied to every example at once."""
    shape = np.shape(inputs[key])
    per_example = int(np.prod(shape[1:]))
    basis = np.broadcast_to(np.eye(per_example).reshape(per_example, 1, *shape[1:]), (per_example, *shape))
    return np.swapaxes(_along(terms, inputs, key, basis, method), 0, 1).reshape(shape)  # (E, N) -> (N, E)


def directional(f, inputs, key, direction, method="complex"):
    """The derivative of the scalar f(**inputs) with respect to inputs[key], along `direction`."""
    return float(_along(f, inputs, key, np.asarray(direction, dtype=np.float64)[None], method)[0])


def gradient(f, inputs, keys, method="complex"):
    """df/d inputs[key] for each key: every unit basis direction of that input in one batched evaluation."""
    grads = {}
    for key in keys:
        shape = np.shape(inputs[key])
        basis = np.eye(int(np.prod(shape))).reshape(-1, *shape)
        grads[key] = _along(f, inputs, key, basis, method).reshape(shape)
    return grads


def _float64(arrays):
    return {k: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
            for k, v in arrays.items()}


def loss_function(spec):
    """The network's loss as a function of keyword arrays x, y and the params, each with a leading axis
    of directions (x as (M, N, D)): one loss per direction, for `directional` and `gradient`."""

    def loss(x, y, **params):
        return network_loss(spec, op_for, params, x, y)

    return loss


def _example_terms(spec):
    """The loss's terms of each example, (M, N), summing to the loss but for its penalties (which do not
    depend on x); None unless every layer is ROWWISE and the loss PER_EXAMPLE."""
    if not all(rowwise(step) for step in spec.layers) or spec.loss.kind not in PER_EXAMPLE:
        return None
    options = dict(spec.loss.options)
    per_example = spec._replace(loss=spec.loss._replace(options=tuple({**options, "reduction": "none"}.items())),
                                penalties=())

    def terms(x, y, **params):
        t = network_loss(per_example, op_for, params, x, y)
        return t / t.shape[-1] if options.get("reduction") == "mean" else t

    return terms


def _batch(spec, x, y):
    """A single example as a batch of one (the mean over one example is that example's loss)."""
    x, y = np.asarray(x), np.asarray(y)
    return (x[None], y[None]) if x.ndim == len(spec.input_shape) else (x, y)


def loss_and_grads(spec, params, x, y, method="complex", rows=True):
    """The float64 loss and gradients with respect to params and x at the given point. `rows`: the gradient
    with respect to x along every example at once where the network is ROWWISE (False: a direction per
    element of the batch, the same result)."""
    inputs = _inputs(spec, params, x, y)
    loss = loss_function(spec)
    value = float(loss(**{k: v[None] for k, v in inputs.items()})[0])
    return value, {**gradient(loss, inputs, list(params), method), "x": x_gradient(spec, params, x, y, method, rows)}


def x_gradient(spec, params, x, y, method="complex", rows=True):
    """The float64 gradient of the loss with respect to x, along every example at once where the network is
    ROWWISE and `rows`, else along each element of the batch."""
    inputs = _inputs(spec, params, x, y)
    terms = _example_terms(spec) if rows else None
    if terms is None:
        grad = gradient(loss_function(spec), inputs, ["x"], method)["x"]
    else:
        grad = along_rows(terms, inputs, "x", method)
    return grad.reshape(np.shape(x))


def _inputs(spec, params, x, y):
    xb, yb = _batch(spec, x, y)
    return _float64({**params, "x": xb, "y": yb})


def _one(inputs):
    return {k: v[None] for k, v in inputs.items()}


def value(step, inputs, y=None):
    """One step's output at `inputs`, in float64, by the oracle's own op or the step's formula."""
    target = None if y is None else _float64({"y": y})["y"][None]
    return np.asarray(evaluate(step, op_for, _one(_float64(inputs)), target))[0]


def vjp(step, inputs, dy, y=None, method="complex", rows=True, keys=None):
    """dy pulled back through one step: the gradient of Σ dy ⊙ step(inputs) with respect to each of `keys` (all the
    inputs by default). `rows`: with respect to x along every example at once where the step is a ROWWISE layer
    (False: a direction per element of x)."""
    inputs = _float64(inputs)
    target = None if y is None else _float64({"y": y})["y"][None]
    dy = np.asarray(dy, dtype=np.float64)

    def pulled(**inputs):
        return _total(dy * evaluate(step, op_for, inputs, target))

    def terms(**inputs):  # Σ dy ⊙ step(inputs) of each example, (M, N)
        out = dy * evaluate(step, op_for, inputs, target)
        return np.sum(out, axis=tuple(range(2, out.ndim)))

    keys = list(inputs) if keys is None else list(keys)
    by_rows = rows and y is None and "x" in keys and np.ndim(inputs["x"]) >= 2 and rowwise(step)
    grads = gradient(pulled, inputs, [k for k in keys if not (by_rows and k == "x")], method)
    if by_rows:
        grads["x"] = along_rows(terms, inputs, "x", method)
    return {k: grads[k] for k in keys}


def value_and_vjp(step, inputs, dy, y=None, method="complex"):
    """One step's float64 output at `inputs` and dy pulled back through it."""
    return value(step, inputs, y), vjp(step, inputs, dy, y, method)
