import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] = -1.0 * (dx.sum(axis=1) > 0)
    return loss, dx / N
