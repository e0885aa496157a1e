"""What a failure report says beyond the failing point: where the error is, which mistakes it is, and
for a crash, the shapes that trigger it. The relations themselves are frameworks.diagnose's; this
module gathers the points they must hold at.

    where, diagnoses = explain(preset, target, module, accepted, read, failing, point, dtype, timeout)
"""

from __future__ import annotations

import itertools

from agreement.points import ended
from frameworks import diagnose
from frameworks.conventions import combos
from frameworks.conventions import point as draw
from frameworks.evaluate import evaluate
from frameworks.presets import BadResult
from frameworks.submission import Crash
from frameworks.where import listed
from frameworks.where import where as chain_step

SPARE_BATCHES = (3, 5, 7)  # spare points at the preset's sizes: three batch sizes, so that N shows


_SIZES = {"N": 0, "D": 1, "H": 2, "K": 3}
SINGLE = {
    "N ≠ K": lambda n, d, h, k: n != k, "N ≠ D": lambda n, d, h, k: n != d, "N ≠ H": lambda n, d, h, k: n != h,
    "D ≠ H": lambda n, d, h, k: d != h, "H ≠ K": lambda n, d, h, k: h != k, "D ≠ K": lambda n, d, h, k: d != k,
    "N = 1": lambda n, d, h, k: n == 1, "N > 1": lambda n, d, h, k: n > 1,
    "D > 1": lambda n, d, h, k: d > 1, "H > 1": lambda n, d, h, k: h > 1,
    # one size larger than another (code that indexes one axis by another's length): N > H, D < K, ...
    **{f"{a} > {b}": (lambda *s, i=_SIZES[a], j=_SIZES[b]: s[i] > s[j])
       for a, b in itertools.permutations(_SIZES, 2)},
}
CONDITIONS = {**SINGLE, **{f"{a} and {b}": (lambda n, d, h, k, f=SINGLE[a], g=SINGLE[b]: f(n, d, h, k) and g(n, d, h, k))
                           for a, b in itertools.combinations(SINGLE, 2)}}


def crash_condition(crashes, sizes, k_min=2) -> str | None:
    """The condition on the batch N and the sizes D, H, K under which `crashes(n, (d, h, k))` is true, from
    a grid of shapes (only for one-hidden-layer networks); None when none of CONDITIONS separates them."""
    if len(sizes) != 3:
        return None
    values = sorted({1, 2, 3, *sizes})
    grid = [(n, d, h, k) for n, d, h, k in itertools.product(values, repeat=4) if k >= k_min]
    outcome = {shape: crashes(shape[0], shape[1:]) for shape in grid}
    if all(outcome.values()):
        return "at every shape tried"
    if not any(outcome.values()):
        return None
    for text, condition in CONDITIONS.items():
        if all(condition(*shape) == crashed for shape, crashed in outcome.items()):
            return f"exactly when {text} (N: the batch; D, H, K: the layer sizes)"
    if all((tuple(shape[1:]) != tuple(sizes)) == crashed for shape, crashed in outcome.items()):
        return (f"at every layer size but the {','.join(map(str, sizes))} given (it is checked at sizes up to those, "
                "so that a failure shows at small ones)")
    return None


def _spares(preset, target, module, combo, dtype, timeout):
    full = preset.network(preset.sizes, combo)
    for i, n in enumerate(SPARE_BATCHES):
        spare = draw(full, preset, n, 1000 + i, dtype)
        if spare is not None:
            yield spare, evaluate(preset, target, module, [full], spare, timeout)


def _crash_sentences(preset, target, module, combo, crash, dtype, timeout, grid=True) -> tuple[str, list[str]]:
    """What the crash is and under which shapes it happens; and what is wrong at a shape where it does not happen
    (for "What is wrong there": code that raises only when H ≠ K may be wrong when H = K)."""
    if crash.hung:
        return "your code does not return (an infinite loop?)" + (f", stopped at {crash.where}" if crash.where else ""), []
    returned = []

    def crashes(n, sizes):  # the student's code alone: no checker is needed to see a crash
        at = preset.network(sizes, combo)
        p = draw(at, preset, n, 7, dtype)
        try:
            raised = p is not None and preset.invoke(target, at, *p, timeout, preset.options) is None
        except Crash:
            return True
        except BadResult:
            return False
        if p is not None and not raised:
            returned.append((at, p))
        return raised

    condition = crash_condition(crashes, preset.sizes, preset.fewest_outputs) if grid else None
    sentence = (f"your code raises {crash.error}" + (f" {condition}" if condition else "")
                + (f", at {crash.where}" if crash.where else ""))
    lines = []
    # Where it returns, is it right? At the largest few shapes of the grid where it does not raise.
    for at, p in sorted(returned, key=lambda r: (sum(r[0].sizes) + len(r[1][1])), reverse=True)[:4] if condition else ():
        e = evaluate(preset, target, module, [at], p, timeout)
        if e.disagree:
            lines = _shown(e, e.disagree, f"where your code does not raise (sizes {','.join(map(str, at.sizes))}, "
                                          f"N = {len(p[1])})")
            break
    return sentence, lines


