"""Returns its gradients under lowercase keys."""
from _right import right


def loss_and_grads(params, x, y):
    loss, grads = right(params, x, y)
    return loss, {k.lower(): v for k, v in grads.items()}
