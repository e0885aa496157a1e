"""Real data: the 2×2 "stairs" images (tests/data/README.md) through the CS224n-style network.

The gradients agree with every checker on real inputs, both at initialisation and after
training, where confident predictions make ŷ − y small and cancellation-prone; and plain
gradient descent with the reference's gradients learns the task. Trained with the broken
variants of reference/mistakes.py instead, a flipped sign, a missing 1/N, a dropped σ′, σ in
place of σ′ and a softmax gradient without − y each end far above this test's loss bound.
"""

from pathlib import Path

import numpy as np
import pytest

import reference
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


def test_gradient_descent_with_the_reference_gradients_learns_stairs(trained):
    net, params, losses = trained
    assert losses[-1] < 0.1 < np.log(2) <= losses[0] + 0.05, f"loss went {losses[0]:.3f} -> {losses[-1]:.3f}"
    assert accuracy(net, params, HELD_OUT) >= 0.95, f"held-out accuracy {accuracy(net, params, HELD_OUT)}"


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
