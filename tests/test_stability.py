"""Sigmoid arguments of ±1000 and output pre-activations of ±1e4, for every (output, loss) pair:
a finite loss and finite gradients, no overflow or divide warnings, and the same numbers as every
checker's (torch's and JAX's stable ops, and the oracle's stable formulas)."""

import warnings

import numpy as np
import pytest

import reference
from reference.builders import OUTPUTS
from tests import strategies
from tests.compare import check_network

PAIRS = pytest.mark.parametrize("pair", list(OUTPUTS), ids=lambda p: f"{p[0]}-{p[1]}")


def extreme_case(pair, dtype, sign):
    """Hidden pre-activations (±1000, ∓1000, 0.5) and outputs (±1e4, ∓1e4, ∓1e4, ~1), for x = (1, 1)."""
    output, loss = pair
    net = reference.mlp(2, 3, 4, hidden="sigmoid", output=output, loss=loss)
    params = {
        "W1": np.array([[500, -500, 0.25], [500, -500, 0.25]], dtype) * sign,
        "b1": np.zeros(3, dtype),
        "W2": np.array([[1e4, -1e4, 0, 0.5], [0, 0, 0, 0.3], [0, 0, 0, -0.2]], dtype) * sign,
        "b2": np.array([0.1, 0.1, -1e4 * sign, 1.0], dtype),  # no output exactly at a kink
    }
    x = np.ones((2, 2), dtype)
    y = {"cross_entropy": np.array([1, 3]), "svm": np.array([0, 2]),
         "binary_cross_entropy": np.array([[1, 0, 1, 0], [0, 0, 1, 1]], dtype),
         "mse": np.full((2, 4), 0.5, dtype)}[loss]
    return net, params, x, y


@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@PAIRS
def test_extreme_arguments_stay_finite_without_warnings(pair, dtype, sign):
    net, params, x, y = extreme_case(pair, dtype, sign)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss, grads = net.loss_and_grads(params, x, y)
    assert np.isfinite(loss), loss
    for key, g in grads.items():
        assert g.dtype == dtype and np.all(np.isfinite(g)), key
    assert np.any(grads["W1"] != 0), "the moderate hidden unit should still carry a gradient"


@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@PAIRS
def test_extreme_arguments_match_every_checker(pair, dtype, sign, checker):
    check_network(strategies.Case(*extreme_case(pair, dtype, sign)), checker, table=False)
