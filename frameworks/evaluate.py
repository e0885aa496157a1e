"""One point: the student's code called as its assignment calls it, and its result judged against the
checker's by agreement.compare, under each convention the check accepts there.

    evaluation = evaluate(preset, target, module, nets, (params, x, y), timeout)
    evaluation.wrong      what disagrees, one line each ([] when the point passes)
    evaluation.net        the network (convention) it was judged under: the first that passes, else the first
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from agreement import compare, network_spread
from frameworks import CHECKERS
from frameworks.presets import BadResult
from frameworks.submission import Crash


@dataclass
class Evaluation:
    net: object
    ours: dict | None  # {"loss": ..., key: gradient}, or None when the code crashed or its result was unreadable
    right: dict
    wrong: list
    crash: Crash | None = None
    notes: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # the arguments the student's code changed in place
    disagree: set = field(default_factory=set)  # the quantities whose verdict failed
    dtype_slips: list = field(default_factory=list)  # gradients that came back in another dtype than the inputs'
    errors: dict = field(default_factory=dict)  # each disagreeing quantity's relative error (agreement's Verdict.rel_err)

    @property
    def hung(self) -> bool:
        return self.crash is not None and self.crash.hung


class Hung(BaseException):
    """The student's code did not return in time: Hypothesis stops at once (a BaseException), with no
    shrinking and no spare points, each of which would wait as long again. Carries the failing
    (point, evaluation)."""

    def __init__(self, failing):
        self.failing = failing


def checker_name(module) -> str:
    return next(name for name, (path, _) in CHECKERS.items() if path == module.__name__)


def _missing(preset, returned) -> list[str]:
    """A line per gradient the assignment asks for that the code did not return (one under another case
    is said so)."""
    lower = {str(k).lower(): k for k in returned}
    return [f"your code returned no gradient {key}" + (f" (it returned {lower[key.lower()]!r}: the keys are "
            "case-sensitive)" if key.lower() in lower else "") for key in preset.required if key not in returned]


def truth(module, net, point) -> dict:
    loss, grads = module.loss_and_grads(net.spec, *point)
    return {"loss": loss, **grads}


def judge(preset, module, net, point, outcome) -> Evaluation:
    """The student's outcome at `point` against the checker's result for `net`."""
    params, x, y = point
    right = truth(module, net, point)
    ours = {"loss": outcome.loss, **outcome.grads}
    spread = functools.cache(lambda: network_spread(net, params, x, y))
    verdicts = compare(ours, right, checker_name(module), x.dtype, spread=spread, ours_name="yours")
    wrong = [f"your code changed its input {name} in place" for name in outcome.changed]
    wrong += _missing(preset, outcome.keys) + [v.message for v in verdicts.values() if not v.ok]
    slips = [q for q in outcome.grads if q in right and outcome.grads[q].dtype != x.dtype]
    failed = {q: v.rel_err for q, v in verdicts.items() if not v.ok}
    return Evaluation(net, ours, right, wrong, None, outcome.notes, outcome.changed, set(failed), slips, failed)


def crashed(preset, module, net, point, crash) -> Evaluation:
    """The evaluation of a call that crashed or hung; how the assignment calls the code where the error
    arose in the call itself."""
    hint = "" if crash.where or crash.hung else f" (it is called as {preset.call})"
    return Evaluation(net, None, truth(module, net, point), [f"your code {crash}{hint}"], crash)


def evaluate(preset, target, module, nets, point, timeout) -> Evaluation:
    """The student's code called once at `point`, judged under each of `nets` (the conventions accepted
    there) until one passes."""
    params, x, y = point
    try:
        outcome = preset.invoke(target, nets[0], params, x, y, timeout, preset.options)
    except Crash as crash:
        return crashed(preset, module, nets[0], point, crash)
    except BadResult as bad:
        return Evaluation(nets[0], None, truth(module, nets[0], point), [str(bad)])
    first = None
    for net in nets:
        evaluation = judge(preset, module, net, point, outcome)
        if not evaluation.wrong:
            return evaluation
        first = first or evaluation
    return first
