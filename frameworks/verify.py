"""One student's code checked against an independent checker: the verdict, what is wrong, and why.

    result = verify.run([preset], target, checker="torch", examples=100)
    result.verdict        "PASS", "FAIL" or "ERROR"
    result.wrong          what disagrees at the failing point, one line each
    result.where          which gradients are right and wrong, and the step of the chain implicated
    result.diagnoses      one sentence per named mistake (frameworks.diagnose); [] when none is named
    result.conventions    what was read off the student's own loss: {"reduction": "sum (read off your loss)"}

For each run (a preset at its options: CS231n at reg 0 and at a positive reg), the conventions the
course allows are read off the student's loss at probe points; then Hypothesis draws the sizes
(each up to the preset's), the batch and a seed, agreement.points fills a point off every kink,
and the student's result is judged by agreement.compare against the checker's. A failure is
shortened (fewer digits, more zeros, while it fails) and diagnosed at spare points of the full sizes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sys
from dataclasses import asdict, dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import frameworks
from agreement import compare, network_spread
from agreement.points import fill, in_domain, shorten
from agreement.points import literal as _literal
from frameworks import diagnose
from frameworks.presets import BadResult
from frameworks.submission import Crash, load

SPARE_BATCHES = (3, 5, 7)  # spare points for a diagnosis, at the preset's sizes: three batch sizes, for N
MAX_BATCH = 8


@dataclass
class Result:
    verdict: str
    described: str
    wrong: list = field(default_factory=list)
    where: str = ""
    diagnoses: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    conventions: dict = field(default_factory=dict)
    example: list = field(default_factory=list)  # code lines that reproduce the failing call
    checked: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    runs: list = field(default_factory=list)  # what was checked, one line per run
    explain: str = ""  # the command that prints every formula and shape of the network checked

    def json(self) -> dict:
        return asdict(self)


class Hung(BaseException):
    """The student's code did not return in time: Hypothesis stops at once (a BaseException), no shrinking
    and no spare points, each of which would wait as long again."""

    def __init__(self, failing):
        self.failing = failing


def hung(evaluation) -> bool:
    return evaluation.crash is not None and evaluation.crash.hung


class Failed(Exception):
    """A point at which the student's result is wrong (never an AssertionError: the student's code may raise one)."""


@dataclass
class Evaluation:
    ours: dict | None
    right: dict
    wrong: list
    crash: Crash | None = None
    notes: list = field(default_factory=list)


def _evaluate(preset, target, module, net, point, timeout) -> Evaluation:
    params, x, y = point
    theirs_loss, theirs = module.loss_and_grads(net.spec, params, x, y)
    right = {"loss": theirs_loss, **theirs}
    try:
        outcome = preset.invoke(target, net, params, x, y, timeout, preset.options)
    except Crash as crash:
        return Evaluation(None, right, [f"your code {crash}"], crash)
    except BadResult as bad:
        return Evaluation(None, right, [str(bad)])
    ours = {"loss": outcome.loss, **outcome.grads}
    wrong = [f"your code changed its input {name} in place" for name in outcome.changed]
    spread = functools.cache(lambda: network_spread(net, params, x, y))
    verdicts = compare(ours, right, frameworks_name(module), x.dtype, spread=spread, ours_name="yours")
    wrong += [verdict.message for verdict in verdicts.values() if not verdict.ok]
    return Evaluation(ours, right, wrong, None, outcome.notes)


def frameworks_name(module) -> str:
    return next(name for name, (path, _) in frameworks.CHECKERS.items() if path == module.__name__)


def _point(net, preset, n, seed, dtype, special=0.0):
    return fill(net, (n,), preset.target_form, np.random.default_rng(seed), dtype, special)


def _combos(preset) -> list[dict]:
    """Every combination of the conventions that apply to this run (the regularization's only at reg > 0)."""
    conventions = {c: options for c, options in preset.candidates.items()
                   if not (c == "regularization" and not preset.options.get("reg"))}
    return [dict(zip(conventions, values, strict=True)) for values in itertools.product(*conventions.values())]


def detect(preset, target, module, dtype, timeout) -> tuple[dict, dict]:
    """The conventions (one choice per convention the course allows) that the student's loss follows at
    probe points, else their gradients; the first candidate when neither tells. ({choice}, {how read})."""
    combos = _combos(preset)
    if combos == [{}]:
        return {}, {}
    score = {i: [0, 0] for i in range(len(combos))}
    for n, seed in ((3, 101), (5, 102)):
        base = preset.network(preset.sizes, combos[0])
        point = _point(base, preset, n, seed, dtype)
        if point is None:
            continue
        try:
            outcome = preset.invoke(target, base, *point, timeout, preset.options)
        except (Crash, BadResult) as err:
            if isinstance(err, Crash) and err.hung:
                raise Hung((base, point, Evaluation(None, {}, [f"your code {err}"], err))) from None
            return combos[0], {c: f"{v} (not read: your code did not return a result)" for c, v in combos[0].items()}
        for i, combo in enumerate(combos):
            net = preset.network(preset.sizes, combo)
            evaluation_ok = _evaluate_quietly(module, net, point, outcome)
            score[i][0] += evaluation_ok[0]
            score[i][1] += evaluation_ok[1]
    best = max(score, key=lambda i: (score[i][0], score[i][1], -i))
    how = "read off your loss" if score[best][0] else "read off your gradients" if score[best][1] else \
        "the first the course allows: neither your loss nor your gradients follow any"
    return combos[best], {c: f"{v} ({how})" for c, v in combos[best].items()}


def _evaluate_quietly(module, net, point, outcome) -> tuple[int, int]:
    """(1 if the loss agrees, how many gradients agree) of the student's outcome with `net`'s truth."""
    params, x, y = point
    theirs_loss, theirs = module.loss_and_grads(net.spec, params, x, y)
    verdicts = compare({"loss": outcome.loss, **outcome.grads}, {"loss": theirs_loss, **theirs},
                       frameworks_name(module), x.dtype, spread=functools.cache(lambda: network_spread(net, *point)))
    return int(verdicts["loss"].ok), sum(v.ok for q, v in verdicts.items() if q != "loss")


def _sizes(preset):
    k_min = 2 if preset.target_form in ("one-hot", "labels") else 1
    return st.tuples(*(st.integers(k_min if i == len(preset.sizes) - 1 else 1, max(s, k_min))
                       for i, s in enumerate(preset.sizes)))


def search(preset, target, module, conventions, examples, dtype, timeout):
    """Hypothesis's smallest failing (net, point, evaluation), or None; and what every example returned."""
    state = {"failing": None, "skipped": None, "notes": set()}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=False,
              report_multiple_bugs=False, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(sizes=_sizes(preset), n=st.integers(1, MAX_BATCH), seed=st.integers(0, 2**32 - 1),
           special=st.sampled_from((0.0, 0.0, 0.05, 0.25)))
    def property_(sizes, n, seed, special):
        net = preset.network(sizes, conventions)
        point = _point(net, preset, n, seed, dtype, special)
        if point is None:
            return
        evaluation = _evaluate(preset, target, module, net, point, timeout)
        if evaluation.ours is not None:
            state["skipped"] = [q for q in evaluation.right if q not in evaluation.ours]
            state["notes"].update(evaluation.notes)
        if evaluation.wrong:
            state["failing"] = (net, point, evaluation)
            raise Hung(state["failing"]) if hung(evaluation) else Failed

    try:
        with contextlib.redirect_stdout(sys.stderr):  # Hypothesis's own messages; stdout may be --json's
            property_()
    except (Failed, Hung):
        pass
    except Exception:  # Hypothesis's own complaint (a flaky student function): report the last failure seen
        if state["failing"] is None:
            raise
    return state


def _shortened(preset, target, module, net, point, evaluation, timeout):
    """The failing point with zeros and short numbers, while it still fails and stays off every kink."""
    if evaluation.crash is not None:
        return point, evaluation
    params, x, y = point

    def fails(arrays):
        candidate = ({k: arrays[k] for k in params}, arrays["x"], y)
        return bool(_evaluate(preset, target, module, net, candidate, timeout).wrong)

    arrays = shorten({**params, "x": x}, fails,
                     allowed=lambda arrays: in_domain(net, {k: arrays[k] for k in params}, arrays["x"]))
    short = ({k: arrays[k] for k in params}, arrays["x"], y)
    return short, _evaluate(preset, target, module, net, short, timeout)


def _spares(preset, target, module, conventions, dtype, timeout):
    full = preset.network(preset.sizes, conventions)
    for i, n in enumerate(SPARE_BATCHES):
        spare = _point(full, preset, n, 1000 + i, dtype)
        if spare is not None:
            yield full, spare, _evaluate(preset, target, module, full, spare, timeout)


def _crash_sentence(preset, target, module, conventions, crash, dtype, timeout) -> str:
    def crashes(n, sizes):  # the student's code alone: no checker is needed to see a crash
        at = preset.network(sizes, conventions)
        p = _point(at, preset, n, 7, dtype)
        try:
            return p is not None and preset.invoke(target, at, *p, timeout, preset.options) is None
        except Crash:
            return True
        except BadResult:
            return False

    if crash.hung:
        return f"your code does not return (an infinite loop?), stopped at {crash.where}"
    condition = diagnose.crash_condition(crashes, preset.sizes)
    return (f"your code raises {crash.error}" + (f" {condition}" if condition else "")
            + (f", at {crash.where}" if crash.where else ""))


def _named(preset, points, conventions, dtype) -> list[str]:
    usable = [diagnose.Point(net, *p, e.ours, e.right, dtype) for net, p, e in points if e.ours is not None]
    choice = conventions.get("regularization")
    factor = preset.candidates.get("regularization", {}).get(choice, {}).get("factor", 1.0)
    reg = preset.options.get("reg", 0.0) or preset.options.get("l2", 0.0)
    return usable, diagnose.mistakes(usable, reg=reg, factor=factor, fix=preset.fix)


def _diagnosis(preset, target, module, conventions, read, net, point, evaluation, dtype, timeout, result):
    """Where and how the failing result is wrong, from the failing point and spare points of full size.
    When the student's loss followed none of the conventions, each is tried: a known mistake may fit one."""
    points = [(net, point, evaluation)]
    if not hung(evaluation):
        points += _spares(preset, target, module, conventions, dtype, timeout)
    crash = next((e.crash for _, _, e in points if e.crash is not None), None)
    if crash is not None:
        result.diagnoses.append(_crash_sentence(preset, target, module, conventions, crash, dtype, timeout))
    usable, named = _named(preset, points, conventions, dtype)
    if usable:
        result.where = diagnose.where(usable[-1].net, usable)
    guessed = any("neither" in how for how in read.values())
    for other in _combos(preset) if guessed and not named else ():
        if other == conventions:
            continue
        again = [(preset.network(n.sizes, other), p, None) for n, p, _ in points]
        again = [(n, p, _evaluate(preset, target, module, n, p, timeout)) for n, p, _ in again]
        _, found = _named(preset, again, other, dtype)
        if found:
            named = [f"{line} (with {', '.join(f'{k} {v}' for k, v in other.items())})" for line in found]
            break
    result.diagnoses += named
    changed = [line.split("input ")[1].split(" in place")[0] for line in evaluation.wrong if " in place" in line]
    if changed:
        result.diagnoses.append(f"inputs changed in place: {', '.join(changed)}")


def literal(a) -> str:
    return _literal(a, float64_plain=True)


def render(preset, net, point) -> list[str]:
    """Code that makes the failing call, in the assignment's own convention."""
    params, x, y = point
    lines = [f"{k} = {literal(v)}" for k, v in params.items()]
    if preset.name == "cs224n-q2":
        return [*lines, f"data = {literal(x)}", f"labels = {literal(y)}",
                "params = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])",
                f"cost, grad = forward_backward_prop(data, labels, params, {list(net.sizes)})"]
    if preset.name == "cs231n-two-layer":
        return [*lines, f"net = TwoLayerNet({', '.join(map(str, net.sizes))})",
                "net.params = {" + ", ".join(f"{k!r}: {k}" for k in params) + "}",
                f"X = {literal(x)}", f"y = {literal(y)}", f"loss, grads = net.loss(X, y, reg={preset.options.get('reg', 0.0)!r})"]
    return [*lines, "params = {" + ", ".join(f"{k!r}: {k}" for k in params) + "}", f"x = {literal(x)}",
            f"y = {literal(y)}", "loss, grads = f(params, x, y)"]


def explain_command(net) -> str:
    """`python -m reference explain ...` for this network: its formulas and shapes, step by step."""
    c = net.config
    args = [net.name if net.name in ("sigmoid_mse", "sigmoid_softmax_ce") else "mlp", "--sizes", ",".join(map(str, net.sizes))]
    if args[0] == "mlp":
        args += ["--hidden", ",".join(dict.fromkeys(c["hidden"])) if len(set(c["hidden"])) == 1 else ",".join(c["hidden"]),
                 "--output", c["output"], "--loss", c["loss"]]
    args += [f"--{k} {v}" for k, v in (("layout", c["layout"]), ("reduction", c["reduction"])) if v not in ("row", "mean")]
    if c["l2"]:
        args += ["--l2", f"{c['l2']:g}"]
    return "python -m reference explain " + " ".join(args)


def run(presets, target, checker: str, examples: int, dtype=np.float64, timeout=None, described="") -> Result:
    """Check `target` (frameworks.submission.Target) under each preset in turn; the first failure ends it."""
    module = frameworks.load(checker)
    dtype = np.dtype(dtype)
    result = Result("PASS", described)
    for preset in presets:
        try:
            conventions, read = detect(preset, target, module, dtype, timeout)
            result.conventions.update(read)
            state = search(preset, target, module, conventions, examples, dtype, timeout)
        except Hung as stop:
            conventions, read = {}, {}
            state = {"failing": stop.failing, "skipped": None, "notes": set()}
        options = ", ".join(f"{k} {v:g}" for k, v in preset.options.items() if k == "reg")
        result.runs.append(f"{examples} random examples" + (f" at {options}" if options else ""))
        result.notes += sorted(state["notes"] - set(result.notes))
        if state["skipped"] is not None:
            result.skipped = state["skipped"]
        if state["failing"] is None:
            continue
        net, point, evaluation = state["failing"]
        if not hung(evaluation):
            point, evaluation = _shortened(preset, target, module, net, point, evaluation, timeout)
        result.verdict = "FAIL"
        result.wrong = evaluation.wrong or state["failing"][2].wrong
        result.example = render(preset, net, point)
        if options:
            result.runs[-1] += " (it failed there)"
        _diagnosis(preset, target, module, conventions, read, net, point, evaluation, dtype, timeout, result)
        result.explain = explain_command(preset.network(preset.sizes, conventions))
        break
    quantities = ["loss", *preset.network(preset.sizes, {}).param_shapes, "x"]
    result.checked = [q for q in quantities if q not in result.skipped]
    return result


def check(target, preset_list, checker, examples, dtype=np.float64, timeout=None, described="") -> Result:
    """Load (a path "FILE.py:NAME" or a submission.Target) and check, in this process; never raises for the
    student's doing. A missing file or name is an ERROR whose first line starts with "usage: "."""
    try:
        if isinstance(target, str):
            target = load(target, timeout)
        return run(preset_list, target, checker, examples, dtype, timeout, described)
    except Crash as crash:
        return Result("ERROR", described, wrong=[f"your file could not be imported: it {crash}"])
    except ValueError as err:
        return Result("ERROR", described, wrong=[f"usage: {err}"])
    except Exception as err:  # the student's code broke the check in a way no rule above foresaw
        return Result("ERROR", described, wrong=[f"the check could not be completed: {type(err).__name__}: {err}"])
