"""The public API's promises that hold for the reference alone: shapes, keys, dtypes, the single
example, the relations between layouts and reductions, and the network's description."""

import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from agreement import FIXED
from reference import Spec, Step
from tests import strategies

networks = pytest.mark.parametrize("network", reference.NETWORKS)


@networks
@pytest.mark.parametrize("layout", ["row", "column"])
def test_params_and_grads_have_the_documented_keys_and_shapes(network, layout):
    net = reference.NETWORKS[network](3, 4, 5, layout=layout)
    params = net.init(np.random.default_rng(0))
    w1, w2 = ((3, 4), (4, 5)) if layout == "row" else ((4, 3), (5, 4))
    assert {k: v.shape for k, v in params.items()} == {"W1": w1, "b1": (4,), "W2": w2, "b2": (5,)}
    x = np.random.default_rng(1).normal(size=(7, 3))
    loss, grads = net.loss_and_grads(params, x, np.eye(5)[[0, 1, 2, 3, 4, 0, 1]])
    assert isinstance(loss, float)
    assert {k: v.shape for k, v in grads.items()} == {**{k: v.shape for k, v in params.items()}, "x": (7, 3)}


@networks
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
def test_init_follows_the_dtype_and_is_seeded(network, dtype):
    net = reference.NETWORKS[network](3, 4, 2)
    a, b = net.init(np.random.default_rng(5), dtype=dtype), net.init(5, dtype=dtype)
    assert all(a[k].dtype == dtype and np.array_equal(a[k], b[k]) for k in a)
    assert np.all(a["b1"] == 0) and np.all(a["b2"] == 0)
    for key, (fan_in, fan_out) in {"W1": (3, 4), "W2": (4, 2)}.items():
        limit = np.sqrt(6 / (fan_in + fan_out))  # Glorot uniform: U(-limit, limit)
        assert np.all(np.abs(a[key]) <= limit) and np.max(np.abs(a[key])) > limit / 4, key


@networks
@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@given(data=st.data())
def test_single_example_equals_a_batch_of_one(network, dtype, data):
    case = data.draw(strategies.cases(network, dtype).filter(lambda c: c.x.ndim == 1), label="case")
    loss, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    loss1, grads1 = case.net.loss_and_grads(case.params, case.x[None], np.asarray(case.y)[None])
    assert grads["x"].shape == case.x.shape
    assert loss == loss1
    for key in grads:
        np.testing.assert_array_equal(grads[key], grads1[key].reshape(grads[key].shape), err_msg=key)


families = pytest.mark.parametrize("family", strategies.FAMILIES)
dense_families = pytest.mark.parametrize("family", [f for f, family in strategies.FAMILIES.items() if family.stack is None])
F64 = FIXED


def _rebuilt(net, **changes):
    if net.sizes is None:
        return reference.sequential(**{**net.config, **changes})
    return reference.mlp(*net.sizes, **{**net.config, **changes})


def _assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=F64.rtol, atol=F64.atol, err_msg=what)


@families
@given(data=st.data())
def test_sum_reduction_is_n_times_mean(family, data):
    case = data.draw(strategies.cases(family, np.float64).filter(lambda c: not c.net.single(c.x)), label="case")
    n = len(case.x)
    mean = _rebuilt(case.net, reduction="mean", l2=0.0).loss_and_grads(case.params, case.x, case.y)
    total = _rebuilt(case.net, reduction="sum", l2=0.0).loss_and_grads(case.params, case.x, case.y)
    _assert_close(total[0], n * mean[0], "loss")
    for key in total[1]:
        _assert_close(total[1][key], n * mean[1][key], key)


@families
@given(data=st.data(), strength=st.floats(1e-3, 10.0))
def test_l2_adds_its_penalty_whatever_the_reduction(family, data, strength):
    case = data.draw(strategies.cases(family, np.float64), label="case")
    plain = _rebuilt(case.net, l2=0.0).loss_and_grads(case.params, case.x, case.y)
    decayed = _rebuilt(case.net, l2=strength).loss_and_grads(case.params, case.x, case.y)
    weights = [key for key in case.params if key.startswith("W")]
    assert len(weights) == sum(layer.numbered == "weight" for layer, _ in case.net.layers)
    _assert_close(decayed[0], plain[0] + strength * sum(np.sum(case.params[k] ** 2) for k in weights), "loss")
    for key, grad in plain[1].items():
        _assert_close(decayed[1][key], grad + 2 * strength * case.params[key] if key in weights else grad, key)


def test_the_shorthands_are_mlp():
    for make, output, loss in [(reference.sigmoid_mse, "sigmoid", "mse"),
                               (reference.sigmoid_softmax_ce, "softmax", "cross_entropy")]:
        for kw in ({}, {"layout": "column", "reduction": "sum", "l2": 0.5}):
            short, long = make(3, 4, 2, **kw), reference.mlp(3, 4, 2, hidden="sigmoid", output=output, loss=loss, **kw)
            assert short.spec == long.spec and short.config == long.config, (make.__name__, kw)
            params, x = short.init(0), np.random.default_rng(1).normal(size=(5, 3))
            y = np.array([0, 1, 1, 0, 1])
            assert_equal = np.testing.assert_array_equal
            a, b = short.loss_and_grads(params, x, y if output == "softmax" else np.eye(2)[y]), \
                long.loss_and_grads(params, x, y if output == "softmax" else np.eye(2)[y])
            assert a[0] == b[0]
            for key in a[1]:
                assert_equal(a[1][key], b[1][key], err_msg=key)


