"""The points everything is checked at (agreement.points) stay off kinks: no ReLU pre-activation lies
within its declared margin of 0, in a fresh draw or in a shortened one, though Hypothesis and the
shortening pass both pull values toward 0, where z = 0 is exactly the kink."""

import time

import numpy as np
import pytest

import reference
from agreement import points

NET = reference.mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.1)  # CS231n's net


def _pre_activation(params, x):
    return np.atleast_2d(x) @ params["W1"] + params["b1"]


def _off_the_kink(params, x) -> bool:
    z = _pre_activation(params, x)
    margin = reference.ReLU.domain.margin * max(1.0, float(np.max(np.abs(z))))
    return bool(np.all(np.abs(z) >= margin))


@pytest.mark.parametrize("special", [0.0, 0.25, 0.9])  # 0.9: nine elements in ten are 0, ±2 or ±1e-3
def test_a_drawn_point_is_off_the_relu_kink(special):
    drawn = 0
    for seed in range(200):
        point = points.fill(NET, (5,), "labels", np.random.default_rng(seed), np.float64, special)
        if point is not None:
            drawn += 1
            assert _off_the_kink(*point[:2]), seed
    assert drawn >= 20  # the rule refills (even at 0.9 a fifth of the draws find a point), it does not give up


def test_the_all_zero_point_is_on_the_kink_and_refused():
    params, x, _ = points.fill(NET, (5,), "labels", np.random.default_rng(0), np.float64)
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    assert not points.in_domain(NET, zeros, np.zeros_like(x))


def test_a_shortened_point_stays_off_the_kink():
    params, x, _ = points.fill(NET, (5,), "labels", np.random.default_rng(1), np.float64)
    short = points.shorten({**params, "x": x}, fails=lambda arrays: True,  # every change "still fails"
                           allowed=lambda a: points.in_domain(NET, {k: a[k] for k in params}, a["x"]))
    kept = {k: short[k] for k in params}
    assert _off_the_kink(kept, short["x"])
    assert sum(int(np.count_nonzero(v)) for v in short.values()) < sum(int(np.count_nonzero(v)) for v in (*params.values(), x))


def test_shortening_stops_at_its_deadline():
    """Past the deadline, `fails` is not called again."""
    params, x, _ = points.fill(NET, (5,), "labels", np.random.default_rng(1), np.float64)
    calls = []

    def fails(arrays):
        calls.append(1)
        return True

    short = points.shorten({**params, "x": x}, fails, deadline=time.monotonic())  # the deadline has passed
    assert not calls and all(np.array_equal(short[k], v) for k, v in {**params, "x": x}.items())
    points.shorten({**params, "x": x}, fails)
    assert calls, "without a deadline the same point is shortened"


def test_shortening_takes_as_long_as_the_search_within_bounds():
    assert points.deadline_after(0.0) - time.monotonic() >= points.SHORTEST - 0.5  # however quick the search
    assert points.deadline_after(1e6) - time.monotonic() <= points.LONGEST  # however slow
    assert 4.0 <= points.deadline_after(5.0) - time.monotonic() <= 5.0


def test_a_call_that_raises_or_hangs_ends_the_shortening():
    """shorten_failure: once the code's outcome is None (it raised or hung, each time a whole timeout), it is not
    called again; the result kept is the last that still failed the same way."""
    params, x, _ = points.fill(NET, (5,), "labels", np.random.default_rng(1), np.float64)
    calls = []

    def outcome(arrays):
        calls.append(1)
        return "fails" if len(calls) < 3 else None

    _, kept = points.shorten_failure({**params, "x": x}, outcome, same=lambda result: result == "fails")
    assert len(calls) == 3 and kept == "fails"


def test_no_deadline_falls_after_the_processs_end(monkeypatch):
    """end_by (set by class mode from --time-limit) caps every deadline, however long the search took."""
    monkeypatch.setattr(points, "_END", float("inf"))
    end = time.monotonic() + 1.0
    points.end_by(end)
    assert points.deadline_after(1e6) == end and points.deadline_after(0.0) == end
    points.end_by(time.monotonic() - 1.0)  # already past: no shortening at all
    assert points.deadline_after(5.0) < time.monotonic()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nonzero", [0, 1, 3, 4])
def test_the_printed_array_is_the_array(dtype, nonzero):
    """The code a failing call is printed with gives back the array exactly: its zeros as np.zeros(shape), a few
    other elements assigned one by one, or every element written out."""
    rng = np.random.default_rng(nonzero)
    a = np.zeros((4, 5), dtype)
    a.flat[rng.choice(a.size, nonzero, replace=False)] = rng.uniform(-2, 2, nonzero)
    lines = points.assigned("a", a, float64_plain=True)
    scope = {"np": np}
    exec("\n".join(lines), scope)  # the printed code, as a student pastes it
    assert scope["a"].dtype == a.dtype and np.array_equal(scope["a"], a), lines
    assert len(lines) == (1 + nonzero if 0 < nonzero <= 3 else 1), lines


@pytest.mark.parametrize("values", [[-0.0] * 5, [0.0, 0.0, -0.0, 0.0, 0.0, 0.0], [0.0] * 5 + [np.inf, -np.inf, np.nan],
                                    [1.5, np.nan, 0.0, -2.0, 0.25, 3.0]])
def test_the_printed_array_keeps_negative_zeros_and_non_finite_values(values):
    a = np.array(values)
    for lines in (points.assigned("a", a, float64_plain=True), [f"a = {points.literal(a, float64_plain=True)}"]):
        scope = {"np": np}
        exec("\n".join(lines), scope)
        assert np.array_equal(scope["a"], a, equal_nan=True) and np.array_equal(np.signbit(scope["a"]), np.signbit(a)), lines
