"""Check your own backward pass: python -m frameworks.check FILE.py:FUNCTION --network NAME --sizes D,H,K

FUNCTION is called like net.loss_and_grads: FUNCTION(params, x, y) -> (loss, grads), with params
{"W1", "b1", "W2", "b2"} in the chosen layout, x (N, D) and y as that network takes it (one-hot
rows for sigmoid_softmax_ce, (N, K) targets for sigmoid_mse). Hypothesis draws random weights,
batches and targets; each result is compared with an independent checker (PyTorch if installed,
else the numerical oracle). Gradients the function does not return are skipped, and said so.

On a failure it prints the smallest failing example Hypothesis found, the wrong gradient, and a
diagnosis when the wrong gradients equal those of one of the classic mistakes (the known-wrong
variants in reference/mistakes.py that the suite's power test uses, made everywhere they apply
or in one layer alone), found by computing those variants at the same points and comparing; or a
weight gradient equal to the right one transposed, or a bias gradient equal to the right one
before its sum over the batch. Where none matches it says so. Exit status: 0 pass, 1 fail, 2 usage.
The right gradients come from the checker alone, and the verdict from the suite's own comparison
engine (agreement/); the reference's code runs only as those known-wrong variants, to name the
mistake, and, where the float64 rule alone would fail, to measure how far honest rounding moves
each element at that point (agreement.rounding), so that correct code is never failed by rounding.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
import traceback
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import frameworks
from agreement import FIXED, judge, network_spread

SPARE_POINTS = 3  # random points, besides the failing one, where a diagnosis must also hold


def load_function(target: str):
    """FILE.py:FUNCTION -> the function."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise ValueError(f"expected FILE.py:FUNCTION, got {target!r}")
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(f"_checked_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, name, None)
    if not callable(function):
        raise ValueError(f"{path} has no function {name!r}")
    return function


class WrongResult(Exception):
    """The function's result disagrees with the checker's (not an AssertionError, which the user's own
    code may raise)."""


def _floats(low=-2.0, high=2.0):
    return st.floats(low, high, allow_subnormal=False)


@st.composite
def points(draw, net, one_hot: bool):
    """Random params, a batch x (N ≥ 2, so that 1/N and sums over the batch show) and targets."""
    params = {k: draw(arrays(np.float64, shape, elements=_floats(), fill=st.nothing()))
              for k, shape in net.param_shapes.items()}
    n, k = draw(st.integers(2, 8)), net.sizes[-1]
    x = draw(arrays(np.float64, (n, net.sizes[0]), elements=_floats(), fill=st.nothing()))
    if one_hot:
        y = np.eye(k)[draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)))]
    else:
        y = draw(arrays(np.float64, (n, k), elements=_floats(0.0, 1.0), fill=st.nothing()))
    return params, x, y


def _random_point(net, one_hot: bool, seed: int):
    rng = np.random.default_rng(seed)
    params = {k: rng.uniform(-2, 2, size=shape) for k, shape in net.param_shapes.items()}
    x = rng.uniform(-2, 2, size=(5, net.sizes[0]))
    y = np.eye(net.sizes[-1])[rng.integers(0, net.sizes[-1], 5)] if one_hot else rng.uniform(0, 1, (5, net.sizes[-1]))
    return params, x, y


def _close(a, b, spread=None) -> bool:
    """The suite's own verdict (agreement.judge) on the user's a against the right b, both float64; `spread`
    gives the example's rounding spread where the fixed float64 rule alone would fail."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and judge("", a, b, "checker", np.float64, spread=spread).ok


def _call(function, params, x, y):
    result = function({k: v.copy() for k, v in params.items()}, x.copy(), y.copy())
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise TypeError(f"the function must return (loss, grads) with grads a dict; got {type(result).__name__}")
    return float(result[0]), {k: np.asarray(v) for k, v in result[1].items()}


def compare(theirs_loss, theirs, ours_loss, ours, spread=None) -> list[str]:
    """What is wrong in the user's result (ours) against the checker's (theirs): one line each. `spread`
    gives the example's rounding spreads {quantity: array} when asked (agreement.rounding)."""
    def spread_of(key):
        return None if spread is None else (lambda: spread()[key])

    wrong = []
    if not _close(ours_loss, theirs_loss, spread_of("loss")):
        wrong.append(f"loss: yours {ours_loss!r}, expected {theirs_loss!r}")
    for key, expected in theirs.items():
        if key not in ours:
            continue
        got = ours[key]
        if got.shape != expected.shape:
            wrong.append(f"{key} has shape {got.shape}, expected {expected.shape}")
        elif not _close(got, expected, spread_of(key)):
            i = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
            index = tuple(int(j) for j in i)
            wrong.append(f"{key} is wrong: at index {index} yours {got[i]:.10g}, expected {expected[i]:.10g} "
                         f"(largest difference {np.max(np.abs(got - expected)):.3g})")
    return wrong


