"""Returns W1 with one column too many."""
import numpy as np
from _right import right


def loss_and_grads(params, x, y):
    loss, grads = right(params, x, y)
    grads["W1"] = np.hstack([grads["W1"], np.zeros((len(grads["W1"]), 1))])
    return loss, grads
