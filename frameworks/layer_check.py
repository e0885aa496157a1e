"""`python -m frameworks.check layers.py:batchnorm_backward --preset cs231n-layers`: a layer's forward and
backward as a CS231n student writes them, checked at many drawn configurations.

For each configuration (frameworks.layer_functions), the student's forward is called as the
assignment calls it, then the backward with the forward's cache and a random upstream gradient;
the forward's output and every gradient are judged against the checker's (agreement), so a wrong
forward fails even where its backward matches it. Failures are narrowed down to the features all
failing configurations share ("only where padding > 0"), the smallest one's point is shortened while
it fails (agreement.points.shorten), and named where a known-wrong variant of
the layer (reference.mistakes) gives the student's values. Dropout's mask is the student's own, read
off its cache; the fraction of units it keeps tells whether p is the keep probability (the course
since 2018) or the drop probability (2017), and a forward that keeps neither is a named mistake. The verdict's
wording, the mistakes matched and the call printed are frameworks.layer_report's.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import frameworks
from agreement import compare, layer_spread
from agreement.points import deadline_after, ended, same_failure, shorten_failure, uniform
from frameworks.layer_functions import FUNCTIONS
from frameworks.layer_report import call_lines, explain_command, gradient_name, own_params, shared_condition, verdict
from frameworks.submission import Crash, UsageError, call, load
from frameworks.verify import Result, out_of_time
from reference.conv import WindowTies
from reference.network import Step

MASK_SLACK = 0.12  # how far the fraction kept may stray from p: 400+ units keep within ±0.05 of it


def _seeded(rng):
    return lambda name, options: tuple(options)[rng.integers(len(tuple(options)))]


def _inputs(config, rng):
    """x in the first layer's domain, the params, and dout (or the integer labels of a loss)."""
    if config.classes:
        loss_x = uniform(rng, np.float64, config.shape)
        return loss_x, {}, rng.integers(0, config.classes, size=config.shape[0])
    x = config.layers[0].domain.into(uniform(rng, np.float64, config.shape)) if config.layers else None
    params = {name: uniform(rng, np.float64, config.layers[i].param_shapes[local])
              for name, (i, local) in config.params.items()}
    return x, params, None


def truth(module, config, x, params, dout):
    """The checker's output and gradients, through each reference step of the configuration in turn."""
    values, h = [], x
    for i, layer in enumerate(config.layers):
        values.append(h)
        h = module.value(Step.of(layer), {"x": h, **own_params(config, params, i)})
    if dout is None:
        return h, None
    grads, g = {}, dout
    for i in range(len(config.layers) - 1, -1, -1):
        _, pulled = module.value_and_vjp(Step.of(config.layers[i]), {"x": values[i], **own_params(config, params, i)}, g)
        g = pulled.pop("x")
        grads.update({name: pulled[local] for name, (j, local) in config.params.items() if j == i})
    return h, {"x": g, **grads}


def _arrays(value, shape):
    """Every array of `shape` in a cache (tuples, lists, dicts, nested)."""
    if isinstance(value, np.ndarray):
        return [value] if value.shape == shape else []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v, shape)]
    return []


def dropout_keep(p, cache, shape):
    """(the keep probability the student's forward uses, its mask, a mistake or None), read off its cache."""
    # a mask holds at most two values, 0 and 1 (or 1/p, a mask already scaled); x itself holds many
    masks = [a for a in _arrays(cache, shape) if len(np.unique(a)) <= 2]
    if not masks:
        return None, None, (f"dropout_forward's cache holds no mask: no array of x's shape {shape} with one value "
                            f"for the kept units and 0 for the dropped ones")
    kept = masks[0] != 0
    fraction = float(kept.mean())
    for keep, meaning in ((p, "keep"), (1 - p, "drop")):
        if abs(fraction - keep) <= MASK_SLACK and abs(fraction - keep) < abs(fraction - (1 - keep)):
            return (keep, meaning), kept, None
    return None, kept, (f"dropout_forward keeps {fraction:.0%} of the units with p = {p}: neither p (p the keep "
                        f"probability) nor 1 − p (p the drop probability)")


