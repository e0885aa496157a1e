"""Right, but the hidden layer computed in float32: right to about 1e-8, not to float64's precision."""
import numpy as np
from _right import right


def loss_and_grads(params, x, y):
    loss, grads = right(params, x, y)
    return loss, {k: v.astype(np.float32).astype(np.float64) if k == "W1" else v for k, v in grads.items()}
