"""sigmoid_grad written to take x (it applies the sigmoid itself), then handed h = sigmoid(z): sigmoid'(sigmoid(z))."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(x):
    """The sigmoid's derivative at x."""
    return sigmoid(x) * (1.0 - sigmoid(x))


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=1, keepdims=True)


def forward_backward_prop(data, labels, params, dimensions):
    ofs = 0
    Dx, H, Dy = (dimensions[0], dimensions[1], dimensions[2])

    W1 = np.reshape(params[ofs:ofs + Dx * H], (Dx, H))
    ofs += Dx * H
    b1 = np.reshape(params[ofs:ofs + H], (1, H))
    ofs += H
    W2 = np.reshape(params[ofs:ofs + H * Dy], (H, Dy))
    ofs += H * Dy
    b2 = np.reshape(params[ofs:ofs + Dy], (1, Dy))

    # forward propagation
    h = sigmoid(data.dot(W1) + b1)
    yhat = softmax(h.dot(W2) + b2)
    cost = -np.sum(labels * np.log(yhat))

    # backward propagation
    d1 = yhat - labels
    gradW2 = h.T.dot(d1)
    gradb2 = np.sum(d1, axis=0, keepdims=True)
    d2 = d1.dot(W2.T)
    d3 = sigmoid_grad(h) * d2
    gradW1 = data.T.dot(d3)
    gradb1 = np.sum(d3, axis=0, keepdims=True)

    grad = np.concatenate((gradW1.flatten(), gradb1.flatten(), gradW2.flatten(), gradb2.flatten()))
    return cost, grad
