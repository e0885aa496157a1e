"""The explicit-Jacobian view of backpropagation, for one example: every step's full Jacobian as
a dense matrix or tensor, multiplied out by the chain rule. Slow and literal on purpose: it is
what the vectorised backward (layers.py) computes without ever building these arrays.

    steps = jacobians(net, params, x, y)        # one example: x (D,), y (K,) or a label
    grads = chain(net, steps)                   # the same dict as net.loss_and_grads(params, x, y)[1]

Every Jacobian is ∂(step output)/∂(step input) with the output's index first:
    dense    dz/dx  (H, D)     dz/dW  (H, H, D) column layout, (H, D, H) row layout     dz/db  (H, H)
    f(z)     da/dz = diag(f′(z))  (H, H)
    loss     dC/dz  (K,)   (for the fused losses also the pieces: softmax's diag(ŷ) − ŷŷᵀ and −y/ŷ)
The chain rule is then a row vector g = dC/d(output) pulled back step by step:
    g ← g · dz/dx,   dC/dW = Σ_i g_i dz_i/dW  (a contraction of g with the tensor's first index).

Any other layer's Jacobian is built from its own backward, one output element at a time (row k is
the backward of the k-th unit vector): the literal matrix that its vectorised backward applies.
Batch norm and layer norm are written out: ∂y_i/∂x_j = γ/σ (1[i = j] − 1/m − x̂_i x̂_j / m).

Given a batch x (N, ...) instead of one example, every Jacobian is over the whole batch, of shape
output.shape + input.shape: the only view there is for batch norm, whose every output depends on
every example of the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import Activation, Dense, sigmoid
from .losses import MSE, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, log_softmax
from .norm import BatchNorm, LayerNorm, normalize


class StepJacobians(NamedTuple):
    """One step of the network at one example: what it is, its input and output, and its Jacobians."""

    name: str  # "dense 1", "sigmoid 1", "loss", ...
    layer: object
    keys: dict  # {local param name: params key}
    params: dict  # {local param name: value}
    input: np.ndarray
    output: np.ndarray
    jacobians: dict  # {"x": ..., "W": ..., "b": ...} for a layer; {"z": dC/dz, ...pieces} for the loss


def dense_jacobians(layer: Dense, W, b, x):
    """dz/dx, dz/dW, dz/db for z = W x + b (column) or z = x W + b (row), one example x (D,)."""
    eye = np.eye(layer.fan_out, dtype=x.dtype)
    if layer.layout == "column":
        dz_dx = W  # z_i = Σ_k W_ik x_k
        dz_dW = np.einsum("ij,k->ijk", eye, x)  # ∂z_i/∂W_jk = 1[i = j] x_k   (H, H, D)
    else:
        dz_dx = W.T  # z_i = Σ_k x_k W_ki
        dz_dW = np.einsum("k,ij->ikj", x, eye)  # ∂z_i/∂W_kj = x_k 1[i = j]   (H, D, H)
    return {"x": dz_dx, "W": dz_dW, "b": eye}


def activation_jacobian(layer: Activation, z):
    """diag(f′(z)): an elementwise function's Jacobian is diagonal."""
    return np.diag(layer.derivative(z, layer.value(z)))


def loss_jacobians(loss, z, y, scale: float):
    """dC/dz for one example (K,), with the explicit pieces of the fused losses."""
    if isinstance(loss, SoftmaxCrossEntropy):
        yhat = np.exp(log_softmax(z))
        dsoftmax = np.diag(yhat) - np.outer(yhat, yhat)  # dŷ/dz (K, K)
        dce = -y / yhat  # dC/dŷ (K,)
        return {"z": scale * dce @ dsoftmax, "dŷ/dz": dsoftmax, "dC/dŷ": scale * dce}
    if isinstance(loss, SigmoidBinaryCrossEntropy):
        yhat = sigmoid(z)
        dsigmoid = np.diag(yhat * (1 - yhat))  # dŷ/dz (K, K)
        dbce = -y / yhat + (1 - y) / (1 - yhat)  # dC/dŷ (K,)
        return {"z": scale * dbce @ dsigmoid, "dŷ/dz": dsigmoid, "dC/dŷ": scale * dbce}
    if isinstance(loss, MSE):
        return {"z": scale * (z - y)}
    _, cache = loss.forward(z[None], y[None])  # a loss with no written-out pieces: its gradient, by its backward
    return {"z": loss.backward(cache, 1.0)[0][0]}


def by_backward(layer, params, x):
    """The layer's Jacobians at the batch x, row by row from its own backward: for each output element k,
    backward(e_k) gives ∂y_k/∂x and ∂y_k/∂θ. Shapes output.shape + input.shape (and + param shape)."""
    out, cache = layer.forward(params, x)
    rows = {key: np.empty(out.shape + np.shape(v), dtype=x.dtype) for key, v in {"x": x, **params}.items()}
    for k in np.ndindex(out.shape):
        unit = np.zeros_like(out)
        unit[k] = 1
        dx, grads = layer.backward(cache, unit)
        for key, grad in {"x": dx, **{key: grads.get(key) for key in params}}.items():
            expected = rows[key].shape[len(out.shape):]
            if grad is None:
                raise ValueError(f"{layer!r}.backward returned no gradient for {key} (it returned {sorted(grads)})")
            if np.shape(grad) != expected:
                raise ValueError(f"{layer!r}.backward returned d{key} of shape {np.shape(grad)} where {key} has shape "
                                 f"{expected}: a gradient has the shape of what it is the gradient of")
            rows[key][k] = grad
    return rows


