"""Raises on every call."""


def loss_and_grads(params, x, y):
    raise RuntimeError("not implemented yet")
