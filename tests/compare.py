"""Compare the reference with a checker by agreement.judge, record the verdicts for the run's table, and
fail saying exactly what failed."""

from __future__ import annotations

import functools
import re
import traceback

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


def _names(checkers) -> tuple[str, ...]:
    return (checkers,) if isinstance(checkers, str) else tuple(checkers)


def _what(line: str) -> str:
    """The quantity a failure line is about, or the whole line where it is about no one quantity."""
    found = re.match(r"(\S+) (disagrees at|has shape|came back as|is missing)", line)
    return found.group(1) if found else line


def _raised(name: str, err: Exception) -> str:
    """A checker's own crash, as its failure line: where it happened, so that it can be mended."""
    frame = traceback.extract_tb(err.__traceback__)[-1]
    return f"the {name} checker raised {type(err).__name__}: {err} (at {frame.filename}:{frame.lineno})"


def their_result(name: str, compute):
    """compute(), or the line saying that the checker raised: one checker's crash must not hide what the others
    make of the point."""
    try:
        return compute(), None
    except Exception as err:  # whatever a checker raises is reported as its failure
        return None, _raised(name, err)


def _body(failures: dict[str, list[str]], names) -> list[str]:
    """The first failing checker's lines, then one line on what the others make of the same point."""
    failing = [name for name in names if failures.get(name)]
    too = [f"{name} disagrees too: {', '.join(dict.fromkeys(_what(line) for line in failures[name]))}"
           for name in failing[1:]]
    agree = [name for name in names if name not in failing]
    if agree:
        too.append(f"{' and '.join(agree)} {'agrees' if len(agree) == 1 else 'agree'} at this point")
    return [*failures[failing[0]], *(["; ".join(too)] if too else [])]


def report_all(context: str, failures: dict[str, list[str]], checkers) -> str | None:
    """The failure message of one point checked against several checkers, or None where every one agrees:
    the first checker that disagrees in full, then in one line what the others make of the same point (a
    disagreement only one checker sees points at that checker as much as at the reference). "{checker}" in
    `context` becomes the first failing checker's name."""
    names = _names(checkers)
    failing = [name for name in names if failures.get(name)]
    if not failing:
        return None
    return "\n  ".join([f"{context.replace('{checker}', failing[0])}:", *_body(failures, names)])


def assert_agree(context: str, subject: str, checkers, dtype, ours: dict, theirs, *, spread=None, table=True):
    """Every quantity of each checker's result agrees with `ours` (see `disagreements`), or an AssertionError
    saying which do not, against which checker. `theirs` is the one checker's result ({quantity: array}), or
    for several, a function from a checker's name to its result; "{checker}" in `context` is replaced by the
    name of the first checker that disagrees."""
    names = _names(checkers)
    result_of = (lambda _: theirs) if isinstance(theirs, dict) else theirs
    failures = {}
    for name in names:
        result, crash = their_result(name, lambda n=name: result_of(n))
        failures[name] = [crash] if crash else disagreements(subject, name, dtype, ours, result, spread=spread,
                                                            table=table)
    message = report_all(context, failures, names)
    if message:
        raise AssertionError(message)


_SPREADS: dict = {}


def case_spread(case):
    """The case's rounding spread, kept for every other check of the same drawn case: the power test's checkers
    and variants of it (derandomized runs draw the same cases for each), the tolerance tests'."""
    arrays = [np.asarray(a) for a in (*case.params.values(), case.x, case.y)]
    key = (repr(case.net), *((a.shape, a.dtype.str, a.tobytes()) for a in arrays))  # N = 1 and one example differ
    if key not in _SPREADS:
        if len(_SPREADS) > 4096:
            _SPREADS.clear()
        _SPREADS[key] = network_spread(case.net, case.params, case.x, case.y)
    return _SPREADS[key]


class ReferenceRaised(Exception):
    """The judged model raised at a valid point: its message is the failure."""


def _fails(case, checkers, model) -> bool:
    try:
        return any(_network_disagreements(case, checkers, model, False).values())
    except ReferenceRaised:
        return True


def _network_disagreements(case, checkers, model, table: bool) -> dict[str, list[str]]:
    """{checker: what disagrees between its result and `model`'s at the case}, for every checker."""
    names = _names(checkers)
    try:
        loss, grads = model.loss_and_grads(case.params, case.x, case.y)
    except Exception as err:
        raise ReferenceRaised(f"the reference raised {type(err).__name__}: {err}") from err
    # The spread is the reference network's, whichever model is judged: the conditioning of the example.
    spread = once(lambda: case_spread(case))
    out = {}
    for name in names:
        result, crash = their_result(
            name, lambda n=name: checker(n).loss_and_grads(case.net.spec, case.params, case.x, case.y))
        out[name] = [crash] if crash else disagreements(
            case.family or case.net.name, name, case.dtype, {"loss": loss, **grads}, {"loss": result[0], **result[1]},
            spread=spread, table=table)
    return out


def check_network(case, checkers, model=None, *, mistake: str | None = None, table=True, shorten=True) -> None:
    """The reference's loss and gradients at `case` agree with each checker's (a name, or several: one point
    checked against all of them). `model` swaps in another implementation of the same network (a broken
    variant, in the power test); `mistake` names a known-wrong variant to check instead where it applies
    (--mistake). A failure in Hypothesis's final replay also shows the point shortened by tests/shrink.py,
    unless not `shorten`."""
    net = case.net
    if model is None and mistake is not None and mistakes.applies(net, mistake):
        model = mistakes.apply(net, mistake)
    model = model or net
    context = f"{case.family or net.name} {net!r} {case.dtype} vs {{checker}} (x {case.x.shape})"
    names = _names(checkers)
    try:
        failures = _network_disagreements(case, names, model, table)
    except ReferenceRaised as err:  # a backward that crashes on valid input is a failed check, not an error
        message, first = f"{context.replace(' vs {checker}', '')}: {err}", names[0]
    else:
        message = report_all(context, failures, names)
        first = next((name for name in names if failures[name]), None)
    if message is None:
        return
    if shorten and shrink.final_replay():
        short = shrink.shrink(case, lambda c: _fails(c, first, model))
        try:
            again = _body(_network_disagreements(short, names, model, False), names)
        except ReferenceRaised as err:
            again = [str(err)]
        message += ("\n\nThe same check fails at this shortened point (values zeroed and rounded while it "
                    "fails):\n  " + "\n  ".join(again) + "\n" + repr(short))
    raise AssertionError(message)
