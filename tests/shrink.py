"""A failing point made short: its values zeroed and rounded while the failure holds.

Hypothesis shrinks what it draws, the network, the sizes and the seed, but not the values NumPy
filled in from that seed. So the failing case it ends with is small in shape and long in digits.
This pass finishes the job on that one case (Hypothesis's final replay of it, never while
searching): it tries each array of params and x at zero, then each element at zero, then at 1, 2
or 3 significant digits, and keeps every change under which the case still fails and stays in
its layers' domains. Targets are kept as drawn: labels are short already, and rows of
probabilities must still sum to 1.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tests.strategies import in_domain

BUDGET = 600  # evaluations at most: a few seconds, and only once, on the failure reported


def _rounded(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def shrink(case, fails, budget: int = BUDGET):
    """The case with as many zeros and as few digits as keep `fails(case)` true."""
    arrays = {**case.params, "x": case.x}
    evaluations = 0

    def holds(candidate_arrays) -> bool:
        nonlocal evaluations
        evaluations += 1
        params = {k: candidate_arrays[k] for k in case.params}
        candidate = dataclasses.replace(case, params=params, x=candidate_arrays["x"])
        return in_domain(case.net, params, candidate.x) and fails(candidate)

    def attempt(key, value) -> bool:
        trial = {**arrays, key: value}
        if holds(trial):
            arrays[key] = value
            return True
        return False

    for key in list(arrays):
        if evaluations < budget and np.any(arrays[key]):
            attempt(key, np.zeros_like(arrays[key]))
    for key in list(arrays):
        for index in np.ndindex(arrays[key].shape):
            original = float(arrays[key][index])
            for target in (0.0, *(_rounded(original, d) for d in (1, 2, 3))):
                if evaluations >= budget or target == original:
                    break
                value = arrays[key].copy()
                value[index] = target
                if attempt(key, value):
                    break
    return dataclasses.replace(case, params={k: arrays[k] for k in case.params}, x=arrays["x"])


def final_replay() -> bool:
    """Whether this run is Hypothesis's final replay of its minimal failing example."""
    from hypothesis.control import current_build_context
    from hypothesis.errors import InvalidArgument

    try:
        return current_build_context().is_final
    except InvalidArgument:  # not inside a Hypothesis test at all
        return False
