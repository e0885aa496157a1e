"""Real data: the 2×2 "stairs" images (tests/data/README.md) through the CS224n-style network.

The gradients agree with every checker on real inputs, both at initialisation and after
training, where confident predictions make ŷ − y small and cancellation-prone; and plain
gradient descent with the reference's gradients learns the task, which the classic mistakes
that change the descent direction or its size by more than a little do not.
"""

from pathlib import Path

import numpy as np
import pytest

import reference
from reference import mistakes
from tests.compare import check_network
from tests.strategies import Case

DATA = np.loadtxt(Path(__file__).parent / "data" / "stairs.csv", delimiter=",", skiprows=1)
X, LABELS = DATA[:, 1:5] / 255.0, DATA[:, 5].astype(np.int64)
TRAIN, HELD_OUT = slice(0, 300), slice(300, 400)


def train(net, params, steps=3000, learning_rate=2.0):
    losses = []
    for _ in range(steps):
        loss, grads = net.loss_and_grads(params, X[TRAIN], LABELS[TRAIN])
        params = {k: params[k] - learning_rate * grads[k] for k in params}
        losses.append(loss)
    return params, losses


def accuracy(net, params, rows):
    return float(np.mean(net.predict(params, X[rows]).argmax(axis=1) == LABELS[rows]))


@pytest.fixture(scope="module")
def trained():
    net = reference.sigmoid_softmax_ce(4, 8, 2)
    params, losses = train(net, net.init(np.random.default_rng(0)))
    return net, params, losses


def learned(net, params, losses):
    return losses[-1] < 0.1 and accuracy(net, params, HELD_OUT) >= 0.95


def test_gradient_descent_with_the_reference_gradients_learns_stairs(trained):
    net, params, losses = trained
    assert losses[0] > np.log(2) - 0.05, f"the untrained loss {losses[0]:.3f} should be near log 2"
    assert learned(net, params, losses), (f"loss went {losses[0]:.3f} -> {losses[-1]:.3f}, "
                                          f"held-out accuracy {accuracy(net, params, HELD_OUT)}")


# The averaged bias gradient and the 0.1 % scaling still descend; the others do not learn.
@pytest.mark.parametrize("mistake", ["sign_flipped", "missing_mean_factor", "missing_sigmoid_derivative",
                                     "sigmoid_instead_of_derivative", "softmax_without_y"])
def test_gradient_descent_with_a_classic_mistake_does_not_learn_stairs(mistake):
    net = reference.sigmoid_softmax_ce(4, 8, 2)
    with np.errstate(over="ignore", invalid="ignore"):  # some of them diverge, which is the point
        try:
            params, losses = train(mistakes.apply(net, mistake), net.init(np.random.default_rng(0)))
        except ValueError as err:  # the network refuses to go on once the weights overflow
            assert "overflowed" in str(err)
            return
    assert not learned(net, params, losses), f"with {mistake} the loss still went {losses[0]:.3f} -> {losses[-1]:.3f}"


@pytest.mark.parametrize("when", ["initial", "trained"])
@pytest.mark.parametrize("layout", ["row", "column"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_on_real_data_match(trained, when, layout, reduction, checker):
    row_net, row_params, _ = trained
    if when == "initial":
        row_params = row_net.init(np.random.default_rng(1))
    net = reference.sigmoid_softmax_ce(4, 8, 2, layout=layout, reduction=reduction)
    params = row_params if layout == "row" else {k: v.T for k, v in row_params.items()}
    check_network(Case(net, params, X, LABELS), checker, table=False)
