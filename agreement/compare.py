"""The verdicts on one example: every quantity of one result (the loss and each gradient) judged against
a checker's, by agreement.tolerance.judge. The test suite and `python -m frameworks.check` both judge
through this function; they differ only in what they do with the verdicts.

    verdicts = compare(ours, theirs, "torch", np.float64, spread=lambda: network_spread(net, params, x, y))
    [v.message for v in verdicts.values() if not v.ok]
"""

from __future__ import annotations

import numpy as np

from .tolerance import Verdict, judge


def compare(ours: dict, theirs: dict, checker: str, dtype, *, spread=None, ours_name: str = "reference"
            ) -> dict[str, Verdict]:
    """{quantity: Verdict} for every quantity of `theirs` that `ours` has. `spread()` gives this example's
    rounding spreads {quantity: array} (agreement.rounding), asked for only where needed. A gradient that
    came back in another dtype than the inputs' fails: a float32 check computed in float64 proves nothing
    about float32."""
    dtype = np.dtype(dtype)
    verdicts = {}
    for quantity, value in theirs.items():
        if quantity not in ours:
            continue
        verdict = judge(quantity, ours[quantity], value, checker, dtype, ours_name=ours_name,
                        spread=None if spread is None else (lambda q=quantity: spread()[q]))
        got = np.asarray(ours[quantity]).dtype
        if verdict.ok and quantity != "loss" and got != dtype:
            verdict = verdict._replace(ok=False, message=f"{quantity} came back as {got} for {dtype} inputs")
        verdicts[quantity] = verdict
    return verdicts
