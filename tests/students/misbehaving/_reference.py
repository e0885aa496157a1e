"""The reference itself as a student's f(params, x, y), at whatever sizes the params have, and one of its
known-wrong variants, for the command-line test of `--network mlp --dtype float32`."""
import reference
from reference import mistakes


def _net(params):
    sizes = [params["W1"].shape[0], *(params[f"W{i}"].shape[1] for i in (1, 2, 3))]
    return reference.mlp(*sizes, hidden=("relu", "tanh"), output="softmax", loss="cross_entropy", l2=0.01)


def correct(params, x, y):
    return _net(params).loss_and_grads(params, x, y)


def relu_passes_negatives(params, x, y):
    return mistakes.apply(_net(params), "relu_passes_negatives").loss_and_grads(params, x, y)
