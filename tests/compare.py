"""Compare the reference with a checker by agreement.judge, record the verdicts for the run's table, and
fail saying exactly what failed."""

from __future__ import annotations

import functools

import numpy as np

import frameworks
from agreement import compare, network_spread
from reference import mistakes
from tests import report, shrink


@functools.cache
def checker(name: str):
    return frameworks.load(name)


def once(compute):
    """compute(), computed on the first call only: a rounding spread is costly and often not needed."""
    return functools.cache(compute)


def disagreements(subject: str, checker_name: str, dtype, ours: dict, theirs: dict, *, spread=None,
                  table=True) -> list[str]:
    """What disagrees between `theirs` and `ours`, one line per quantity, by agreement.compare; `spread`
    returns the rounding spreads {quantity: array} of this example (agreement.rounding) when asked.
    Each verdict is recorded for the run's table when `table`."""
    failures = [f"{quantity} is missing from the reference's result" for quantity in theirs if quantity not in ours]
    for quantity, verdict in compare(ours, theirs, checker_name, dtype, spread=spread).items():
        if table:
            report.record((subject, checker_name, np.dtype(dtype).name, quantity), verdict)
        if verdict.message:
            failures.append(verdict.message)
    return failures


def assert_agree(context: str, subject: str, checker_name: str, dtype, ours: dict, theirs: dict, *, spread=None,
                 table=True):
    """Every quantity in `theirs` agrees with `ours` (see `disagreements`), or an AssertionError saying
    which do not."""
    failures = disagreements(subject, checker_name, dtype, ours, theirs, spread=spread, table=table)
    if failures:
        raise AssertionError(f"{context}:\n  " + "\n  ".join(failures))


_SPREADS: dict = {}


def _spread(case):
    """The case's rounding spread, kept for the other checkers' tests of the same drawn case (derandomized
    runs draw the same cases for each checker) and for the power test's variants of it."""
    key = (repr(case.net), *(np.asarray(a).tobytes() for a in (*case.params.values(), case.x, case.y)))
    if key not in _SPREADS:
        if len(_SPREADS) > 4096:
            _SPREADS.clear()
        _SPREADS[key] = network_spread(case.net, case.params, case.x, case.y)
    return _SPREADS[key]


def _network_disagreements(case, checker_name: str, model, table: bool) -> list[str]:
    try:
        loss, grads = model.loss_and_grads(case.params, case.x, case.y)
    except Exception as err:  # a backward that crashes on valid input is a failed check, not an error
        return [f"the reference raised {type(err).__name__}: {err}"]
    their_loss, their_grads = checker(checker_name).loss_and_grads(case.net.spec, case.params, case.x, case.y)
    # The spread is the reference network's, whichever model is judged: the conditioning of the example.
    spread = once(lambda: _spread(case))
    return disagreements(case.family or case.net.name, checker_name, case.dtype, {"loss": loss, **grads},
                         {"loss": their_loss, **their_grads}, spread=spread, table=table)


def check_network(case, checker_name: str, model=None, *, mistake: str | None = None, table=True,
                  shorten=True) -> None:
    """The reference's loss and gradients at `case` agree with the checker's. `model` swaps in another
    implementation of the same network (a broken variant, in the power test); `mistake` names a known-wrong
    variant to check instead where it applies (--mistake). A failure in Hypothesis's final replay also
    shows the point shortened by tests/shrink.py, unless not `shorten`."""
    net = case.net
    if model is None and mistake is not None and mistakes.applies(net, mistake):
        model = mistakes.apply(net, mistake)
    model = model or net
    context = f"{case.family or net.name} {net!r} {case.dtype} vs {checker_name} (x {case.x.shape})"
    failures = _network_disagreements(case, checker_name, model, table)
    if not failures:
        return
    message = f"{context}:\n  " + "\n  ".join(failures)
    if shorten and shrink.final_replay():
        short = shrink.shrink(case, lambda c: bool(_network_disagreements(c, checker_name, model, False)))
        again = _network_disagreements(short, checker_name, model, False)
        message += ("\n\nThe same check fails at this shortened point (values zeroed and rounded while it "
                    "fails):\n  " + "\n  ".join(again) + "\n" + repr(short))
    raise AssertionError(message)
