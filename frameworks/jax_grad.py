"""Checker: jax.value_and_grad on the network built from jax.numpy and jax.nn ops, in true float64.

JAX compiles once per input shape and dtype; compiled functions are cached per network
description, so repeated shapes cost microseconds instead of a fresh compilation.
"""

import functools

import jax

jax.config.update("jax_enable_x64", True)  # otherwise float64 inputs are silently computed in float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from .walk import evaluate, network_loss  # noqa: E402


def _reduce(per_example, reduction):
    return jnp.mean(per_example) if reduction == "mean" else jnp.sum(per_example)


def softmax_cross_entropy(z, y, reduction):
    if jnp.issubdtype(y.dtype, jnp.integer):
        y = jax.nn.one_hot(y, z.shape[-1], dtype=z.dtype)
    return _reduce(-jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1), reduction)


def sigmoid_binary_cross_entropy(z, y, reduction):
    return _reduce(-jnp.sum(y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z), axis=-1), reduction)


OPS = {
    "dense": lambda x, W, b, layout: (jnp.dot(x, W) if layout == "row" else jnp.dot(x, W.T)) + b,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "identity": lambda z: z,
    "softplus": jax.nn.softplus,
    "mse": lambda yhat, y, reduction: _reduce(0.5 * jnp.sum(jnp.square(yhat - y), axis=-1), reduction),
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "l2": lambda strength, **weights: strength * sum(jnp.sum(jnp.square(W)) for W in weights.values()),
}


@functools.lru_cache(maxsize=256)  # bounded: a long run draws thousands of descriptions
def _network_value_and_grad(spec):
    def loss(params, x, y):
        return network_loss(spec, OPS, params, x, y)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def loss_and_grads(spec, params, x, y):
    """The loss and its gradients with respect to params and x, as NumPy arrays in the inputs' dtype."""
    loss, (grads, dx) = _network_value_and_grad(spec)(params, x, y)
    return float(loss), {**{k: np.asarray(grads[k]) for k in params}, "x": np.asarray(dx)}


def value(step, inputs, y=None):
    """One step's output at `inputs`, computed by JAX's op for it."""
    return np.asarray(evaluate(step, OPS, dict(inputs), y))


@functools.lru_cache(maxsize=256)  # bounded: a long run draws thousands of descriptions
def _layer_vjp(step):
    def pullback(inputs, dy, y):
        return jax.vjp(lambda inputs: evaluate(step, OPS, inputs, y), inputs)[1](dy)[0]

    return jax.jit(pullback)


def vjp(step, inputs, dy, y=None):
    """dy pulled back through one step at `inputs` ({"x": ..., params...}, or {params...} for a penalty)."""
    dtype = next(iter(inputs.values())).dtype
    grads = _layer_vjp(step)(inputs, np.asarray(dy, dtype=dtype), y)
    return {k: np.asarray(grads[k]) for k in inputs}


def jacobian(step, inputs, y=None):
    """The step's full Jacobian at one example, by jax.jacrev: for each input key, an array of shape
    output.shape + input.shape (a loss's output is a scalar)."""
    jac = jax.jacrev(lambda inputs: evaluate(step, OPS, inputs, y))(dict(inputs))
    return {k: np.asarray(jac[k]) for k in inputs}
