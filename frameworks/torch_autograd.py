"""Checker: PyTorch autograd on the network built from torch's own ops."""

import numpy as np
import torch
import torch.nn.functional as F

from .walk import evaluate, network_loss


def _reduce(per_example, reduction):
    return per_example.mean() if reduction == "mean" else per_example.sum()


def mse(yhat, y, reduction):
    return _reduce(0.5 * ((yhat - y) ** 2).sum(dim=-1), reduction)


def sigmoid_binary_cross_entropy(z, y, reduction):
    # summed over the K outputs of each example, then reduced over the batch like every loss here
    return _reduce(F.binary_cross_entropy_with_logits(z, y, reduction="none").sum(dim=-1), reduction)


def svm(z, y, reduction):
    # multi_margin_loss divides each example's Σ_{j≠y} max(0, 1 − z_y + z_j) by the K classes; CS231n's does not
    labels = y if not y.is_floating_point() else y.argmax(dim=-1)
    return F.multi_margin_loss(z, labels, reduction=reduction) * z.shape[-1]


def dropout(x, keep, seed):
    # the mask every checker draws: NumPy's generator from the seed, at the batch's shape (reference.Dropout)
    mask = np.random.default_rng(seed).random(tuple(x.shape)) < keep
    return x * torch.from_numpy(mask).to(x.dtype) / keep


OPS = {
    # torch.nn.Linear keeps W as (out, in): the column layout; the row layout passes Wᵀ.
    "dense": lambda x, W, b, layout: F.linear(x, W if layout == "column" else W.T, b),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
    "softplus": lambda z: torch.logaddexp(z, torch.zeros_like(z)),
    "conv2d": lambda x, W, b, stride, padding: F.conv2d(x, W, b, stride=stride, padding=padding),
    "max_pool2d": lambda x, kernel, stride: F.max_pool2d(x, kernel, stride),
    "avg_pool2d": lambda x, kernel, stride: F.avg_pool2d(x, kernel, stride),
    "flatten": lambda x: torch.flatten(x, 1),
    # training mode, no running statistics: the batch's mean and biased variance, per feature or channel
    "batch_norm": lambda x, gamma, beta, eps: F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps),
    "layer_norm": lambda x, gamma, beta, eps: F.layer_norm(x, gamma.shape, gamma, beta, eps),
    "dropout": dropout,
    "mse": mse,
    # Integer labels or probability rows, batched (N, K) or a single (K,) example: cross_entropy takes all.
    "softmax_cross_entropy": lambda z, y, reduction: F.cross_entropy(z, y, reduction=reduction),
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "svm": svm,
    "l2": lambda strength, **weights: strength * sum(torch.sum(W**2) for W in weights.values()),
}


def _tensors(arrays):
    return {k: torch.from_numpy(np.array(v)).requires_grad_(v.dtype.kind == "f") for k, v in arrays.items()}


def _target(y):
    y = np.asarray(y)
    return torch.from_numpy(y.astype(np.int64) if y.dtype.kind in "iu" else y.copy())


def loss_and_grads(spec, params, x, y):
    """The loss and its gradients with respect to params and x, as NumPy arrays in the inputs' dtype."""
    single = np.ndim(x) == len(spec.input_shape)  # one example: a batch of one, as the reference runs it
    inputs = _tensors({**params, "x": np.asarray(x)[None] if single else x})
    target = _target(np.asarray(y)[None] if single else y)
    x_t = inputs.pop("x")
    loss = network_loss(spec, OPS, inputs, x_t, target)
    grads = torch.autograd.grad(loss, [*inputs.values(), x_t])
    out = {k: g.numpy() for k, g in zip([*inputs, "x"], grads, strict=True)}
    if single:
        out["x"] = out["x"][0]
    return loss.item(), out


def value(step, inputs, y=None):
    """One step's output at `inputs`, computed by torch's op for it."""
    with torch.no_grad():
        tensors = {k: torch.from_numpy(np.array(v)) for k, v in inputs.items()}
        return evaluate(step, OPS, tensors, None if y is None else _target(y)).numpy()


def value_and_vjp(step, inputs, dy, y=None):
    """One step's output at `inputs` and dy pulled back through it ({"x": ..., params...}, or {params...} for a
    penalty), from one evaluation."""
    tensors = _tensors(inputs)
    out = evaluate(step, OPS, tensors, None if y is None else _target(y))
    grads = torch.autograd.grad(out, list(tensors.values()), grad_outputs=torch.as_tensor(dy, dtype=out.dtype))
    return out.detach().numpy(), {k: g.numpy() for k, g in zip(tensors, grads, strict=True)}


def vjp(step, inputs, dy, y=None):
    """dy pulled back through one step at `inputs` ({"x": ..., params...}, or {params...} for a penalty)."""
    return value_and_vjp(step, inputs, dy, y)[1]


def jacobian(step, inputs, y=None):
    """The step's full Jacobian at one example, by torch.autograd.functional.jacobian: for each input
    key, an array of shape output.shape + input.shape (a loss's output is a scalar)."""
    names = list(inputs)
    target = None if y is None else _target(y)

    def f(*tensors):
        return evaluate(step, OPS, dict(zip(names, tensors, strict=True)), target)

    tensors = tuple(torch.from_numpy(np.array(inputs[k])) for k in names)
    jac = torch.autograd.functional.jacobian(f, tensors)
    return {k: j.numpy() for k, j in zip(names, jac, strict=True)}
