"""The conventions a course allows, read off the student's own code before the check holds them to it.

    accepted, read = detect(preset, target, module, dtype, timeout)
    accepted    the conventions every point is judged under: one, or several the probes cannot tell apart
    read        {convention: what was read and how}, for the report

CS224n's cost summed or averaged over the batch; CS231n's reg·ΣW² or ½·reg·ΣW² (at reg > 0). At two
probe points of the preset's sizes the student's result is judged under each candidate. One that
all of it follows is chosen; several that it all follows (a reg so small that the two penalties
agree to the tolerance) are all accepted; if none, the one its loss follows, else its gradients,
where the candidates differ; else the first.
"""

from __future__ import annotations

import itertools

import numpy as np

from agreement import compare
from agreement.points import fill
from frameworks.evaluate import Hung, crashed, judge, truth
from frameworks.presets import BadResult
from frameworks.submission import Crash

PROBES = ((3, 101), (5, 102))  # (batch, seed) at the preset's sizes
LOOSE = 1e-5  # relative: a loss computed in part in float32 still tells a sum from a mean


def combos(preset) -> list[dict]:
    """Every combination of the conventions that apply to this run (the regularization's only at reg > 0)."""
    conventions = {c: options for c, options in preset.candidates.items()
                   if not (c == "regularization" and not preset.options.get("reg"))}
    return [dict(zip(conventions, values, strict=True)) for values in itertools.product(*conventions.values())]


def point(net, preset, n, seed, dtype, special=0.0):
    return fill(net, (n,), preset.target_form, np.random.default_rng(seed), dtype, special)


def _said(chosen: list[dict], how: str) -> dict:
    return {c: f"{' or '.join(dict.fromkeys(combo[c] for combo in chosen))} ({how})" for c in chosen[0]}


def detect(preset, target, module, dtype, timeout) -> tuple[list[dict], dict]:
    candidates = combos(preset)
    if candidates == [{}]:
        return [{}], {}
    nets = [preset.network(preset.sizes, combo) for combo in candidates]
    full, loss_score, grad_score, probed = [True] * len(nets), [0] * len(nets), [0] * len(nets), 0
    near = [True] * len(nets)  # the loss within LOOSE of the candidate's, for code that is not float64-exact
    for n, seed in PROBES:
        at = point(nets[0], preset, n, seed, dtype)
        if at is None:
            continue
        try:
            outcome = preset.invoke(target, nets[0], *at, timeout, preset.options)
        except Crash as crash:
            if crash.hung:
                raise Hung((at, crashed(preset, module, nets[0], at, crash))) from None
            continue
        except BadResult:
            continue
        probed += 1
        truths = [truth(module, net, at) for net in nets]
        returned = {"loss", *outcome.grads}
        differ = {q for other in truths[1:] for q, v in compare(other, truths[0], "a candidate", dtype).items()
                  if not v.ok and q in returned}
        for i, net in enumerate(nets):
            disagree = judge(preset, module, net, at, outcome).disagree
            near[i] = near[i] and abs(outcome.loss - truths[i]["loss"]) <= LOOSE * abs(truths[i]["loss"])
            full[i] = full[i] and not disagree
            loss_score[i] += "loss" in differ and "loss" not in disagree
            grad_score[i] += len({q for q in differ if q != "loss"} - disagree)
    if not probed:
        return candidates[:1], _said(candidates[:1], "not read: your code gave no result at the probe points")
    consistent = [c for c, ok in zip(candidates, full, strict=True) if ok]
    if len(consistent) == 1:
        return consistent, _said(consistent, "read off your loss and gradients")
    if consistent:
        return consistent, _said(consistent, "these agree to the tolerance here: each is accepted")
    best = max(range(len(nets)), key=lambda i: (loss_score[i], grad_score[i], near[i], -i))
    how = ("read off your loss" if loss_score[best] else "read off your gradients" if grad_score[best]
           else f"read off your loss, which follows it only to {LOOSE:g}" if near[best] and sum(near) == 1
           else "the first the course allows: neither your loss nor your gradients follow any")
    return [candidates[best]], _said([candidates[best]], how)
