"""Hand-written backward passes as a student would write them, for the CS224n network
sigmoid_softmax_ce in the row layout with the mean over the batch: one correct, and one per
classic mistake. tests/test_check.py points `python -m frameworks.check` at each of them.

    params: W1 (D, H), b1 (H,), W2 (H, K), b2 (K,);  x (N, D);  y one-hot (N, K)
"""

import numpy as np


def _forward(params, x):
    z1 = x @ params["W1"] + params["b1"]
    h = 1 / (1 + np.exp(-z1))
    z2 = h @ params["W2"] + params["b2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    yhat = e / e.sum(axis=1, keepdims=True)
    return h, yhat


def _loss(yhat, y):
    return -np.sum(y * np.log(yhat)) / len(y)


def correct(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    grads = {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0), "x": d1 @ params["W1"].T}
    return _loss(yhat, y), grads


def correct_without_dx(params, x, y):
    loss, grads = correct(params, x, y)
    del grads["x"]
    return loss, grads


def missing_mean(params, x, y):
    h, yhat = _forward(params, x)
    d2 = yhat - y  # forgot / N
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def sign_flipped(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (y - yhat) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def transposed(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": d2.T @ h, "b2": d2.sum(axis=0), "W1": d1.T @ x, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def missing_sigmoid_derivative(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (yhat - y) / len(x)
    d1 = d2 @ params["W2"].T
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def sigmoid_instead_of_derivative(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def bias_not_summed(params, x, y):
    h, yhat = _forward(params, x)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2, "W1": x.T @ d1, "b1": d1, "x": d1 @ params["W1"].T}


def softmax_without_y(params, x, y):
    h, yhat = _forward(params, x)
    d2 = yhat / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}


def wrong_in_a_new_way(params, x, y):
    loss, grads = correct(params, x, y)
    grads["W1"] = grads["W1"] + 0.01 * np.sign(params["W1"])  # not a classic mistake
    return loss, grads
