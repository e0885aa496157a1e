import numpy as np


def softmax(x):
    """Row-wise softmax; the max and the sum lose their axis, so they broadcast against the columns."""
    x = x - np.max(x, axis=1)
    e = np.exp(x)
    return e / np.sum(e, axis=1)
