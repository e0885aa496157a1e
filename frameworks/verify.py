"""One student's code checked against an independent checker: the verdict, what is wrong, and why.

    result = verify.run([preset], target, checker="torch", examples=100)
    result.verdict        "PASS", "FAIL" or "ERROR"
    result.wrong          what disagrees at the failing point, one line each
    result.where          which gradients are right and wrong, and the step of the chain implicated
    result.diagnoses      one sentence per named mistake (frameworks.diagnose); [] when none is named
    result.conventions    what was read off the student's own code: {"reduction": "sum (read off your loss ...)"}

For each run (a preset at its options: CS231n at reg 0 and at a positive reg), the conventions the
course allows are read off the student's code (frameworks.conventions); then Hypothesis draws the
sizes (each up to the preset's, the full sizes and the largest batch among the first examples), the
batch and a seed, agreement.points fills a point off every kink, and the student's result is
judged against the checker's (frameworks.evaluate). A failure is shortened (fewer digits, more
zeros, while it fails) and explained at spare points of the full sizes (frameworks.failure).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import frameworks
from agreement.points import deadline_after, ended, in_domain, same_failure, shorten_failure
from frameworks import failure
from frameworks.conventions import detect
from frameworks.conventions import point as draw
from frameworks.evaluate import Hung, evaluate
from frameworks.submission import Crash, UsageError, load

MAX_BATCH = 8


def keep_hypothesis_out_of_the_students_folder() -> None:
    """Hypothesis keeps nothing between runs of the tool (database=None), but makes its folder where it runs:
    in the temporary directory instead (the command line only; a test run keeps its own)."""
    hypothesis.configuration.set_hypothesis_home_dir(tempfile.gettempdir() + "/frameworks-check-hypothesis")


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
    shortened: bool = False  # whether the example's values were shortened while it fails (no example: False)
    elsewhere: list = field(default_factory=list)  # what only other points show wrong, which `where` counts too

    def json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Result:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class OutOfTime(BaseException):
    """The child's end (agreement.points.end_by, from --time-limit) came during the search: Hypothesis stops at
    once (a BaseException), and the verdict is given on the examples checked."""


def out_of_time(described, checked: int, spent: float, examples: int, unit="random examples") -> Result:
    """The verdict of a search that the time limit stopped before any failure, after `checked` examples that took
    `spent` seconds: not a pass, and not a loop."""
    per = f"about {spent / checked:.2g} s each" if checked else "longer than the limit"
    return Result("ERROR", described, wrong=[
        f"the check stopped near --time-limit after {checked} of {examples} {unit}, each agreeing: your code "
        f"took {per}; check it again with a larger --time-limit"])


class Failed(Exception):
    """A point at which the student's result is wrong (never an AssertionError: the student's code may raise one)."""


def _sizes(preset):
    return st.tuples(*(st.integers(low, high) for low, high in preset.size_ranges()))


def search(preset, target, module, accepted, examples, dtype, timeout):
    """Hypothesis's smallest failing (point, evaluation), or None; and what the examples returned."""
    state = {"failing": None, "skipped": None, "notes": [], "checked": 0, "spent": 0.0, "out_of_time": False,
             "examples": 0, "full size": False}
    full = tuple(high for _, high in preset.size_ranges())

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=False,
              report_multiple_bugs=False, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(sizes=_sizes(preset), n=st.integers(1, MAX_BATCH), seed=st.integers(0, 2**32 - 1),
           special=st.sampled_from((0.0, 0.0, 0.05, 0.25)))
    def property_(sizes, n, seed, special):
        if ended():  # the child's --time-limit is near: the verdict on what was checked is sent instead
            raise OutOfTime
        state["examples"] += 1  # as Hypothesis counts them: a draw outside the domain too
        nets = [preset.network(sizes, combo) for combo in accepted]
        point = draw(nets[0], preset, n, seed, dtype, special)
        if point is None:
            return
        began = time.monotonic()
        evaluation = evaluate(preset, target, module, nets, point, timeout)
        state["checked"], state["spent"] = state["checked"] + 1, state["spent"] + time.monotonic() - began
        if evaluation.ours is not None:
            state["skipped"] = [q for q in evaluation.right if q not in evaluation.ours]
            state["notes"] += [note for note in evaluation.notes if note not in state["notes"]]
        if evaluation.wrong:
            # the first failure, before Hypothesis shrinks it: which random example, or one of the full-size ones after
            state["failed_at"] = state.get("failed_at") or ("full size" if state["full size"] else state["examples"])
            state["failing"] = (point, evaluation)
            raise Hung(state["failing"]) if evaluation.hung else Failed

    try:
        with contextlib.redirect_stdout(sys.stderr):  # Hypothesis's own messages; stdout may be --json's
            property_()
            # Then the full sizes and the largest batch, which a search that favours small draws may miss. Not as
            # Hypothesis examples: a failing explicit example is reported unshrunk, at full size.
            state["full size"] = True
            for n, seed, special in ((MAX_BATCH, 0, 0.0), (2, 1, 0.25)):
                property_.hypothesis.inner_test(sizes=full, n=n, seed=seed, special=special)
    except (Failed, Hung):
        pass
    except OutOfTime:
        state["out_of_time"] = True
    except Exception:  # Hypothesis's own complaint (a flaky student function): report the last failure seen
        if state["failing"] is None:
            raise
    return state


