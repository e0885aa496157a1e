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


# The textbook network sigmoid_mse in the column layout (z = W x per example), mean over the batch:
#     params: W1 (H, D), b1 (H,), W2 (K, H), b2 (K,);  x (N, D);  y (N, K)

def _mse_forward(params, x):
    h = 1 / (1 + np.exp(-(x @ params["W1"].T + params["b1"])))
    yhat = 1 / (1 + np.exp(-(h @ params["W2"].T + params["b2"])))
    return h, yhat


def mse_column_correct(params, x, y):
    h, yhat = _mse_forward(params, x)
    d2 = (yhat - y) * yhat * (1 - yhat) / len(x)
    d1 = (d2 @ params["W2"]) * h * (1 - h)
    loss = 0.5 * np.sum((yhat - y) ** 2) / len(x)
    return loss, {"W1": d1.T @ x, "b1": d1.sum(axis=0), "W2": d2.T @ h, "b2": d2.sum(axis=0), "x": d1 @ params["W1"]}


def mse_column_hidden_derivative_missing(params, x, y):
    h, yhat = _mse_forward(params, x)
    d2 = (yhat - y) * yhat * (1 - yhat) / len(x)
    d1 = d2 @ params["W2"]  # forgot σ′ here, kept it at the output
    loss = 0.5 * np.sum((yhat - y) ** 2) / len(x)
    return loss, {"W1": d1.T @ x, "b1": d1.sum(axis=0), "W2": d2.T @ h, "b2": d2.sum(axis=0), "x": d1 @ params["W1"]}


def mse_column_weight_gradient_transposed(params, x, y):
    loss, grads = mse_column_correct(params, x, y)
    return loss, {**grads, "W1": grads["W1"].T}  # x ⊗ δ where δ ⊗ x belongs: shows only in value on square W1


def with_an_assert(params, x, y):
    assert np.all(np.abs(x) < 1.5), "student code that asserts on its input"
    return correct(params, x, y)


# Constant factors that no known-wrong variant explains, each where a student makes it.

def mse_loss_without_half(params, x, y):
    loss, grads = mse_column_correct(params, x, y)
    return 2 * loss, grads  # Σ (ŷ − y)² where ½ Σ (ŷ − y)² belongs; the gradients keep the ½'s cancellation


def mse_delta_halved(params, x, y):
    h, yhat = _mse_forward(params, x)
    d2 = 0.5 * (yhat - y) * yhat * (1 - yhat) / len(x)  # "the derivative of ½ r² is ½ r"
    d1 = (d2 @ params["W2"]) * h * (1 - h)
    loss = 0.5 * np.sum((yhat - y) ** 2) / len(x)
    return loss, {"W1": d1.T @ x, "b1": d1.sum(axis=0), "W2": d2.T @ h, "b2": d2.sum(axis=0), "x": d1 @ params["W1"]}


def loss_summed(params, x, y):
    _, yhat = _forward(params, x)
    _, grads = correct(params, x, y)
    return -np.sum(y * np.log(yhat)), grads  # the cost summed, its gradients averaged


def loss_averaged(params, x, y):
    loss, grads = correct(params, x, y)  # for the network with reduction="sum": the gradients summed
    return loss, {k: v * len(x) for k, v in grads.items()}


def softmax_over_the_matrix(params, x, y):
    """The softmax's max and sum taken over the whole matrix (np.max(z), np.sum(e)) instead of each row."""
    z1 = x @ params["W1"] + params["b1"]
    h = 1 / (1 + np.exp(-z1))
    z2 = h @ params["W2"] + params["b2"]
    e = np.exp(z2 - np.max(z2))
    yhat = e / np.sum(e)
    d2 = (yhat - y) / len(x)
    d1 = (d2 @ params["W2"].T) * h * (1 - h)
    return _loss(yhat, y), {"W2": h.T @ d2, "b2": d2.sum(axis=0), "W1": x.T @ d1, "b1": d1.sum(axis=0),
                            "x": d1 @ params["W1"].T}