def _student(target, forward, name, config, x, params, dout, y, timeout):
    """The student's (output, {quantity: gradient}, cache) at one configuration; a Crash propagates."""
    spec = FUNCTIONS[name]
    if spec.forward is None:
        returned = call(target, target.obj, {"x": x.copy(), "y": y.copy()}, timeout)[0]
        loss, dx = _pair(returned, f"{name} returned", "(loss, dx)")
        return loss, {"x": dx}, None
    extra = [dict(config.extra)] if config.extra else []
    arguments = {"x": x.copy(), **{k: v.copy() for k, v in params.items()}}
    returned, _ = call(forward, forward.obj, {**arguments, **({"param": extra[0]} if extra else {})}, timeout)
    out, cache = _pair(returned, f"{spec.forward} returned", "(out, cache)")
    grads, _ = call(target, target.obj, {"dout": dout.copy(), "cache": cache}, timeout)
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(spec.returns):
        raise Crash(f"returned {len(grads)} value(s) where ({', '.join('d' + r for r in spec.returns)}) belong")
    return out, dict(zip(spec.returns, grads, strict=True)), cache


def _pair(value, what, expected):
    """The two values a CS231n function returns, or a Crash saying what it returned instead."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        got = f"{len(value)} values" if isinstance(value, (tuple, list)) else type(value).__name__
        raise Crash(f"{what} {got} where {expected} belongs")
    return value


def describe(target_text) -> str:
    return f"{target_text} as CS231n calls it"


def check(target_text, checker="torch", examples=60, timeout=10.0) -> Result:
    """The verdict on one layer function of the file, against the checker."""
    path, _, name = target_text.rpartition(":")
    described = describe(target_text)
    if name not in FUNCTIONS:
        return Result("ERROR", described, wrong=[f"usage: --preset cs231n-layers checks {', '.join(FUNCTIONS)}; "
                                                 f"got {name!r}"])
    spec = FUNCTIONS[name]
    try:
        target = load(target_text, timeout)
        forward = load(f"{path}:{spec.forward}", timeout) if spec.forward else None
    except UsageError as err:
        return Result("ERROR", described, wrong=[f"usage: {err}"])
    except Crash as crash:
        return Result("ERROR", described, wrong=[f"your code {crash}"])
    subject = Subject(name, target, forward, frameworks.load(checker), checker, timeout)
    rng = np.random.default_rng(0)
    results, raised, conventions, started = [], [], {}, time.monotonic()
    for _ in range(examples):
        if ended():  # the child's --time-limit is near: the verdict on what was checked is sent instead
            if not raised and all(r["ok"] for r in results):
                return out_of_time(described, len(results), time.monotonic() - started, examples, "configurations")
            break
        outcome = _one(subject, spec.draw(_seeded(rng)), rng, conventions)
        if isinstance(outcome, Raised) and outcome.crash.error:  # it raised: drawn on, to say where it does
            raised.append(outcome)
            continue
        if isinstance(outcome, Raised):  # it hung, or returned the wrong thing: each call would again
            outcome = Result("FAIL", "", wrong=[f"your code {outcome.crash}"],
                             example=call_lines(name, outcome.config, *outcome.point))
        if isinstance(outcome, Result):  # that, or its dropout keeps neither p nor 1 − p
            count = len(results) + len(raised) + 1
            outcome.described, outcome.shortened = described, False
            outcome.runs = [f"{count} configuration{'s' if count > 1 else ''} drawn, the last failed"]
            return outcome
        results.append(outcome)
    deadline = deadline_after(time.monotonic() - started)
    if raised:
        return _raised(subject, described, results, raised, conventions, deadline)
    return verdict(name, described, results, conventions, functools.partial(_shortened, subject, deadline=deadline))


class Raised(NamedTuple):
    """A configuration at which the student's code raised (or hung, or returned the wrong thing), and its point."""

    crash: Crash
    config: object
    point: tuple  # (x, params, dout, y)


