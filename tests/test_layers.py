"""Each layer's hand-written backward equals each checker's vector-Jacobian product.

The upstream gradient dy is random, never all ones: a backward that ignores dy, or sums where
it should weight, passes an all-ones check.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from reference.network import Step
from tests import strategies
from tests.compare import assert_agree
from tests.compare import checker as load

dtypes = pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)


@dtypes
@pytest.mark.parametrize("kind", reference.LAYERS)
@given(data=st.data())
def test_layer_backward_matches_vjp(kind, dtype, checker, data):
    layer, params, x, dy = data.draw(strategies.layer_cases(kind, dtype), label="layer, params, x, dy")
    _, cache = layer.forward(params, x)
    dx, grads = layer.backward(cache, dy)
    theirs = load(checker).vjp(Step.of(layer), {"x": x, **params}, dy)
    context = f"layer {kind} {layer.options} {np.dtype(dtype)} vs {checker} (x {x.shape})"
    assert_agree(context, f"layer {kind}", checker, dtype, {"x": dx, **grads}, theirs, parts=[layer])


@dtypes
@pytest.mark.parametrize("kind", reference.LOSSES)
@given(data=st.data())
def test_loss_backward_matches_vjp(kind, dtype, checker, data):
    layer, z, y, dloss = data.draw(strategies.loss_cases(kind, dtype), label="loss, z, y, dloss")
    _, cache = layer.forward(z, y)
    dz, grads = layer.backward(cache, dloss)
    assert grads == {}, f"loss {kind} has no parameters but its backward returned gradients for {list(grads)}"
    theirs = load(checker).vjp(Step.of(layer), {"x": z}, dloss, y)
    context = f"loss {kind} {layer.options} {np.dtype(dtype)} vs {checker} (z {z.shape})"
    assert_agree(context, f"loss {kind}", checker, dtype, {"x": dz}, theirs, parts=[layer])


@dtypes
@pytest.mark.parametrize("kind", reference.PENALTIES)
@given(data=st.data())
def test_penalty_backward_matches_vjp(kind, dtype, checker, data):
    penalty, weights, dloss = data.draw(strategies.penalty_cases(kind, dtype), label="penalty, weights, dloss")
    _, cache = penalty.forward(weights)
    grads = penalty.backward(cache, dloss)
    keys = {key: key for key in weights}
    theirs = load(checker).vjp(Step.of(penalty, keys), weights, dloss)
    context = f"penalty {kind} {penalty.options} {np.dtype(dtype)} vs {checker}"
    assert_agree(context, f"penalty {kind}", checker, dtype, grads, theirs, parts=[penalty])
