"""The numerical oracle is itself checked, against closed-form derivatives and against its own
two methods, so that agreeing with it means something."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from frameworks import oracle
from reference import Step
from tests import strategies
from tests.tolerances import CENTRAL_DIFFERENCE, TOLERANCE


@pytest.mark.parametrize("method", ["complex", "central"])
def test_gradient_of_a_closed_form_function(method):
    # u = v[:3], f(W, v) = sin(u)·(W v) + ½‖W‖²:  df/dW = sin(u) vᵀ + W,  df/dv = Wᵀ sin(u) + [cos(u) ⊙ (W v), 0]
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


@pytest.mark.parametrize("kind", [*reference.LAYERS, *reference.LOSSES])
@given(data=st.data())
def test_every_op_the_complex_step_is_used_for_is_analytic(kind, data):
    # A non-analytic op (abs, max, a branch on the value) would give a wrong complex step but a
    # right central difference: the two agree only where the op really is analytic.
    assert kind in oracle.ANALYTIC
    if kind in reference.LOSSES:
        layer, x, y, dy = data.draw(strategies.loss_cases(kind, np.float64), label="loss, z, y, dloss")
        params = {}
    else:
        layer, params, x, dy = data.draw(strategies.layer_cases(kind, np.float64), label="layer, params, x, dy")
        y = None
    step = Step(kind, (), tuple(layer.options.items()))
    exact = oracle.vjp(step, {"x": x, **params}, dy, y, method="complex")
    approx = oracle.vjp(step, {"x": x, **params}, dy, y, method="central")
    for key in exact:
        scale = np.max(np.abs(exact[key]))
        np.testing.assert_allclose(approx[key], exact[key], rtol=0, atol=CENTRAL_DIFFERENCE.bound(scale), err_msg=key)
