"""Raises an error whose message happens to say "in place"."""


def loss_and_grads(params, x, y):
    raise ValueError("cannot operate in place")
