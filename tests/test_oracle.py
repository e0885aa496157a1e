"""The numerical oracle is itself checked, against closed-form derivatives and against its own
two methods, so that agreeing with it means something."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameworks import oracle
from tests import strategies
from tests.tolerances import CENTRAL_DIFFERENCE, TOLERANCE


@pytest.mark.parametrize("method", ["complex", "central"])
def test_gradient_of_a_closed_form_function(method):
    # f(W, v) = sin(v)·(W v) + ½‖W‖²:  df/dW = sin(v) vᵀ + W,  df/dv = cos(v) ⊙ (W v) + Wᵀ sin(v)
    rng = np.random.default_rng(0)
    W, v = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def f(W, v):
        return np.sin(v[:3]) @ (W @ v) + 0.5 * np.sum(W * W)

    s = np.sin(v[:3])
    expected = {"W": np.outer(s, v) + W, "v": W.T @ s + np.concatenate([np.cos(v[:3]) * (W @ v), [0.0]])}
    tol = TOLERANCE[np.dtype(np.float64)] if method == "complex" else CENTRAL_DIFFERENCE
    grads = oracle.gradient(f, {"W": W, "v": v}, ["W", "v"], method)
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=tol.rtol, atol=tol.atol, err_msg=key)


@pytest.mark.parametrize("network", ["sigmoid_mse", "sigmoid_softmax_ce"])
@given(data=st.data())
def test_central_differences_agree_with_the_complex_step(network, data):
    case = data.draw(strategies.cases(network, np.float64), label="case")
    _, exact = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y, method="complex")
    _, approx = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y, method="central")
    tol = CENTRAL_DIFFERENCE
    for key in exact:
        scale = np.max(np.abs(exact[key]))
        np.testing.assert_allclose(approx[key], exact[key], rtol=0, atol=tol.bound(scale), err_msg=key)


@given(data=st.data())
def test_directional_derivative_is_the_gradient_along_the_direction(data):
    case = data.draw(strategies.cases("sigmoid_softmax_ce", np.float64), label="case")
    _, grads = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y)
    direction = data.draw(strategies.array(np.float64, case.params["W1"].shape), label="direction")

    def loss(x, y, **params):
        return oracle.network_loss(case.net.spec, oracle.OPS, params, x, y)

    inputs = {**case.params, "x": case.x, "y": case.y}
    along = oracle.directional(loss, inputs, "W1", direction)
    expected = np.sum(grads["W1"] * direction)
    tol = TOLERANCE[np.dtype(np.float64)]
    assert abs(along - expected) <= tol.bound(np.sum(np.abs(grads["W1"] * direction))), (along, expected)


def test_complex_step_needs_only_analytic_ops():
    assert oracle.method_for(["dense", "sigmoid", "softmax_cross_entropy"]) == "complex"
    assert oracle.method_for(["dense", "an op without a complex extension"]) == "central"
