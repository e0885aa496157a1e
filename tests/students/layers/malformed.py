import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    return np.zeros((x.shape[0], w.shape[0], 1, 1))


def conv_backward_naive(dout, cache):
    return None, None, None


def svm_loss(x, y):
    return 0.0
