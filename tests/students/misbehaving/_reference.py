"""The reference itself as a student's f(params, x, y), at whatever sizes the params have, and one of its
known-wrong variants, for the command-line test of `--network mlp --dtype float32`; and for each output and
loss that reference.mlp fuses (and one with mse), a one-hidden-layer network, for `--network mlp` with each."""
import reference
from reference import mistakes


def _net(params):
    sizes = [params["W1"].shape[0], *(params[f"W{i}"].shape[1] for i in (1, 2, 3))]
    return reference.mlp(*sizes, hidden=("relu", "tanh"), output="softmax", loss="cross_entropy", l2=0.01)


def correct(params, x, y):
    return _net(params).loss_and_grads(params, x, y)


def relu_passes_negatives(params, x, y):
    return mistakes.apply(_net(params), "relu_passes_negatives").loss_and_grads(params, x, y)


def _as_built(params, output, loss):
    sizes = [params["W1"].shape[0], params["W1"].shape[1], params["W2"].shape[1]]
    return reference.mlp(*sizes, hidden="tanh", output=output, loss=loss)


def correct_softmax_cross_entropy(params, x, y):
    return _as_built(params, "softmax", "cross_entropy").loss_and_grads(params, x, y)


def correct_sigmoid_binary_cross_entropy(params, x, y):
    return _as_built(params, "sigmoid", "binary_cross_entropy").loss_and_grads(params, x, y)


def correct_identity_svm(params, x, y):
    return _as_built(params, "identity", "svm").loss_and_grads(params, x, y)


def correct_tanh_mse(params, x, y):
    return _as_built(params, "tanh", "mse").loss_and_grads(params, x, y)
