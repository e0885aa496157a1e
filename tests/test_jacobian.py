"""The explicit-Jacobian view (reference/jacobian.py): the chain of full Jacobians, multiplied out,
equals the vectorised Hadamard-product backward, and each step's Jacobian equals the one PyTorch
(torch.autograd.functional.jacobian) and JAX (jax.jacrev) compute for the same step."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference import jacobian
from tests import strategies
from tests.compare import assert_agree
from tests.compare import checker as load

single_examples = st.sampled_from(list(strategies.FAMILIES)).flatmap(
    lambda family: strategies.cases(family, np.float64).filter(lambda c: c.x.ndim == 1))


@given(case=single_examples)
def test_the_chain_of_jacobians_equals_the_vectorised_backward(case):
    _, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    explicit = jacobian.chain(case.net, jacobian.jacobians(case.net, case.params, case.x, case.y))
    assert_agree(f"{case.family} {case.net!r}: explicit chain vs backward", "jacobian chain", "reference",
                 np.float64, grads, explicit, table=False)


@pytest.mark.checkers("torch", "jax")
@given(case=single_examples)
def test_every_steps_jacobian_equals_the_frameworks(case, checker):
    steps = jacobian.jacobians(case.net, case.params, case.x, case.y)
    *layers, loss = steps
    for step, spec_step in zip(layers, case.net.spec.layers, strict=True):
        theirs = load(checker).jacobian(spec_step, {"x": step.input, **step.params})
        ours = {k: v for k, v in step.jacobians.items()}
        assert_agree(f"{case.net!r} {step.name}: d output / d input", f"jacobian {step.layer.kind}", checker,
                     np.float64, ours, theirs)
    y = case.net.loss_layer.targets(case.y, case.x, case.net.sizes[-1])
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
