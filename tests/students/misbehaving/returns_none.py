"""Forgets the return statement."""
from _right import right


def loss_and_grads(params, x, y):
    right(params, x, y)
