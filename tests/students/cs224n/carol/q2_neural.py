"""The sigmoid's derivative computed from the pre-activation z, while the helper expects sigmoid(z)."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(f):
    return f * (1 - f)


def softmax(x):
    x = x - np.max(x, axis=1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


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

    z1 = np.dot(data, W1) + b1
    a1 = sigmoid(z1)
    z2 = np.dot(a1, W2) + b2
    a2 = softmax(z2)
    N = data.shape[0]
    cost = -np.sum(labels * np.log(a2)) / N

    delta2 = (a2 - labels) / N
    gradW2 = np.dot(a1.T, delta2)
    gradb2 = np.sum(delta2, axis=0)
    delta1 = np.dot(delta2, W2.T) * sigmoid_grad(z1)
    gradW1 = np.dot(data.T, delta1)
    gradb1 = np.sum(delta1, axis=0)

    grad = np.concatenate((gradW1.flatten(), gradb1.flatten(), gradW2.flatten(), gradb2.flatten()))
    return cost, grad
