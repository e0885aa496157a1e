"""A failing case made short: its values zeroed and rounded while the failure holds.

Hypothesis shrinks what it draws, the network, the sizes and the seed, but not the values NumPy
filled in from that seed. So the failing case it ends with is small in shape and long in digits.
This pass finishes the job on that one case (Hypothesis's final replay of it, never while
searching) with agreement.points.shorten: each array of params and x at zero, then each element
at zero, then at 1, 2 or 3 significant digits, keeping every change under which the case still
fails and stays in its layers' domains. Targets are kept as drawn: labels are short already, and
rows of probabilities must still sum to 1.
"""

from __future__ import annotations

import dataclasses

from agreement.points import BUDGET, in_domain, shorten


def shrink(case, fails, budget: int = BUDGET):
    """The case with as many zeros and as few digits as keep `fails(case)` true."""
    def rebuilt(arrays):
        return dataclasses.replace(case, params={k: arrays[k] for k in case.params}, x=arrays["x"])

    short = shorten({**case.params, "x": case.x}, fails=lambda arrays: fails(rebuilt(arrays)),
                    allowed=lambda arrays: in_domain(case.net, {k: arrays[k] for k in case.params}, arrays["x"], case.y),
                    budget=budget)
    return rebuilt(short)


def final_replay() -> bool:
    """Whether this run is Hypothesis's final replay of its minimal failing example."""
    from hypothesis.control import current_build_context
    from hypothesis.errors import InvalidArgument

    try:
        return current_build_context().is_final
    except InvalidArgument:  # not inside a Hypothesis test at all
        return False
