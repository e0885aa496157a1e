"""Returns the loss and an empty dict: the forward pass done, the backward pass not started."""
from _right import right


def loss_and_grads(params, x, y):
    loss, _ = right(params, x, y)
    return loss, {}
