"""Compare the reference with a checker, keep the run's error figures, and fail saying exactly what failed."""

from __future__ import annotations

import functools

import numpy as np

import frameworks
from reference import mistakes
from tests import report, shrink
from tests.tolerances import tolerance_for


@functools.cache
def checker(name: str):
    return frameworks.load(name)


def _fmt(v) -> str:
    return f"{float(v):.10g}"


def disagreement(quantity: str, ours, theirs, checker_name: str, tol):
    """(absolute error, relative error, message or None) for one quantity: the loss or one gradient.

    The relative error is the worst absolute error over max|theirs|, the checker's largest element,
    or over atol / rtol when the whole gradient is smaller than that (then the test is absolute).
    """
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    if ours.shape != theirs.shape:
        return np.inf, np.inf, (f"{quantity} has shape {ours.shape} in the reference but {theirs.shape} in "
                                f"{checker_name}")
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    scale = float(np.max(np.abs(theirs), initial=0.0))
    worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.size else ()
    abs_err = float(diff[worst]) if diff.size else 0.0
    rel_err = abs_err / max(scale, tol.atol / tol.rtol)
    if np.isfinite(abs_err) and abs_err <= tol.bound(scale):
        return abs_err, rel_err, None
    index = tuple(int(i) for i in worst)
    return abs_err, rel_err, (
        f"{quantity} disagrees at index {index}: reference {_fmt(ours[worst])}, {checker_name} "
        f"{_fmt(theirs[worst])}, difference {abs_err:.3g} > tolerance {tol.bound(scale):.3g} "
        f"(atol {tol.atol:g} + rtol {tol.rtol:g} x max|{checker_name}| {scale:.3g})")


def disagreements(subject: str, checker_name: str, dtype, ours: dict, theirs: dict, *, table=True,
                  parts=()) -> list[str]:
    """What disagrees between `theirs` and `ours`, one line per quantity, within the dtype's tolerance or
    the override one of `parts` (the layers compared) declares; each is recorded for the run's table
    when `table`."""
    dtype = np.dtype(dtype)
    tol = tolerance_for(dtype, parts)
    failures = []
    for quantity, value in theirs.items():
        if quantity not in ours:
            failures.append(f"{quantity} is missing from the reference's result")
            continue
        abs_err, rel_err, message = disagreement(quantity, ours[quantity], value, checker_name, tol)
        if message is None and quantity != "loss" and np.asarray(ours[quantity]).dtype != dtype:
            message = f"{quantity} came back as {np.asarray(ours[quantity]).dtype} for {dtype} inputs"
        if table:
            report.record((subject, checker_name, dtype.name, quantity), abs_err, rel_err, message is None, tol)
        if message:
            failures.append(message)
    return failures


def assert_agree(context: str, subject: str, checker_name: str, dtype, ours: dict, theirs: dict, *, table=True,
                 parts=()):
    """Every quantity in `theirs` agrees with `ours` (see `disagreements`), or an AssertionError saying
    which do not."""
    failures = disagreements(subject, checker_name, dtype, ours, theirs, table=table, parts=parts)
    if failures:
        raise AssertionError(f"{context}:\n  " + "\n  ".join(failures))


def _network_disagreements(case, checker_name: str, model, table: bool) -> list[str]:
    try:
        loss, grads = model.loss_and_grads(case.params, case.x, case.y)
    except Exception as err:  # a backward that crashes on valid input is a failed check, not an error
        return [f"the reference raised {type(err).__name__}: {err}"]
    their_loss, their_grads = checker(checker_name).loss_and_grads(case.net.spec, case.params, case.x, case.y)
    return disagreements(case.family or case.net.name, checker_name, case.dtype, {"loss": loss, **grads},
                         {"loss": their_loss, **their_grads}, table=table, parts=case.net.parts)


def check_network(case, checker_name: str, model=None, *, mistake: str | None = None, table=True) -> None:
    """The reference's loss and gradients at `case` agree with the checker's. `model` swaps in another
    implementation of the same network (a broken variant, in the power test); `mistake` names a known-wrong
    variant to check instead where it applies (--mistake). A failure in Hypothesis's final replay also
    shows the point shortened by tests/shrink.py."""
    net = case.net
    if model is None and mistake is not None and mistakes.applies(net, mistake):
        model = mistakes.apply(net, mistake)
    model = model or net
    context = f"{case.family or net.name} {net!r} {case.dtype} vs {checker_name} (x {case.x.shape})"
    failures = _network_disagreements(case, checker_name, model, table)
    if not failures:
        return
    message = f"{context}:\n  " + "\n  ".join(failures)
    if shrink.final_replay():
        short = shrink.shrink(case, lambda c: bool(_network_disagreements(c, checker_name, model, False)))
        again = _network_disagreements(short, checker_name, model, False)
        message += ("\n\nThe same check fails at this shortened point (values zeroed and rounded while it "
                    "fails):\n  " + "\n  ".join(again) + "\n" + repr(short))
    raise AssertionError(message)