def _raised(subject, described, results, raised, conventions, deadline) -> Result:
    """The smallest configuration at which the code raised, its point shortened while it raises the same error at the
    same line; for each error (and line) it raised, what the configurations raising it share that some other
    configuration lacks ("only where padding > 0"); and what it got wrong where it returned."""
    smallest = min(raised, key=lambda r: r.point[0].size + sum(v.size for v in r.point[1].values()))
    groups = {}
    for r in raised:
        groups.setdefault(_where_raised(r.crash), []).append(r)
    first = _where_raised(smallest.crash)
    groups = {first: groups.pop(first), **groups}  # the error shown first

    def shared(key) -> str:
        return shared_condition([*({"config": r.config, "ok": _where_raised(r.crash) != key} for r in raised),
                           *({"config": r["config"], "ok": True} for r in results)])

    count, crash = len(raised) + len(results), smallest.crash
    diagnoses, counts = [], []
    for (error, at), group in groups.items():
        condition = shared((error, at))
        main = (error, at) == first
        diagnoses.append(f"your code {'raises' if main else 'also raises'} {error}" + (f" {condition}" if condition else "")
                         + (f", at {at}" if at else ""))
        counts.append(f"{len(group)} of {count} configurations raise {error}" + (f", {condition}" if condition else "")
                      if main else f"{len(group)} raise {error}")
    failing = [r for r in results if not r["ok"]]
    wrong_elsewhere = sorted(set().union(*(r["wrong"] for r in failing)))
    notes = [f"where your code returns, {', '.join(wrong_elsewhere)} {'is' if len(wrong_elsewhere) == 1 else 'are'} wrong "
             f"at {len(failing)} of {len(results)} configurations; run it again once it no longer raises"] if failing else []
    point = _shortened_crash(subject, smallest, deadline)
    return Result("FAIL", described, wrong=[f"your code {crash}", *notes],
                  conventions={k: v for k, v in conventions.items() if k != "p"},  # p is read only where it returns
                  example=call_lines(subject.name, smallest.config, *point), where="; ".join(counts), diagnoses=diagnoses,
                  runs=[f"{count} configurations drawn (frameworks.layer_functions), one point each"],
                  explain=explain_command(smallest.config), shortened=point is not smallest.point)


def _where_raised(crash) -> tuple[str, str]:
    return crash.error, crash.where


def _shortened_crash(subject, raised, deadline):
    """The point with zeros and short numbers while the code raises the same error at the same line there, and x stays
    in the domain (agreement.points.shorten_failure: a call that hangs ends it). The point as it was if nothing
    could be shortened."""
    config, (x, params, dout, y) = raised.config, raised.point

    def outcome(arrays):  # where it raised, "" where it returned, None where it hung
        try:
            _at(subject, config, (arrays["x"], {k: arrays[k] for k in params}, arrays.get("dout"), y), {})
        except Crash as crash:
            return None if crash.timed_out else _where_raised(crash)
        return ""

    arrays = {"x": x, **params, **({"dout": dout} if dout is not None else {})}
    short, kept = shorten_failure(arrays, outcome, lambda key: key == _where_raised(raised.crash),
                                  allowed=lambda arrays: _allowed(subject.name, config, arrays["x"], y), deadline=deadline)
    if kept is None:
        return raised.point
    return short["x"], {k: short[k] for k in params}, short.get("dout"), y


@dataclass(frozen=True)
class Subject:
    """What every point of one check is judged with: the student's function and its forward, and the checker."""

    name: str
    target: object
    forward: object
    module: object
    checker: str
    timeout: float


def _one(subject, config, rng, conventions):
    """The verdicts at one drawn configuration ({"ok", "wrong", "messages", ...}), or a failing Result."""
    spec = FUNCTIONS[subject.name]
    x, params, y = _inputs(config, rng)
    loss_layer = spec.loss("mean") if spec.loss else None
    if loss_layer is not None:
        while loss_layer.domain is not None and not loss_layer.domain.inside(x, np.eye(config.classes)[y]):
            x = uniform(rng, np.float64, config.shape)
    dout = uniform(rng, np.float64, truth(subject.module, config, x, params, None)[0].shape) if config.layers else None
    try:
        return _at(subject, config, (x, params, dout, y), conventions)
    except Crash as crash:
        return Raised(crash, config, (x, params, dout, y))