def _shortened(preset, target, module, point, evaluation, timeout, deadline):
    """The failing point with zeros and short numbers, and its evaluation. A shorter point is kept while it stays
    off every kink and fails as the point found does (agreement.points.same_failure), with the same inputs changed
    in place. The first call that raises or hangs ends the shortening, and so does `deadline`
    (agreement.points.deadline_after). A point where the code raised is shortened while it raises the same way
    (_shortened_crash)."""
    params, x, y = point
    nets = [evaluation.net]
    if evaluation.crash is not None:
        return _shortened_crash(preset, target, module, point, evaluation, timeout, deadline)
    if evaluation.ours is None:
        return point, evaluation

    def outcome(arrays):
        shorter = evaluate(preset, target, module, nets, ({k: arrays[k] for k in params}, arrays["x"], y), timeout)
        return shorter if shorter.crash is None else None

    def same(shorter) -> bool:
        return (shorter.ours is not None and bool(shorter.wrong) and shorter.changed == evaluation.changed
                and same_failure((evaluation.errors, evaluation.ours), (shorter.errors, shorter.ours)))

    arrays, kept = shorten_failure({**params, "x": x}, outcome, same, deadline=deadline,
                                   allowed=lambda arrays: in_domain(nets[0], {k: arrays[k] for k in params}, arrays["x"], y))
    return ({k: arrays[k] for k in params}, arrays["x"], y), kept or evaluation


def _shortened_crash(preset, target, module, point, evaluation, timeout, deadline):
    """The point with zeros and short numbers while the code raises the same error at the same line there (a call
    that returns or hangs is not kept; one that hangs ends the shortening), and its evaluation."""
    params, x, y = point
    nets, raised = [evaluation.net], (evaluation.crash.error, evaluation.crash.where)
    if evaluation.crash.hung:
        return point, evaluation

    def outcome(arrays):
        shorter = evaluate(preset, target, module, nets, ({k: arrays[k] for k in params}, arrays["x"], y), timeout)
        return None if shorter.crash is not None and shorter.crash.hung else shorter

    def same(shorter) -> bool:
        return shorter.crash is not None and (shorter.crash.error, shorter.crash.where) == raised

    arrays, kept = shorten_failure({**params, "x": x}, outcome, same, deadline=deadline,
                                   allowed=lambda arrays: in_domain(nets[0], {k: arrays[k] for k in params}, arrays["x"], y))
    return ({k: arrays[k] for k in params}, arrays["x"], y), kept or evaluation


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


def _run_line(examples: int, options: str, state) -> str:
    """What one preset's search checked: every example, or up to the one that failed first."""
    at = f" at {options}" if options else ""
    failed_at = state.get("failed_at")
    if state["failing"] is None or failed_at is None:
        return f"{examples} random examples{at}"
    if failed_at == 0:  # a call of the detection, before the search (only one that hangs ends the check there)
        return f"no random example checked{at}: a call made to read your conventions did not return"
    if failed_at == "full size":  # the full-size examples the search runs after Hypothesis's
        return f"{examples} random examples{at} agreed, then one at full size failed"
    return f"random example {failed_at} of {examples}{at} failed"


def run(presets, target, checker: str, examples: int, dtype=np.float64, timeout=None, described="") -> Result:
    """Check `target` (frameworks.submission.Target) under each preset in turn; the first failure ends it."""
    module = frameworks.load(checker)
    dtype = np.dtype(dtype)
    result = Result("PASS", described)
    for preset in presets:
        started = time.monotonic()  # the shortening may take as long as the detection and the search
        accepted, read = [{}], {}
        try:
            accepted, read = detect(preset, target, module, dtype, timeout)
            result.conventions.update(read)
            state = search(preset, target, module, accepted, examples, dtype, timeout)
        except Hung as stop:
            state = {"failing": stop.failing, "skipped": None, "notes": [], "out_of_time": False, "failed_at": 0}
        if state["out_of_time"] and state["failing"] is None:
            return out_of_time(described, state["checked"], state["spent"], examples)
        options = ", ".join(f"{k} {v:g}" for k, v in preset.options.items() if k == "reg")
        result.runs.append(_run_line(examples, options, state))
        result.notes += [note for note in state["notes"] if note not in result.notes]
        if state["skipped"] is not None:
            result.skipped = state["skipped"]
        if state["failing"] is None:
            continue
        point, evaluation = _shortened(preset, target, module, *state["failing"], timeout,
                                       deadline_after(time.monotonic() - started))
        (found_params, found_x, _), _ = state["failing"]
        result.shortened = not (np.array_equal(point[1], found_x) and
                                all(np.array_equal(point[0][k], v) for k, v in found_params.items()))
        result.verdict = "FAIL"
        result.wrong = evaluation.wrong
        if evaluation.crash is None or not evaluation.crash.hung:  # a loop's call would only loop again
            result.example = preset.render(target.name, evaluation.net, point, preset.options)
        try:
            result.where, result.diagnoses, result.elsewhere = failure.explain(
                preset, target, module, accepted, read, evaluation, point, dtype, timeout)
        except Exception as err:  # the verdict stands; only its explanation is lost
            result.notes.append(f"the diagnosis could not be completed ({type(err).__name__}: {err})")
        result.explain = explain_command(preset.network(preset.sizes, accepted[0]))
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
    except UsageError as err:
        return Result("ERROR", described, wrong=[f"usage: {err}"])
    except Exception as err:  # the student's code broke the check in a way no rule above foresaw
        return Result("ERROR", described, wrong=[f"the check could not be completed: {type(err).__name__}: {err}"])
