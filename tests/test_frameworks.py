"""The checkers themselves: they load by name, say why when they cannot, and keep the inputs' dtype."""

import numpy as np
import pytest

import frameworks
import reference
from tests.compare import checker as load


def test_unknown_checker_is_refused():
    with pytest.raises(ValueError, match="unknown checker 'mxnet'"):
        frameworks.load("mxnet")


def test_a_checker_whose_framework_is_missing_says_what_to_install(monkeypatch):
    monkeypatch.setitem(frameworks.CHECKERS, "ghost", ("frameworks.ghost", "no_such_framework_here"))
    monkeypatch.setitem(frameworks.INSTALL_HINT, "ghost", "pip install no_such_framework_here")
    with pytest.raises(frameworks.Unavailable, match="no_such_framework_here is not installed"):
        frameworks.load("ghost")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_checkers_compute_in_the_documented_dtype(checker, dtype):
    # autodiff runs in the inputs' dtype; the oracle always in float64, the truth float32 is judged against
    expected = np.dtype(np.float64 if checker == "oracle" else dtype)
    net = reference.sigmoid_softmax_ce(3, 4, 2)
    params = net.init(np.random.default_rng(0), dtype=dtype)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(dtype)
    _, grads = load(checker).loss_and_grads(net.spec, params, x, np.array([0, 1, 1, 0, 1]))
    assert {k: g.dtype for k, g in grads.items()} == {k: expected for k in [*params, "x"]}



def test_integer_regression_targets_stay_targets_not_labels(checker):
    # integer (N, K) targets of a squared error, N = K, in a description that ends in its dense layer (the
    # identity output taken off): a checker must not take them for class labels
    net = reference.sequential([reference.Dense(3, 4), reference.Tanh(), reference.Dense(4, 4)], (3,),
                               output="identity", loss="mse")
    spec = net.spec._replace(layers=net.spec.layers[:-1])
    params = net.init(np.random.default_rng(0), dtype=np.float64)
    x = np.random.default_rng(1).normal(size=(4, 3))
    y = np.random.default_rng(2).integers(0, 2, size=(4, 4))
    loss, grads = net.loss_and_grads(params, x, y)
    their_loss, theirs = load(checker).loss_and_grads(spec, params, x, y)
    assert np.isclose(their_loss, loss, rtol=1e-9), f"{checker}: loss {their_loss} where the reference's is {loss}"
    for key, grad in grads.items():
        np.testing.assert_allclose(theirs[key], grad, rtol=1e-9, atol=1e-12, err_msg=f"{checker}: d{key}")


def test_a_weight_shared_by_a_row_and_a_column_layer(checker):
    # tied weights in a description: W1 used as x W1 by the first layer and as x W1ᵀ by the second
    net = reference.sequential([reference.Dense(3, 3), reference.Tanh(), reference.Dense(3, 3, layout="column")],
                               (3,), output="identity", loss="mse")
    first, tanh, second, *rest = net.spec.layers
    spec = net.spec._replace(layers=(first, tanh, second._replace(params=(("W", "W1"), ("b", "b2"))), *rest))
    params = net.init(np.random.default_rng(0), dtype=np.float64)
    x, y = np.random.default_rng(1).normal(size=(2, 3)), np.random.default_rng(2).uniform(size=(2, 3))
    loss, _ = net.loss_and_grads({**params, "W2": params["W1"]}, x, y)
    their_loss, _ = load(checker).loss_and_grads(spec, {k: v for k, v in params.items() if k != "W2"}, x, y)
    assert np.isclose(their_loss, loss, rtol=1e-9), f"{checker}: loss {their_loss} where the reference's is {loss}"
