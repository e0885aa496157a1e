"""What a failing point says when it is checked against several checkers (tests/compare.py): the first
checker that disagrees in full, what each other checker makes of the same point, and a reference that
raises as a failure of its own, never a traceback from the comparison."""

import numpy as np
import pytest

import frameworks
import reference
from reference import mistakes
from tests import strategies
from tests.compare import assert_agree, case_spread, check_network, report_all

WRONG = "W1 disagrees at index (0, 0): reference 1, jax 2, difference 1 > tolerance 1e-12 (...)"


def _case():
    net = reference.sigmoid_softmax_ce(3, 4, 2)
    return strategies.fill_case(net, (5,), "labels", strategies.Fill(7), np.dtype(np.float64), "sigmoid_softmax_ce")


def test_one_checker_alone_disagreeing_is_said_with_who_agrees():
    message = report_all("net vs {checker} (x (5, 3))", {"torch": [], "jax": [WRONG], "oracle": []},
                         ("torch", "jax", "oracle"))
    assert message == f"net vs jax (x (5, 3)):\n  {WRONG}\n  torch and oracle agree at this point"
    assert report_all("net vs {checker}", {"torch": [], "oracle": []}, ("torch", "oracle")) is None


def test_a_mistake_seen_by_every_checker_names_the_first_in_full_and_the_others_in_a_line():
    names = tuple(n for n in ("oracle", "torch") if not frameworks.unavailable_reason(n))
    case = _case()
    with pytest.raises(AssertionError) as raised:
        check_network(case, names, model=mistakes.apply(case.net, "missing_mean_factor"), table=False)
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("sigmoid_softmax_ce reference.sigmoid_softmax_ce(3, 4, 2") and lines[0].endswith(
        "float64 vs oracle (x (5, 3)):"), lines[0]
    assert all(" disagrees at index " in line for line in lines[1:-1 if len(names) > 1 else None]), lines
    if len(names) > 1:
        assert lines[-1].startswith("  torch disagrees too: W1, b1, W2, b2, x"), lines[-1]


def test_a_reference_that_raises_is_a_failure_naming_the_error():
    case = _case()

    class Raises:
        def loss_and_grads(self, params, x, y):
            raise ValueError("shapes (5,4) and (3,4) not aligned")

    with pytest.raises(AssertionError, match=r"float64 \(x \(5, 3\)\): the reference raised ValueError: shapes"):
        check_network(case, ("oracle",), model=Raises(), table=False)


def test_a_checker_that_raises_is_named_with_where_and_the_others_still_judge_the_point():
    def theirs(name):
        if name == "torch":
            raise TypeError("unsupported operand")
        return {"x": np.array([1.0, 2.0])}

    with pytest.raises(AssertionError) as raised:
        assert_agree("layer vs {checker}", "layer", ("torch", "oracle"), np.float64, {"x": np.array([1.0, 2.0])},
                     theirs, table=False)
    lines = str(raised.value).splitlines()
    assert lines[0] == "layer vs torch:", lines
    assert lines[1].startswith("  the torch checker raised TypeError: unsupported operand (at "), lines
    assert "test_failure_messages.py:" in lines[1], lines
    assert lines[2] == "  oracle agrees at this point", lines


def test_the_spread_kept_for_a_case_is_its_own_even_where_another_case_has_the_same_bytes():
    net = reference.sigmoid_mse(2, 3, 1)
    one = strategies.fill_case(net, (1,), "values", strategies.Fill(3), np.dtype(np.float32))
    single = strategies.Case(net, one.params, one.x[0], one.y[0])  # the same values as one 1-D example
    assert case_spread(one)["x"].shape == (1, 2) and case_spread(single)["x"].shape == (2,)
