"""The numerical oracle is itself checked, against closed-form derivatives and against its own
two methods, so that agreeing with it means something."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from agreement import FIXED, Tolerance
from frameworks import oracle
from reference import Step
from tests import strategies

# Central differences (the oracle's second method, for checking the first) carry a truncation error
# ~eps^(2/3) ≈ 4e-11 times the third derivative; checked against the complex step with this relative
# bound on sigmoid networks of the test sizes.
CENTRAL_DIFFERENCE = Tolerance(rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("method", ["complex", "central"])
def test_gradient_of_a_closed_form_function(method):
    # u = v[:3], f(W, v) = sin(u)·(W v) + ½‖W‖²:  df/dW = sin(u) vᵀ + W,  df/dv = Wᵀ sin(u) + [cos(u) ⊙ (W v), 0]
    rng = np.random.default_rng(0)
    W, v = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def f(W, v):  # batched, as the oracle evaluates: W (M, 3, 4), v (M, 4) -> (M,)
        Wv = np.einsum("mij,mj->mi", W, v)
        return np.sum(np.sin(v[:, :3]) * Wv, axis=-1) + 0.5 * np.sum(W * W, axis=(1, 2))

    s = np.sin(v[:3])
    expected = {"W": np.outer(s, v) + W, "v": W.T @ s + np.concatenate([np.cos(v[:3]) * (W @ v), [0.0]])}
    tol = FIXED if method == "complex" else CENTRAL_DIFFERENCE
    grads = oracle.gradient(f, {"W": W, "v": v}, ["W", "v"], method)
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=tol.rtol, atol=tol.atol, err_msg=key)


@pytest.mark.parametrize("network", strategies.FAMILIES)
@given(data=st.data())
def test_central_differences_agree_with_the_complex_step(network, data):
    case = data.draw(strategies.cases(network, np.float64), label="case")
    _, exact = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y, method="complex")
    _, approx = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y, method="central")
    tol = CENTRAL_DIFFERENCE
    for key in exact:
        scale = np.max(np.abs(exact[key]))
        np.testing.assert_allclose(approx[key], exact[key], rtol=0, atol=tol.bound(scale), err_msg=key)


@pytest.mark.parametrize("kind", [*reference.LAYERS, *reference.LOSSES, *reference.PENALTIES])
@given(data=st.data())
def test_every_op_gives_the_same_complex_step_and_central_difference(kind, data):
    # An op that is not analytic where it is evaluated (a branch on the value, abs, max computed
    # on the complex number itself) gives a wrong complex step but a right central difference:
    # the two agree only where the complex step is valid, which every op must be in its test domain.
    if kind in reference.LOSSES:
        layer, x, y, dy = data.draw(strategies.loss_cases(kind, np.float64), label="loss, z, y, dloss")
        inputs = {"x": x}
    elif kind in reference.PENALTIES:
        layer, inputs, dy = data.draw(strategies.penalty_cases(kind, np.float64), label="penalty, weights, dloss")
        y = None
    else:
        layer, params, x, dy = data.draw(strategies.layer_cases(kind, np.float64), label="layer, params, x, dy")
        inputs, y = {"x": x, **params}, None
    step = Step.of(layer, {key: key for key in inputs if key != "x"} if kind in reference.PENALTIES else None)
    exact = oracle.vjp(step, inputs, dy, y, method="complex")
    approx = oracle.vjp(step, inputs, dy, y, method="central")
    for key in exact:
        scale = np.max(np.abs(exact[key]))
        np.testing.assert_allclose(approx[key], exact[key], rtol=0, atol=CENTRAL_DIFFERENCE.bound(scale), err_msg=key)


# Along every example at once or along each element of the batch, the oracle's gradient with respect to x is
# the same complex step, up to the order of a few roundings.
ROWS = Tolerance(rtol=0, atol=1e-13)


@pytest.mark.parametrize("network", strategies.FAMILIES)
@given(data=st.data())
def test_the_gradient_along_every_example_at_once_is_the_gradient_along_each_element(network, data):
    # Fails if a layer that mixes the examples (batch norm) were listed ROWWISE: its x-gradient would differ.
    case = data.draw(strategies.cases(network, np.float64), label="case")
    rows = oracle.x_gradient(case.net.spec, case.params, case.x, case.y)
    each = oracle.x_gradient(case.net.spec, case.params, case.x, case.y, rows=False)
    np.testing.assert_allclose(rows, each, rtol=0, atol=ROWS.bound(np.max(np.abs(each))))


@pytest.mark.parametrize("kind", reference.LAYERS)
@given(data=st.data())
def test_a_layers_vjp_along_every_example_at_once_is_its_vjp_along_each_element(kind, data):
    layer, params, x, dy = data.draw(strategies.layer_cases(kind, np.float64), label="layer, params, x, dy")
    step, inputs = Step.of(layer), {"x": x, **params}
    rows, each = oracle.vjp(step, inputs, dy, keys=["x"]), oracle.vjp(step, inputs, dy, rows=False, keys=["x"])
    np.testing.assert_allclose(rows["x"], each["x"], rtol=0, atol=ROWS.bound(np.max(np.abs(each["x"]))))


def test_only_layers_and_losses_that_keep_the_examples_apart_are_differentiated_along_every_example_at_once():
    assert not oracle.rowwise(Step("batch_norm"))
    assert oracle.rowwise(Step("softsign", formula="z / (1 + abs(z))"))  # elementwise: declared by its formula
    net = reference.sequential([reference.Dense(3, 4), reference.BatchNorm(4), reference.Dense(4, 2)], input_shape=3)
    assert oracle._example_terms(net.spec) is None
    dense = reference.sigmoid_softmax_ce(3, 4, 2).spec
    assert oracle._example_terms(dense) is not None
    # a loss not listed as a sum of one term per example (one added later, say) gets a direction per element
    assert oracle._example_terms(dense._replace(loss=dense.loss._replace(kind="contrastive"))) is None


def test_a_formula_may_call_only_the_oracles_functions():
    with pytest.raises(NameError, match="open"):
        oracle.formula_op("open('/etc/passwd')")(np.zeros(2))


def test_a_step_the_oracle_cannot_compute_is_named():
    with pytest.raises(KeyError, match="no op for 'softsign'"):
        oracle.op_for(Step("softsign"))
