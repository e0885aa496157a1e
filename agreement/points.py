"""The points a network is checked at, shared by the test suite and `python -m frameworks.check`.

A point is drawn from a seed: NumPy fills the params, x and the targets, uniform in ±VALUE_RANGE
with a fraction of SPECIAL values (0, ±2, ±1e-3) mixed in, and refills until every layer's input
lies in the layer's declared domain (reference.Domain: away from a kink such as ReLU's at 0, where
two correct engines may legitimately take different sides). `shorten` makes a failing point short:
zeros and few digits, each change kept only while the failure holds and the point stays in its
domains, so that a shortened point never sits on a kink either.

    rng = np.random.default_rng(seed)
    params, x, y = fill(net, (N,), "one-hot", rng, np.float64)     # or None: no draw in the domain
    arrays = shorten({**params, "x": x}, fails=..., allowed=...)
"""

from __future__ import annotations

import time

import numpy as np

from agreement.tolerance import VISIBLE
from reference import validate

VALUE_RANGE = 2.0  # weights, inputs: |v| ≤ 2 keeps float32 rounding meaningful (agreement.tolerance)
SPECIAL = (0.0, VALUE_RANGE, -VALUE_RANGE, 1e-3, -1e-3)


def uniform(rng, dtype, shape, low=-VALUE_RANGE, high=VALUE_RANGE, special=0.0):
    """A uniform array in [low, high], with a fraction `special` of its elements set to SPECIAL values
    (those in the range)."""
    a = rng.uniform(low, high, size=shape)
    if special:
        allowed = np.array([v for v in SPECIAL if low <= v <= high])
        where = rng.random(shape) < special
        a = np.where(where, rng.choice(allowed, size=shape), a)
    return a.astype(dtype)


TARGET_FORMS = {
    "values": ("values",),  # regression targets in [0, 1]
    "classes": ("labels", "one-hot", "probabilities"),
    "labels": ("labels", "one-hot"),  # one correct class per example
    "binary": ("0/1 labels", "probabilities"),
}


def class_targets(rng, form, batch, classes, dtype):
    """Integer labels, one-hot rows, or probability rows (soft labels), for `batch` examples."""
    labels = rng.integers(0, classes, size=batch)
    if form == "labels":
        return labels
    if form == "one-hot":
        return np.eye(classes, dtype=dtype)[labels]
    weights = rng.uniform(0.0, 1.0, size=batch + (classes,)) + 1e-3
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(dtype)


def regression_targets(rng, form, batch, outputs, dtype):
    return rng.uniform(0.0, 1.0, size=batch + (outputs,)).astype(dtype)


def binary_targets(rng, form, batch, outputs, dtype):
    """0/1 labels or probabilities, for K independent yes/no outputs."""
    if form == "0/1 labels":
        return rng.integers(0, 2, size=batch + (outputs,)).astype(dtype)
    return rng.uniform(0.0, 1.0, size=batch + (outputs,)).astype(dtype)


# A loss declares the form of its targets by the validation it runs on y; each form has a filler.
TARGETS = {
    validate.targets: ("values", regression_targets),
    validate.class_targets: ("classes", class_targets),
    validate.label_targets: ("labels", class_targets),
    validate.binary_targets: ("binary", binary_targets),
}


def target_forms(loss_layer):
    """The forms of target that `loss_layer` takes, and the function that fills one."""
    group, filler = TARGETS[type(loss_layer).targets]
    return TARGET_FORMS[group], filler


def in_domain(net, params, x, y=None) -> bool:
    """Whether every layer's input lies in the layer's declared test domain (away from a kink or a tie),
    and, given the targets y, the loss's input in the loss's."""
    h = net.batched(x)
    with np.errstate(all="ignore"):
        for layer, keys in net.layers:
            if not layer.domain.inside(h):
                return False
            h, _ = layer.forward({local: params[key] for local, key in keys.items()}, h)
        domain = net.loss_layer.domain
        if y is None or domain is None:
            return True
        targets = net.targets(y, x)
        return domain.inside(h, targets[None] if net.single(x) else targets)


def into_domain(domain, h):
    """h moved into the domain of a layer's input (reference.Domain.into)."""
    return domain.into(h)


def fill(net, batch, form, rng, dtype, special=0.0, attempts=50):
    """(params, x, y) of one point of `net` for `batch` examples ((N,), or () for one 1-D example) and
    targets of `form`, refilled from `rng` until every layer's input lies in its domain; None after
    `attempts` tries."""
    _, filler = target_forms(net.loss_layer)
    for _ in range(attempts):
        params = {key: uniform(rng, dtype, shape, special=special) for key, shape in net.param_shapes.items()}
        x = uniform(rng, dtype, batch + net.input_shape, special=special)
        if net.loss_layer.domain is None and in_domain(net, params, x):
            return params, x, filler(rng, form, batch, net.outputs, dtype)
        if net.loss_layer.domain is not None:  # whether the loss's input is off its kink depends on y too
            y = filler(rng, form, batch, net.outputs, dtype)
            if in_domain(net, params, x, y):
                return params, x, y
    return None


