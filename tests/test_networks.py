"""The reference's loss and every gradient equal each checker's, across random networks and points.

One test per network family × dtype (tests/strategies.FAMILIES), each drawn point checked against every
selected checker (--framework); Hypothesis draws the layout, the reduction, the sizes (each layer and N up
to 16, N = 1 and a single 1-D example among them), the L2 strength, the weights and the inputs, and for the
"mlp" family also the depth (1 to 4 hidden layers), every hidden layer's kind and the (output, loss) pair
from the registries.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agreement import FIXED
from frameworks import oracle
from tests import strategies
from tests.compare import check_network


@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("network", strategies.FAMILIES)
@given(data=st.data())
def test_network_gradients_match(network, dtype, checkers, mistake, data):
    case = data.draw(strategies.cases(network, dtype), label="case")
    check_network(case, checkers, mistake=mistake)


@pytest.mark.parametrize("network", strategies.FAMILIES)
@given(data=st.data())
def test_gradients_along_random_directions_match_the_oracle(network, data):
    """The cheap check: one complex-step evaluation per gradient, ⟨dL/dθ, v⟩ = d/dt L(θ + t v)."""
    case = data.draw(strategies.cases(network, np.float64), label="case")
    _, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    loss = oracle.loss_function(case.net.spec)
    single = case.net.single(case.x)  # the oracle's loss takes a batch: a single example is a batch of one
    inputs = {**case.params, "x": case.x[None] if single else case.x, "y": np.asarray(case.y)[None] if single else case.y}
    fill = data.draw(strategies.fills(), label="the directions' fill")  # one draw for every key (1.2 ms a draw)
    rng = fill.rng()
    for key, grad in grads.items():
        shape = np.shape(case.params[key] if key != "x" else case.x)
        assert grad.shape == shape, f"{key}: the reference's gradient has shape {grad.shape}, {key} has {shape}"
        v = strategies.uniform(rng, np.float64, grad.shape, special=fill.special)
        along = oracle.directional(loss, inputs, key, v.reshape(np.shape(inputs[key])))
        expected = float(np.sum(grad * v))
        bound = FIXED.bound(float(np.sum(np.abs(grad * v))))
        assert abs(along - expected) <= bound, (f"{key}: ⟨reference, v⟩ = {expected!r}, oracle along v = {along!r}, "
                                                f"v = {v!r}")
