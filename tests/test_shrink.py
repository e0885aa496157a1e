"""The shortening pass on a failing point (tests/shrink.py): what it prints still fails, and is short."""

import numpy as np

import reference
from reference import mistakes
from tests import shrink, strategies
from tests.compare import _fails


def _digits(case) -> int:
    return sum(len(repr(float(v))) for a in [*case.params.values(), case.x] for v in np.ravel(a))


def test_a_failing_point_is_shortened_and_still_fails():
    net = reference.sigmoid_softmax_ce(3, 4, 2)
    case = strategies.fill_case(net, (5,), "labels", strategies.Fill(7), np.dtype(np.float64), "sigmoid_softmax_ce")
    broken = mistakes.apply(net, "missing_mean_factor")

    def fails(c):
        return _fails(c, "oracle", broken)

    assert fails(case)
    short = shrink.shrink(case, fails)
    assert fails(short), "the shortened point must still show the failure"
    assert _digits(short) < _digits(case) / 2, repr(short)
    assert np.array_equal(short.y, case.y) and short.net is case.net


def test_a_point_that_stops_failing_is_not_changed():
    net = reference.sigmoid_mse(2, 3, 1)
    case = strategies.fill_case(net, (4,), "values", strategies.Fill(3), np.dtype(np.float64))
    short = shrink.shrink(case, lambda c: c is case)  # only the original fails: every change is refused
    assert all(np.array_equal(short.params[k], case.params[k]) for k in case.params)
    assert np.array_equal(short.x, case.x)


def test_outside_a_hypothesis_test_nothing_is_a_final_replay():
    assert not shrink.final_replay()