def _named(preset, points, combo, dtype) -> tuple[list, list[str]]:
    usable = [diagnose.Point(e.net, *p, e.ours, e.right, dtype, set(e.disagree)) for p, e in points if e.ours is not None]
    factor = preset.candidates.get("regularization", {}).get(combo.get("regularization"), {}).get("factor", 1.0)
    reg = preset.options.get("reg", 0.0) or preset.options.get("l2", 0.0)
    return usable, diagnose.mistakes(usable, reg=reg, factor=factor, fix=preset.fix)


def _elsewhere(failing, points) -> list[str]:
    """What the spare points show wrong and the failing point does not (a bias gradient averaged over the batch is
    right at N = 1, say): for each such quantity, the first spare point's lines, under a line saying which point."""
    lines, shown = [], set(failing.disagree)
    for (_, x, _), e in points[1:]:
        new = set(e.disagree) - shown
        if not new or e.ours is None:
            continue
        shown |= new
        lines += _shown(e, new, f"at a spare point of the full sizes {','.join(map(str, e.net.sizes))}, N = {len(x)} "
                                "(not printed)")
    return lines


def _shown(e, quantities, where) -> list[str]:
    """The lines of evaluation e for these quantities, under a line saying where e was and naming them in order."""
    order = [q for q in ("loss", *e.net.param_shapes, "x") if q in quantities]
    return [f"{where}, {listed(order)} disagree{'s' if len(order) == 1 else ''} too:",
            *(f"  {line}" for line in e.wrong if line.split(" ", 1)[0] in quantities)]


def _decay(preset, combo) -> str:
    """The L2 term's factor in a weight's gradient as the student writes it, before the W: 2λ for λ ΣW²; at a reg,
    by the convention read (2·reg· for reg·ΣW², reg· for ½·reg·ΣW²)."""
    if "reg" not in preset.options:
        return "2λ "
    options = {**preset.options, **{k: v for c, choice in combo.items() for k, v in preset.candidates[c][choice].items()}}
    factor = 2 * options.get("factor", 1.0)
    return "reg·" if factor == 1 else f"{factor:g}·reg·"


def explain(preset, target, module, accepted, read, failing, point, dtype, timeout) -> tuple[str, list[str], list[str]]:
    """(where, diagnoses, elsewhere) of the failing evaluation at `point`, from it and from spare points of full size;
    elsewhere: what only the spare points show wrong (_elsewhere), which `where` counts too. When the student's
    result followed none of the conventions, each is tried: a known mistake may fit one."""
    combo = accepted[0]
    points = [(point, failing)]
    if not failing.hung and not ended():  # past the child's end (--time-limit): the verdict is sent without them
        points += list(_spares(preset, target, module, combo, dtype, timeout))
    diagnoses, returned = [], []
    crash = next((e.crash for _, e in points if e.crash is not None), None)
    if crash is not None:
        sentence, returned = _crash_sentences(preset, target, module, combo, crash, dtype, timeout, grid=not ended())
        diagnoses.append(sentence)
    usable, named = _named(preset, points, combo, dtype)
    where = chain_step(failing.net, usable, _decay(preset, combo)) if failing.ours is not None and usable else ""
    guessed = any("neither" in how for how in read.values())
    for other in combos(preset) if guessed and not named else ():
        if other == combo:
            continue
        again = [(p, evaluate(preset, target, module, [preset.network(e.net.sizes, other)], p, timeout)) for p, e in points]
        _, found = _named(preset, again, other, dtype)
        if found:
            named = [f"{line} (with {', '.join(f'{k} {v}' for k, v in other.items())})" for line in found]
            break
    diagnoses += named
    if failing.dtype_slips:
        diagnoses.append(f"gradients in another dtype than the inputs': your {', '.join(failing.dtype_slips)} came back "
                         f"as another dtype than {point[1].dtype}")
    if failing.changed:
        diagnoses.append(f"inputs changed in place: {', '.join(failing.changed)}")
    return where, diagnoses, (_elsewhere(failing, points) if where else []) + (returned if failing.crash is not None else [])