def _at(subject, config, point, conventions):
    """The verdicts at one point (x, params, dout, y) of a configuration, or a failing Result (a dropout that keeps
    neither p nor 1 − p); a Crash of the student's code propagates."""
    name, module, checker = subject.name, subject.module, subject.checker
    spec = FUNCTIONS[name]
    x, params, dout, y = point
    loss_layer, named, spread = spec.loss("mean") if spec.loss else None, None, None
    ours_out, ours, cache = _student(subject.target, subject.forward, name, config, x, params, dout, y, subject.timeout)
    if loss_layer is not None:
        right_out, right = module.value_and_vjp(Step.of(loss_layer), {"x": x}, 1.0, y)
        right = {"x": right["x"]}

        def spread():
            return layer_spread(loss_layer, {"x": x}, 1.0, np.eye(config.classes)[y])
    elif name == "dropout_backward":
        keep, kept, mistake = dropout_keep(config.extra["p"], cache, x.shape)
        if mistake:
            return Result("FAIL", "", wrong=[mistake], diagnoses=[mistake], example=call_lines(name, config, x, params, dout, y))
        conventions["p"] = (f"is the {keep[1]} probability (your forward keeps {kept.mean():.0%} of the units "
                            f"at p = {config.extra['p']})")
        # no framework op takes a mask it is given: the truth of y = x ⊙ kept / keep is written out
        right_out, right = x * kept / keep[0], {"x": dout * kept / keep[0]}
        if np.allclose(ours["x"], dout * kept) and not np.allclose(ours["x"], right["x"]):
            named = ["dropout_without_rescale"]
    else:
        right_out, right = truth(module, config, x, params, dout)
        if len(config.layers) == 1:
            student = {local: name for name, (_, local) in config.params.items()}  # W -> w

            def spread():
                raw = layer_spread(config.layers[0], {"x": x, **own_params(config, params, 0)}, dout)
                return {student.get(k, k): v for k, v in raw.items()}
    key = "loss" if loss_layer is not None else "output"
    ours = {key: ours_out, **{gradient_name(k): v for k, v in ours.items() if k != "loss"}}
    theirs = {key: right_out, **{gradient_name(k): v for k, v in right.items()}}
    verdicts = compare(ours, theirs, checker, np.float64, ours_name="yours",
                       spread=(lambda: {gradient_name(k): v for k, v in spread().items()}) if spread else None)
    wrong = [q for q, v in verdicts.items() if not v.ok]
    return {"config": config, "ok": not wrong, "wrong": wrong, "messages": [verdicts[q].message for q in wrong],
            "errors": {q: verdicts[q].rel_err for q in wrong}, "point": (x, params, dout, y), "ours": ours,
            "named": named, "read": dict(conventions)}


def _allowed(name, config, x, y) -> bool:
    """Whether x is in the domain the configuration's points are drawn from: off every kink and tie (a max pool's
    ties at 0 too, which its domain allows only after a ReLU)."""
    if config.classes:
        domain = FUNCTIONS[name].loss("mean").domain
        return domain is None or domain.inside(x, np.eye(config.classes)[y])
    domain = config.layers[0].domain
    return domain.untied(x) if isinstance(domain, WindowTies) else domain.inside(x)


def _shortened(subject, first, deadline):
    """The failing configuration at a point with zeros and short numbers, or None if no value could be shortened. A
    shorter point is kept while x stays in the domain and it fails as the drawn point does
    (agreement.points.same_failure). The first call that raises or hangs ends the shortening, and so does
    `deadline`."""
    config, (x, params, dout, y) = first["config"], first["point"]

    def outcome(arrays):
        try:
            return _at(subject, config, (arrays["x"], {k: arrays[k] for k in params}, arrays.get("dout"), y), {})
        except Crash:
            return None

    def same(result) -> bool:  # a Result: a dropout that keeps neither p nor 1 − p there
        return isinstance(result, dict) and same_failure((first["errors"], first["ours"]), (result["errors"], result["ours"]))

    arrays = {"x": x, **params, **({"dout": dout} if dout is not None else {})}
    return shorten_failure(arrays, outcome, same, allowed=lambda arrays: _allowed(subject.name, config, arrays["x"], y),
                           deadline=deadline)[1]

