"""Each layer's hand-written backward equals each checker's vector-Jacobian product: each drawn point is
checked against every selected checker.

The upstream gradient dy is random, never all ones: a backward that ignores dy, or sums where
it should weight, passes an all-ones check.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from agreement import layer_spread
from reference.network import Step
from tests import strategies
from tests.compare import assert_agree, once
from tests.compare import checker as load

dtypes = pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)


@dtypes
@pytest.mark.parametrize("kind", reference.LAYERS)
@given(data=st.data())
def test_layer_backward_matches_vjp(kind, dtype, checkers, data):
    layer, params, x, dy = data.draw(strategies.layer_cases(kind, dtype), label="layer, params, x, dy")
    out, cache = layer.forward(params, x)
    dx, grads = layer.backward(cache, dy)
    step, inputs = Step.of(layer), {"x": x, **params}

    def theirs(checker):
        output, pulled = load(checker).value_and_vjp(step, inputs, dy)
        return {"output": output, **pulled}

    context = f"layer {kind} {layer.options} {np.dtype(dtype)} vs {{checker}} (x {x.shape})"
    assert_agree(context, f"layer {kind}", checkers, dtype, {"output": out, "x": dx, **grads}, theirs,
                 spread=once(lambda: layer_spread(layer, inputs, dy)))


EXTREMES = np.array([-1e4, -800.0, -40.0, -3.0, -0.5, -1e-3, 1e-3, 0.5, 3.0, 40.0, 800.0, 1e4])


@pytest.mark.parametrize("kind", reference.ACTIVATIONS)
def test_elementwise_layer_agrees_far_from_zero(kind, checker):
    # Beyond the property tests' [-2, 2]: where a forward or a formula that is not written stably
    # overflows (log(1 + e^z) at z = 800, 1 / (1 + e^{−z}) at z = −800) or an approximation shows.
    layer = reference.ACTIVATIONS[kind]()
    x = EXTREMES[None, :]
    dy = np.linspace(-1.0, 1.0, x.size)[None, :]
    out, cache = layer.forward({}, x)
    dx, _ = layer.backward(cache, dy)
    step = Step.of(layer)
    theirs = {"output": load(checker).value(step, {"x": x}), **load(checker).vjp(step, {"x": x}, dy)}
    assert_agree(f"layer {kind} at {EXTREMES.tolist()} vs {checker}", f"layer {kind}", checker, np.float64,
                 {"output": out, "x": dx}, theirs, spread=once(lambda: layer_spread(layer, {"x": x}, dy)), table=False)


@dtypes
@pytest.mark.parametrize("kind", reference.LOSSES)
@given(data=st.data())
def test_loss_backward_matches_vjp(kind, dtype, checkers, data):
    layer, z, y, dloss = data.draw(strategies.loss_cases(kind, dtype), label="loss, z, y, dloss")
    value, cache = layer.forward(z, y)
    dz, grads = layer.backward(cache, dloss)
    assert grads == {}, f"loss {kind} has no parameters but its backward returned gradients for {list(grads)}"
    step = Step.of(layer)

    def theirs(checker):
        return {"loss": load(checker).value(step, {"x": z}, y), **load(checker).vjp(step, {"x": z}, dloss, y)}

    context = f"loss {kind} {layer.options} {np.dtype(dtype)} vs {{checker}} (z {z.shape})"
    assert_agree(context, f"loss {kind}", checkers, dtype, {"loss": value, "x": dz}, theirs,
                 spread=once(lambda: layer_spread(layer, {"x": z}, dloss, y)))


@dtypes
@pytest.mark.parametrize("kind", reference.PENALTIES)
@given(data=st.data())
def test_penalty_backward_matches_vjp(kind, dtype, checkers, data):
    penalty, weights, dloss = data.draw(strategies.penalty_cases(kind, dtype), label="penalty, weights, dloss")
    value, cache = penalty.forward(weights)
    grads = penalty.backward(cache, dloss)
    step = Step.of(penalty, {key: key for key in weights})

    def theirs(checker):
        return {"loss": load(checker).value(step, weights), **load(checker).vjp(step, weights, dloss)}

    context = f"penalty {kind} {penalty.options} {np.dtype(dtype)} vs {{checker}}"
    assert_agree(context, f"penalty {kind}", checkers, dtype, {"loss": value, **grads}, theirs,
                 spread=once(lambda: layer_spread(penalty, weights, dloss)))