def test_a_deep_network_has_the_documented_keys_and_shapes():
    for layout in ("row", "column"):
        net = reference.mlp(3, 8, 7, 6, 1, hidden="tanh", output="sigmoid", loss="mse", layout=layout)
        params = net.init(0)
        shapes = [(3, 8), (8, 7), (7, 6), (6, 1)]
        expected = {}
        for i, shape in enumerate(shapes, 1):
            expected[f"W{i}"] = shape if layout == "row" else shape[::-1]
            expected[f"b{i}"] = (shape[1],)
        assert {k: v.shape for k, v in params.items()} == expected
        _, grads = net.loss_and_grads(params, np.ones((2, 3)), np.zeros((2, 1)))
        assert {k: v.shape for k, v in grads.items()} == {**expected, "x": (2, 3)}


def test_the_repr_rebuilds_the_network():
    for net in (reference.mlp(5, 8, 8, 2, hidden=("relu", "tanh"), output="identity", loss="mse", l2=0.25),
                reference.mlp(4, 3, hidden="relu", output="softmax", loss="cross_entropy", layout="column"),
                reference.sigmoid_softmax_ce(3, 4, 2, reduction="sum")):
        again = eval(repr(net), {"reference": reference})  # our own repr: code that rebuilds the network
        assert again.spec == net.spec and again.sizes == net.sizes, repr(net)


@dense_families
@given(data=st.data())
def test_column_layout_is_the_row_layout_transposed(family, data):
    case = data.draw(strategies.cases(family, np.float64), label="case")
    other = "column" if case.net.layout == "row" else "row"
    twin = _rebuilt(case.net, layout=other)
    flipped = {key: v.T for key, v in case.params.items()}
    loss, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    loss2, grads2 = twin.loss_and_grads(flipped, case.x, case.y)
    _assert_close(loss2, loss, "loss")
    for key in grads:
        _assert_close(grads2[key] if key == "x" else grads2[key].T, grads[key], key)


def test_labels_one_hot_rows_and_integer_dtypes_agree():
    net = reference.sigmoid_softmax_ce(4, 3, 5)
    params = net.init(np.random.default_rng(2))
    x = np.random.default_rng(3).normal(size=(6, 4))
    labels = np.array([4, 0, 1, 1, 3, 2])
    expected = net.loss_and_grads(params, x, labels)
    for y in (labels.astype(np.int32), labels.astype(np.uint8), np.eye(5)[labels], np.eye(5, dtype=int)[labels]):
        loss, grads = net.loss_and_grads(params, x, y)
        assert loss == expected[0]
        assert all(np.array_equal(grads[k], expected[1][k]) for k in grads)


def test_lists_take_the_params_dtype():
    net = reference.sigmoid_mse(3, 4, 2)
    params = net.init(np.random.default_rng(0), dtype=np.float32)
    x, y = [[0.5, -1.0, 2.0]], [[0.25, 0.75]]
    loss, grads = net.loss_and_grads(params, x, y)
    expected = net.loss_and_grads(params, np.array(x, np.float32), np.array(y, np.float32))
    assert loss == expected[0]
    assert all(g.dtype == np.float32 and np.array_equal(g, expected[1][k]) for k, g in grads.items())


@networks
def test_predict_gives_outputs_in_range(network):
    net = reference.NETWORKS[network](3, 4, 5)
    params = net.init(np.random.default_rng(0))
    yhat = net.predict(params, np.random.default_rng(1).normal(size=(6, 3)))
    assert yhat.shape == (6, 5) and np.all((yhat > 0) & (yhat < 1))
    if network == "sigmoid_softmax_ce":
        np.testing.assert_allclose(yhat.sum(axis=1), 1.0)
    assert net.predict(params, np.zeros(3)).shape == (5,)


def _dense(i, layout):
    return Step("dense", (("W", f"W{i}"), ("b", f"b{i}")), (("layout", layout),))


@pytest.mark.parametrize("layout", ["row", "column"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_description_the_checkers_build_from_is_the_documented_network(layout, reduction):
    # The checkers build their networks from net.spec, so a mis-wired spec would fool them all alike.
    sigmoid, options = Step("sigmoid", formula=reference.Sigmoid.formula), (("reduction", reduction),)
    assert reference.sigmoid_mse(3, 4, 1, layout=layout, reduction=reduction).spec == Spec(
        layers=(_dense(1, layout), sigmoid, _dense(2, layout), sigmoid), loss=Step("mse", (), options), input_shape=(3,))
    assert reference.sigmoid_softmax_ce(3, 4, 2, layout=layout, reduction=reduction).spec == Spec(
        layers=(_dense(1, layout), sigmoid, _dense(2, layout)), loss=Step("softmax_cross_entropy", (), options),
        input_shape=(3,))
    relu = Step("relu", formula=reference.ReLU.formula)
    assert reference.mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.05, layout=layout,
                         reduction=reduction).spec == Spec(
        layers=(_dense(1, layout), relu, _dense(2, layout)), loss=Step("softmax_cross_entropy", (), options),
        penalties=(Step("l2", (("W1", "W1"), ("W2", "W2")), (("strength", 0.05),)),), input_shape=(4,))


def test_the_readme_examples_run_as_shown():
    result = doctest.testfile(str(Path(__file__).parents[1] / "README.md"), module_relative=False)
    assert result.attempted > 0 and result.failed == 0, result
