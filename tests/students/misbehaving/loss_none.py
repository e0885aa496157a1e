"""The skeleton's loss = None left unfilled."""
from _right import right


def loss_and_grads(params, x, y):
    _, grads = right(params, x, y)
    return None, grads
