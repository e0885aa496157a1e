"""Returns NaN in one gradient."""
import numpy as np
from _right import right


def loss_and_grads(params, x, y):
    loss, grads = right(params, x, y)
    grads["b1"] = np.full_like(grads["b1"], np.nan)
    return loss, grads