def _matches(candidate, ours, keys) -> bool:
    return all(key in candidate and _close(ours[key], candidate[key]) for key in keys)


def _where(net, index) -> str:
    """Where layer `index` sits, in the params' names: "the sigmoid after W1", "the dense layer W2"."""
    dense = sum(1 for layer, _ in net.layers[: index + 1] if layer.kind == "dense")
    kind = net.layers[index][0].kind
    return f"the dense layer W{dense}" if kind == "dense" else f"the {kind} after W{dense}"


def _variants(net, mistakes):
    """(description, broken network) for every classic mistake: made everywhere it applies, and, where
    it applies in more than one layer, in each of those layers alone."""
    for name, (description, _, _) in mistakes.MISTAKES.items():
        if name == "scaled_by_1.001" or not mistakes.applies(net, name):
            continue
        yield description, mistakes.apply(net, name)
        where = mistakes.places(net, name)
        if len(where) > 1:
            for index in where:
                yield f"{description} (only in {_where(net, index)})", mistakes.apply(net, name, only=index)


def diagnose(net, function, failing, one_hot: bool, truth) -> list[str]:
    """The classic mistakes whose known-wrong variant gives the user's gradients, at the failing point
    and at SPARE_POINTS random points (so that a coincidence at one degenerate point does not count)."""
    from reference import mistakes

    pts = [failing, *(_random_point(net, one_hot, seed) for seed in range(SPARE_POINTS))]
    rights = [truth(*point) for point in pts]
    yours = [_call(function, *point)[1] for point in pts]
    found = []
    for description, broken in _variants(net, mistakes):
        ok = True
        for point, right, ours in zip(pts, rights, yours, strict=True):
            try:
                _, theirs = broken.loss_and_grads(*point)
            except ValueError:  # the variant cannot run here (W for Wᵀ on a non-square weight)
                ok = False
                break
            wrong = [k for k in ours if k in right and not _close(ours[k], right[k])]
            if not wrong or not _matches(theirs, ours, wrong):
                ok = False
                break
        if ok:
            found.append(description)
    return found + _layout_slips(pts, rights, yours)


def _layout_slips(pts, rights, yours) -> list[str]:
    """Two slips found by comparing with the right gradient rearranged, not by a variant: a weight
    gradient that is the right one transposed, and a bias gradient left with one row per example."""
    transposed, unsummed = {}, {}
    for (_, x, _), right, ours in zip(pts, rights, yours, strict=True):
        n = len(x)
        for key, got in ours.items():
            expected = right.get(key)
            if expected is None or _close(got, expected):
                continue
            is_t = got.ndim == 2 and got.T.shape == expected.shape and _close(got.T, expected)
            transposed[key] = transposed.get(key, True) and is_t
            per_row = n > 1 and got.shape == (n, *expected.shape) and _close(got.sum(axis=0), expected)
            unsummed[key] = unsummed.get(key, True) and per_row
    found = []
    if any(transposed.values()):
        found.append(f"transposed: your {', '.join(k for k, v in transposed.items() if v)} is the right gradient "
                     "transposed")
    if any(unsummed.values()):
        found.append(f"bias gradient not summed over the batch: your {', '.join(k for k, v in unsummed.items() if v)} "
                     "has one row per example; the right one is their sum")
    return found


def _literal(a) -> str:
    return f"np.array({np.asarray(a).tolist()!r})"


