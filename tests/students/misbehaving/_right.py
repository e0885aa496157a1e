"""The right backward pass of reference.sigmoid_softmax_ce in the row layout (mean over the batch),
shared by the misbehaving submissions beside it, each of which breaks one rule of the call."""
import numpy as np


def right(params, x, y):
    z1 = x @ params["W1"] + params["b1"]
    h = 1 / (1 + np.exp(-z1))
    z2 = h @ params["W2"] + params["b2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    yhat = e / e.sum(axis=1, keepdims=True)
    loss = -np.sum(y * np.log(yhat)) / len(x)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return loss, {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0), "x": d1 @ params["W1"].T}
