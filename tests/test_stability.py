"""Sigmoid arguments of ±1000 and logits of ±1e4: a finite loss and finite gradients, no overflow
or divide warnings, and the same numbers as the frameworks' own stable sigmoid and log-softmax.

The oracle is left out on purpose: its plain 1/(1 + e^{-z}) overflows there; it is exact for
the moderate arguments of the property tests.
"""

import warnings

import numpy as np
import pytest

import reference
from tests import strategies
from tests.compare import check_network


def extreme_case(network, dtype, sign):
    """Hidden pre-activations (±1000, ∓1000, 0.5) and logits (±1e4, ∓1e4, ∓1e4, ~0.4), for x = (1, 1)."""
    net = reference.NETWORKS[network](2, 3, 4)
    params = {
        "W1": np.array([[500, -500, 0.25], [500, -500, 0.25]], dtype) * sign,
        "b1": np.zeros(3, dtype),
        "W2": np.array([[1e4, -1e4, 0, 0.5], [0, 0, 0, 0.3], [0, 0, 0, -0.2]], dtype) * sign,
        "b2": np.array([0, 0, -1e4, 0], dtype) * sign,
    }
    x = np.ones((2, 2), dtype)
    y = np.array([1, 3]) if network == "sigmoid_softmax_ce" else np.full((2, 4), 0.5, dtype)
    return net, params, x, y


@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("network", reference.NETWORKS)
def test_extreme_arguments_stay_finite_without_warnings(network, dtype, sign):
    net, params, x, y = extreme_case(network, dtype, sign)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss, grads = net.loss_and_grads(params, x, y)
    assert np.isfinite(loss), loss
    for key, g in grads.items():
        assert g.dtype == dtype and np.all(np.isfinite(g)), key
    assert np.any(grads["W1"] != 0), "the moderate hidden unit should still carry a gradient"


@pytest.mark.checkers("torch", "jax")
@pytest.mark.parametrize("sign", [1, -1], ids=["positive", "negative"])
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("network", reference.NETWORKS)
def test_extreme_arguments_match_the_frameworks(network, dtype, sign, checker):
    check_network(strategies.Case(*extreme_case(network, dtype, sign)), checker, table=False)