def run(function, net, checker: str, examples: int, out=print) -> int:
    """Run the property; print what was checked (0) or the failure with a diagnosis (1)."""
    one_hot = net.loss_layer.kind == "softmax_cross_entropy"
    module = frameworks.load(checker)
    state = {"skipped": None, "failing": None, "wrong": None}

    # No "explain" phase: its extra runs cost seconds and add nothing this report prints.
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True, print_blob=False,
              phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(point=points(net, one_hot))
    def property_(point):
        params, x, y = point
        ours_loss, ours = _call(function, params, x, y)
        theirs_loss, theirs = module.loss_and_grads(net.spec, params, x, y)
        extra = set(ours) - set(theirs)
        if extra:
            raise TypeError(f"the function returned gradients for unknown keys {sorted(extra)}; "
                            f"expected some of {list(theirs)}")
        state["skipped"] = [k for k in theirs if k not in ours]
        wrong = compare(theirs_loss, theirs, ours_loss, ours,
                        spread=functools.cache(lambda: network_spread(net, params, x, y)))
        if wrong:
            state["failing"], state["wrong"] = point, wrong
            raise WrongResult("\n".join(wrong))

    described = f"{net!r} against the {checker} checker"
    try:
        property_()
    except WrongResult:
        params, x, y = state["failing"]
        out(f"FAIL: {described}")
        out("")
        out("The smallest failing example Hypothesis found:")
        for key, value in params.items():
            out(f"  params[{key!r}] = {_literal(value)}")
        out(f"  x = {_literal(x)}")
        out(f"  y = {_literal(y)}")
        out("")
        out("What is wrong there:")
        for line in state["wrong"]:
            out(f"  {line}")
        if state["skipped"]:
            out(f"  (not checked, not returned by your function: {', '.join(state['skipped'])})")
        out("")
        found = diagnose(net, function, state["failing"], one_hot,
                         truth=lambda params, x, y: module.loss_and_grads(net.spec, params, x, y)[1])
        if found:
            out("Diagnosis (your wrong gradients equal those of this known mistake, here and at 3 other random points):")
            for description in found:
                out(f"  {description}")
        else:
            out("Diagnosis: none of the classic mistakes matches your gradients; compare your formulas with")
            out(f"  python -m reference explain {net.name} --sizes {','.join(map(str, net.sizes))} --layout {net.layout}")
        return 1
    checked = ["loss", *(k for k in [*net.param_shapes, "x"] if k not in state["skipped"])]
    out(f"PASS: {described}")
    out(f"  {examples} random examples (weights and inputs in [-2, 2], batches of 2 to 8), each agreeing to "
        f"the suite's tolerance (agreement.tolerance: rtol {FIXED.rtol:g}, atol {FIXED.atol:g} in float64)")
    out(f"  checked: {', '.join(checked)}")
    if state["skipped"]:
        out(f"  skipped, not returned by your function: {', '.join(state['skipped'])}")
    return 0


def main(argv=None) -> int:
    from reference import NETWORKS

    parser = argparse.ArgumentParser(prog="python -m frameworks.check", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", metavar="FILE.py:FUNCTION")
    parser.add_argument("--network", required=True, choices=list(NETWORKS))
    parser.add_argument("--sizes", required=True, help="D,H,K, like 10,5,10")
    parser.add_argument("--layout", default="row", help="row (default, x W) or column (W x)")
    parser.add_argument("--reduction", default="mean", help="mean (default) or sum")
    default = "torch" if not frameworks.unavailable_reason("torch") else "oracle"
    parser.add_argument("--checker", default=default, choices=list(frameworks.CHECKERS),
                        help="the independent checker to compare with (default: torch if installed, else the oracle, "
                             "which needs no framework)")
    parser.add_argument("--examples", type=int, default=100, help="how many random examples (default 100)")
    args = parser.parse_args(argv)
    try:
        if args.examples < 1:
            raise ValueError(f"--examples must be at least 1, got {args.examples}")
        try:
            sizes = tuple(int(s) for s in args.sizes.split(","))
        except ValueError:
            raise ValueError(f"--sizes takes D,H,K as integers, like 10,5,10; got {args.sizes!r}") from None
        if len(sizes) != 3:
            raise ValueError(f"--sizes takes D,H,K (three sizes), got {args.sizes!r}")
        net = NETWORKS[args.network](*sizes, layout=args.layout, reduction=args.reduction)
        function = load_function(args.target)
        reason = frameworks.unavailable_reason(args.checker)
        if reason:
            raise ValueError(f"--checker {args.checker}: {reason}")
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    try:
        return run(function, net, args.checker, args.examples)
    except Exception:  # the user's function crashed: show where, as Python would
        print(f"ERROR: {args.target} raised an exception on a valid input:", file=sys.stderr)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