def literal(a, float64_plain=False) -> str:
    """Code for the array: each float in the shortest digits that give back the same value in its dtype
    (without the dtype for float64, NumPy's default, when `float64_plain`); np.zeros(shape) for more than 4 zeros."""
    a = np.asarray(a)
    if a.size > 4 and not np.any(a) and not (a.dtype.kind == "f" and np.signbit(a).any()):  # zeros (shapes matter)
        plain = float64_plain and a.dtype == np.float64
        return f"np.zeros({a.shape}{'' if plain else f', dtype=np.{a.dtype.name}'})"
    if a.dtype.kind != "f":
        return f"np.array({a.tolist()!r})" if float64_plain and a.dtype.kind == "i" else \
            f"np.array({a.tolist()!r}, dtype=np.{a.dtype.name})"

    def nested(b) -> str:
        return _number(b[()]) if b.ndim == 0 else "[" + ", ".join(nested(row) for row in b) + "]"

    if float64_plain and a.dtype == np.float64:
        return f"np.array({nested(a)})"
    return f"np.array({nested(a)}, dtype=np.{a.dtype.name})"


def _number(value) -> str:
    """A NumPy float as code: the shortest digits that round-trip in its own dtype (its str()), np.inf, np.nan."""
    v = float(str(value))
    return repr(v) if np.isfinite(v) else "np.nan" if np.isnan(v) else "np.inf" if v > 0 else "-np.inf"


def assigned(name: str, a, float64_plain=False) -> list[str]:
    """Code lines that set `name` to the array: `name = literal`, or, for a larger array of zeros but a few
    elements (a shortened dropout's 20 × 20 upstream gradient, say), the zeros and then each of those elements."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return [f"{name} = {literal(a, float64_plain)}"]
    nonzero = np.argwhere((a != 0) | np.signbit(a))  # -0.0 too, and NaN
    if a.size <= 4 or not 0 < len(nonzero) <= 3:
        return [f"{name} = {literal(a, float64_plain)}"]
    lines = [f"{name} = {literal(np.zeros_like(a), float64_plain)}"]
    return lines + [f"{name}[{', '.join(map(str, index))}] = {_number(a[tuple(index)])}" for index in nonzero]


BUDGET = 600  # evaluations at most: a few seconds, and only once, on the failure reported
# How long shortening may take: as long as the search that found the failure, within these. It bounds the
# shortening's share of a per-file time limit, so that slow code is not stopped there, and blamed for a loop, while
# its example is shortened.
SHORTEST, LONGEST = 2.0, 10.0


_END = float("inf")  # no deadline later than this (a time.monotonic() value): end_by


def end_by(when: float) -> None:
    """No search and no shortening in this process past `when` (a time.monotonic() value; see ended). Class mode
    sets it in the child that checks one file, from --time-limit, so that slow code gets its verdict in time."""
    global _END
    _END = when


def ended() -> bool:
    """Whether end_by's time has passed: what a check does after its verdict (spare points, a grid of shapes) is
    then left out."""
    return time.monotonic() >= _END


def deadline_after(searched: float) -> float:
    """When shortening stops (a time.monotonic() value), given the seconds the search took: within SHORTEST and
    LONGEST of now, and not after end_by's time."""
    return min(_END, time.monotonic() + min(LONGEST, max(SHORTEST, searched)))


def finite(value) -> bool:
    """Whether a result (an array, a number, or whatever a student's code returned) is all finite numbers."""
    try:
        return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _rounded(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def shorten(arrays: dict, fails, allowed=lambda arrays: True, budget: int = BUDGET, deadline: float | None = None) -> dict:
    """`arrays` with as many zeros and as few digits as keep `fails(arrays)` and `allowed(arrays)` true:
    each whole array at zero first, then each element at zero, then at 1, 2 or 3 significant digits.
    At most `budget` evaluations of `fails`, none after `deadline` (a time.monotonic() value)."""
    arrays = dict(arrays)
    evaluations = 0

    def spent() -> bool:
        return evaluations >= budget or (deadline is not None and time.monotonic() >= deadline)

    def attempt(key, value) -> bool:
        nonlocal evaluations
        evaluations += 1
        trial = {**arrays, key: value}
        if allowed(trial) and fails(trial):
            arrays[key] = value
            return True
        return False

    for key in list(arrays):
        if not spent() and np.any(arrays[key]):
            attempt(key, np.zeros_like(arrays[key]))
    for key in list(arrays):
        for index in np.ndindex(np.shape(arrays[key])):
            original = float(arrays[key][index])
            for target in (0.0, *(_rounded(original, d) for d in (1, 2, 3))):
                if spent() or target == original:
                    break
                value = np.array(arrays[key], copy=True)
                value[index] = target
                if attempt(key, value):
                    break
    return arrays


def same_failure(found: tuple[dict, dict], now: tuple[dict, dict]) -> bool:
    """Whether a shorter point fails as the point found does. Each is (relative error of each quantity wrong, what
    the code returned): the same quantities wrong, each by 0.1 % or more (or by as much as found), and every value
    that was finite still finite, so that it shows the same failure and not one that reads like rounding or NaN."""
    (errors_found, values_found), (errors, values) = found, now
    return (set(errors) == set(errors_found) and all(errors[q] >= min(e, VISIBLE) for q, e in errors_found.items())
            and all(finite(values[q]) for q, v in values_found.items() if finite(v)))


def shorten_failure(arrays: dict, outcome, same, allowed=lambda arrays: True, deadline: float | None = None):
    """shorten, for a failure of someone's code: `outcome(arrays)` runs it (None when it raised or hung, which ends
    the shortening: each such call may take a whole timeout), `same(result)` says whether it still fails as it did.
    Returns the arrays and the result at the last point kept (None if none was)."""
    state = {"stopped": False, "kept": None}

    def fails(trial) -> bool:
        result = None if state["stopped"] else outcome(trial)
        state["stopped"] = result is None
        if result is None or not same(result):
            return False
        state["kept"] = result
        return True

    return shorten(arrays, fails, allowed, deadline=deadline), state["kept"]

