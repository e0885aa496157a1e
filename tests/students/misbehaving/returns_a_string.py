"""Returns a string where the gradients belong."""
from _right import right


def loss_and_grads(params, x, y):
    loss, _ = right(params, x, y)
    return loss, "grads"
