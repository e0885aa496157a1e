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
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import Activation, Dense, sigmoid
from .losses import MSE, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, log_softmax


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
    raise TypeError(f"no explicit Jacobian for loss {loss.kind!r}")


def jacobians(net, params, x, y) -> list[StepJacobians]:
    """Every step's Jacobians at one example x (D,), in forward order, the loss last."""
    params, x = net._inputs(params, x)
    if x.ndim != 1:
        raise ValueError(f"x has shape {x.shape}; the explicit-Jacobian view takes one example, shape ({net.sizes[0]},)")
    y = net.loss_layer.targets(y, x, net.sizes[-1])
    steps, h, counts = [], x, {}
    for layer, keys in net.layers:
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
        own = {local: params[key] for local, key in keys.items()}
        out, _ = layer.forward(own, h[None])
        out = out[0]
        if isinstance(layer, Dense):
            jac = dense_jacobians(layer, own["W"], own["b"], h)
        elif isinstance(layer, Activation):
            jac = {"x": activation_jacobian(layer, h)}
        else:
            raise TypeError(f"no explicit Jacobian for layer {layer.kind!r}")
        steps.append(StepJacobians(f"{layer.kind} {counts[layer.kind]}", layer, keys, own, h, out, jac))
        h = out
    loss, _ = net.loss_layer.forward(h[None], y[None])
    steps.append(StepJacobians("loss", net.loss_layer, {}, {}, h, np.asarray(loss),
                               loss_jacobians(net.loss_layer, h, y, net.loss_layer.scale(1))))
    return steps


def chain(net, steps: list[StepJacobians]) -> dict[str, np.ndarray]:
    """The chain rule, multiplied out: g = dC/dz_L, then for each step backwards
    dC/dθ = g · dz/dθ (contracting the output index) and g ← g · dz/dx."""
    *layers, loss = steps
    g = loss.jacobians["z"]
    grads, values = {}, {}
    for step in reversed(layers):
        for local, key in step.keys.items():
            grads[key] = np.tensordot(g, step.jacobians[local], axes=1)
            values[key] = step.params[local]
        g = g @ step.jacobians["x"]
    for penalty, keys in net.penalties:  # d(λ Σ‖W‖²)/dW = 2 λ W, added to each weight's gradient
        for key in keys.values():
            grads[key] = grads[key] + 2 * penalty.strength * values[key]
    return {**{key: grads[key] for key in net.param_shapes}, "x": g}
