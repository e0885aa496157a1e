"""The explicit-Jacobian view (reference/jacobian.py): the chain of full Jacobians, multiplied out,
equals the vectorised Hadamard-product backward, and each step's Jacobian equals the one PyTorch
(torch.autograd.functional.jacobian) and JAX (jax.jacrev) compute for the same step; at one example,
and over a whole batch (the only view of batch norm)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference
from reference import Activation, Dense, jacobian
from tests import strategies
from tests.compare import assert_agree
from tests.compare import checker as load

points = st.sampled_from(list(strategies.FAMILIES)).flatmap(lambda family: strategies.cases(family, np.float64))
KINDS = list(reference.LAYERS)
KIND_EXAMPLES = 10  # per registered kind: each is one fixed structure (only its values are drawn), and the families
# above draw 100 points of every structure already in the ci profile


@st.composite
def with_kind(draw, kind):
    """A point of the drawn stack's network for `kind` (its pool holds one structure per registered kind, that kind
    first, tests/strategies.pool), its values drawn: every registered layer's Jacobian is checked, not only those the
    families above happen to draw."""
    index = KINDS.index(kind)
    net = strategies.pooled_networks("sequential")[index]
    forms, _ = strategies.target_forms(net.loss_layer)
    case = strategies.fill_case(net, strategies.pool_batch("sequential", index), draw(st.sampled_from(forms)),
                                draw(strategies.fills()), np.dtype(np.float64), "sequential")
    assume(case is not None)
    return case


@given(case=points)
def test_the_chain_of_jacobians_equals_the_vectorised_backward(case):
    _chain_equals_backward(case)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=KIND_EXAMPLES)
@given(data=st.data())
def test_the_chain_of_jacobians_equals_the_backward_through_every_registered_layer(kind, data):
    _chain_equals_backward(data.draw(with_kind(kind)))


def _chain_equals_backward(case):
    _, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    explicit = jacobian.chain(case.net, jacobian.jacobians(case.net, case.params, case.x, case.y))
    assert_agree(f"{case.family} {case.net!r}: explicit chain vs backward", "jacobian chain", "reference",
                 np.float64, grads, explicit, table=False)


def _theirs(checker, spec_step, step, batch_of_one):
    """The checker's Jacobian of one step; one image as a batch of one (a convolution takes a batch), the
    batch axes taken off again."""
    if not batch_of_one:
        return load(checker).jacobian(spec_step, {"x": step.input, **step.params})
    return jacobian.one_example(load(checker).jacobian(spec_step, {"x": step.input[None], **step.params}),
                                step.output.ndim)


@pytest.mark.checkers("torch", "jax")
@given(case=points)
def test_every_steps_jacobian_equals_the_frameworks(case, checker):
    _steps_equal_the_frameworks(case, checker)


@pytest.mark.checkers("torch", "jax")
@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=KIND_EXAMPLES)
@given(data=st.data())
def test_every_registered_layers_jacobian_equals_the_frameworks(kind, data, checker):
    _steps_equal_the_frameworks(data.draw(with_kind(kind)), checker)


def _steps_equal_the_frameworks(case, checker):
    steps = jacobian.jacobians(case.net, case.params, case.x, case.y)
    *layers, loss = steps
    single = case.net.single(case.x)
    for step, spec_step in zip(layers, case.net.spec.layers, strict=True):
        # the reference computes every layer but a dense one or an activation of a vector on a batch of one
        written_out = isinstance(step.layer, (Dense, Activation)) and step.input.ndim == 1
        theirs = _theirs(checker, spec_step, step, single and not written_out)
        ours = {k: v for k, v in step.jacobians.items()}
        assert_agree(f"{case.net!r} {step.name}: d output / d input", f"jacobian {step.layer.kind}", checker,
                     np.float64, ours, theirs)
    y = case.net.targets(case.y, case.x)
    theirs = load(checker).jacobian(case.net.spec.loss, {"x": loss.input}, y)
    assert_agree(f"{case.net!r} loss: dC/dz", f"jacobian {loss.layer.kind}", checker, np.float64,
                 {"x": loss.jacobians["z"]}, theirs)


def test_the_textbook_tensors_have_the_documented_shapes():
    import reference

    net = reference.sigmoid_mse(3, 4, 1, layout="column")
    steps = jacobian.jacobians(net, net.init(0), np.array([0.5, -1.0, 2.0]), np.array([1.0]))
    shapes = {s.name: {k: v.shape for k, v in s.jacobians.items()} for s in steps}
    assert shapes == {
        "dense 1": {"x": (4, 3), "W": (4, 4, 3), "b": (4, 4)},
        "sigmoid 1": {"x": (4, 4)},
        "dense 2": {"x": (1, 4), "W": (1, 1, 4), "b": (1, 1)},
        "sigmoid 2": {"x": (1, 1)},
        "loss": {"z": (1,)},
    }
    sig = steps[1].jacobians["x"]
    assert np.count_nonzero(sig - np.diag(np.diag(sig))) == 0  # an elementwise function: diagonal


class _SummedDW(Dense):
    """A Dense whose backward sums dW over its rows: a gradient of the wrong shape."""

    def backward(self, cache, dz):
        dx, grads = super().backward(cache, dz)
        return dx, {**grads, "W": grads["W"].sum(axis=0)}


def test_a_backward_with_a_gradient_of_the_wrong_shape_is_named_not_broadcast():
    layer = _SummedDW(3, 2)
    params = layer.init(np.random.default_rng(0), np.float64)
    with pytest.raises(ValueError, match=r"backward returned dW of shape \(2,\) where W has shape \(3, 2\)"):
        jacobian.by_backward(layer, params, np.ones((1, 3)))
