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