def normalization_jacobians(layer, params, x):
    """∂y/∂x, ∂y/∂γ, ∂y/∂β of batch norm or layer norm at the batch x, written out:
    ∂y_i/∂x_j = γ/σ (1[i = j] − 1/m − x̂_i x̂_j / m) for i, j in one group (the m values of one mean), else 0."""
    axes = layer.axes(x.ndim)
    xhat, inv = normalize(x, axes, layer.eps)
    gamma = layer._channel(params["gamma"], x.ndim)
    flat = x.size
    group = _groups(x.shape, axes)  # which mean each element belongs to
    same = group.reshape(-1, 1) == group.reshape(1, -1)
    m = flat // (group.max() + 1)
    eye = np.eye(flat, dtype=x.dtype)
    xh = xhat.reshape(-1)
    scale = np.broadcast_to(gamma * inv, x.shape).reshape(-1, 1)
    dx = scale * same * (eye - 1 / m - np.outer(xh, xh) / m)
    features = np.broadcast_to(layer._channel(np.arange(layer.features), x.ndim), x.shape).reshape(-1)
    onehot = (features[:, None] == np.arange(layer.features)[None]).astype(x.dtype)
    return {"x": dx.reshape(x.shape + x.shape), "gamma": (onehot * xh[:, None]).reshape(x.shape + (layer.features,)),
            "beta": onehot.reshape(x.shape + (layer.features,))}


def _groups(shape, axes):
    """For each element of an array of `shape`, the index of its group: the elements that share one mean over `axes`."""
    kept = [n if i not in axes else 1 for i, n in enumerate(shape)]
    ids = np.arange(int(np.prod(kept))).reshape(kept)
    return np.broadcast_to(ids, shape).reshape(-1)


EXPLICIT = {BatchNorm: normalization_jacobians, LayerNorm: normalization_jacobians}


def layer_jacobians(layer, params, x):
    """A layer's Jacobians at the batch x: written out where reference.jacobian has the formula, else from its backward."""
    for cls, build in EXPLICIT.items():
        if isinstance(layer, cls):
            return build(layer, params, x)
    return by_backward(layer, params, x)


def one_example(jac, ndim):
    """Jacobians of a batch of one with the batch axes taken off: of the output (ndim axes after it) and of x."""
    return {k: v[(0,) + (slice(None),) * ndim + ((0,) if k == "x" else ())] for k, v in jac.items()}


def jacobians(net, params, x, y) -> list[StepJacobians]:
    """Every step's Jacobians, in forward order, the loss last: at one example (for a network that takes one),
    or over the whole batch x (N, ...)."""
    params, x = net._inputs(params, x)
    single = net.single(x)
    if single and net.min_batch > 1:
        raise ValueError(f"x is one example; {net!r} normalizes over the batch, so each output depends on every "
                         f"example and its Jacobian is over the batch: pass x of shape (N, ...) with N ≥ {net.min_batch}")
    y = net.targets(y, x)
    steps, h, counts = [], x, {}
    for layer, keys in net.layers:
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
        own = {local: params[key] for local, key in keys.items()}
        out = layer.forward(own, h[None] if single else h)[0]
        out = out[0] if single else out
        if single and isinstance(layer, Dense):
            jac = dense_jacobians(layer, own["W"], own["b"], h)
        elif single and isinstance(layer, Activation) and h.ndim == 1:
            jac = {"x": activation_jacobian(layer, h)}
        elif single:  # one example as a batch of one
            jac = one_example(layer_jacobians(layer, own, h[None]), out.ndim)
        else:
            jac = layer_jacobians(layer, own, h)
        steps.append(StepJacobians(f"{layer.kind} {counts[layer.kind]}", layer, keys, own, h, out, jac))
        h = out
    loss_layer = net.loss_layer
    if single:
        loss, _ = loss_layer.forward(h[None], y[None])
        jac = loss_jacobians(loss_layer, h, y, loss_layer.scale(1))
    else:
        loss, cache = loss_layer.forward(h, y)
        jac = {"z": loss_layer.backward(cache, 1.0)[0]}
    steps.append(StepJacobians("loss", loss_layer, {}, {}, h, np.asarray(loss), jac))
    return steps


def chain(net, steps: list[StepJacobians]) -> dict[str, np.ndarray]:
    """The chain rule, multiplied out: g = dC/dz_L, then for each step backwards
    dC/dθ = g · dz/dθ (contracting the output index) and g ← g · dz/dx."""
    *layers, loss = steps
    g = loss.jacobians["z"]
    grads, values = {}, {}
    for step in reversed(layers):
        for local, key in step.keys.items():
            grads[key] = np.tensordot(g, step.jacobians[local], axes=g.ndim)
            values[key] = step.params[local]
        g = np.tensordot(g, step.jacobians["x"], axes=g.ndim)
    for penalty, keys in net.penalties:  # d(λ Σ‖W‖²)/dW = 2 λ W, added to each weight's gradient
        for key in keys.values():
            grads[key] = grads[key] + 2 * penalty.strength * values[key]
    return {**{key: grads[key] for key in net.param_shapes}, "x": g}
