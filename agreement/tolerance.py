"""When two results agree: the tolerance model, with the reasoning beside the numbers.

Each element i of a quantity (the loss, or one gradient) computed two ways, a (the one judged)
and b (the checker's), is judged against its own bound t_i:

    |a_i − b_i|  ≤  t_i

float32:  t_i = SAFETY · (ε · (spread_i + max_j |b_j|) + tiny),  SAFETY = 32
    ε = 2⁻²³ ≈ 1.19e-7, float32's machine epsilon, and spread_i the element's Monte Carlo rounding
    spread (agreement.rounding): how far one relative ε of rounding at every step of this example's
    computation moves it. A fixed rtol cannot serve both a well-conditioned example, where 0.1 %
    must show, and one that is a small difference of large terms, where float32 cannot tell 0.1 %
    from noise; the spread knows which one it is. The second term is the rounding of the largest
    element itself, a floor for elements that no perturbation moves (an exact 0 behind a dead ReLU),
    and tiny (1.2e-38, the smallest normal float32) stands for underflow: an L2 strength of 1e-252
    makes a penalty float32 cannot hold at all.
float64:  t_i = atol + rtol · max_j |b_j|  (FIXED: rtol 1e-9, atol 1e-12), as strict as ever;
    only where that fails is the float64 rounding bound, the same formula with float64's ε,
    computed, and an element within it passes: such a disagreement is rounding, not a bug.

SAFETY = 32. The spread is the largest of 8 perturbed runs (agreement.rounding.TRIALS), while the
two results compared round on their own, each by more: a layer's internal sums (a loss over N·K
terms) round at every addition where the perturbation touches only its inputs and output, and two
engines' float32 tanh, exp and log1p differ by 1 to 3 units in the last place, XLA's approximations
of them by more. Measured in the thorough profile (1,000 examples a test, random seeds 11 and 12,
every family, layer and checker) with 4 runs and a factor of 16, the worst |a − b| / t was 1.0
(JAX's float32 x gradient of a four-hidden-layer network) and 0.87 (the reference's own float32
loss against the float64 truth): too thin a margin. 8 runs and 32 leave about 3× above the worst
seen; the README and docs/tolerances.md give the figures of the latest runs.

Where t_i ≥ |a_i| and t_i ≥ |b_i| for every element, both results are indistinguishable from
rounding noise: the quantity carries no information at this dtype, is not judged, and is counted
as "not informative" instead of passing silently. (A result far from a noise-level one is judged,
and fails.) Where VISIBLE · |b_i| > 2 t_i for some element, a bug of that size (0.1 %, the smallest
the power test hunts) would have shown, however much of t_i the honest rounding took.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Tolerance(NamedTuple):
    rtol: float
    atol: float

    def bound(self, scale: float) -> float:
        return self.atol + self.rtol * scale


FIXED = Tolerance(rtol=1e-9, atol=1e-12)  # float64; see the module's text
SAFETY = 32.0
VISIBLE = 1e-3


class Verdict(NamedTuple):
    ok: bool  # agrees, or was not judged
    judged: bool  # False: the result carries no information at this dtype
    visible: bool  # a 0.1 % error would have shown here
    abs_err: float  # the largest |a − b|
    rel_err: float  # that over max |b|
    ratio: float  # the largest |a_i − b_i| / t_i: how much of the tolerance was used
    message: str | None


def _fmt(v) -> str:
    return f"{float(v):.10g}"


def _rounding_bound(dtype, spread, scale):
    info = np.finfo(dtype)
    return SAFETY * (info.eps * (np.asarray(spread, dtype=np.float64) + scale) + info.tiny)


def judge(quantity: str, ours, theirs, checker: str, dtype, spread: Callable[[], np.ndarray] | None = None,
          ours_name: str = "reference") -> Verdict:
    """The verdict on one quantity. `spread` gives its rounding spread (agreement.rounding) when asked:
    always for float32, and for float64 only where the fixed rule fails; without it float32 cannot be
    judged and float64 keeps the fixed rule."""
    dtype = np.dtype(dtype)
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return Verdict(False, True, False, np.inf, np.inf, np.inf,
                       f"{quantity} has shape {a.shape} ({ours_name}) where {checker}'s is {b.shape}")
    diff = np.abs(a - b)
    size_b = np.abs(b)
    scale = float(size_b.max(initial=0.0))
    abs_err = float(diff.max(initial=0.0))
    rel_err = abs_err / scale if scale else (0.0 if abs_err == 0 else np.inf)
    rounded = False  # where the rounding bound is the one that applies (an array, or one value for all)
    if dtype == np.float64:
        bound = FIXED.bound(scale)  # one value for every element, unless rounding is asked below
        if not abs_err <= bound and spread is not None:
            rounding = _rounding_bound(dtype, spread(), scale)
            rounded = rounding > bound
            bound = np.maximum(bound, rounding)
    elif spread is None:
        raise ValueError(f"{quantity}: a {dtype} result can only be judged with its rounding spread")
    else:
        bound = _rounding_bound(dtype, spread(), scale)
        rounded = True
    finite = bool(np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(bound).all())
    if finite:  # every bound is positive and finite: no division by zero
        ratio = float((diff / bound).max(initial=0.0))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(diff == 0, 0.0, diff / bound)
        ratio = float(np.max(ratios, initial=0.0))
    size = np.maximum(np.abs(a), size_b)
    informative = not (bool((size > 0).any()) and bool((bound >= size).all()))  # exact zeros on both sides are judged
    visible = bool((VISIBLE * size_b > 2 * bound).any())
    # an infinite value, or a spread that overflowed, judges nothing: a failure, not a pass
    ok = finite and (bool((diff <= bound).all()) or not informative)
    if ok:
        return Verdict(True, informative, visible, abs_err, rel_err, ratio, None)
    bound, rounded = np.broadcast_to(bound, b.shape), np.broadcast_to(rounded, b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(diff == 0, 0.0, diff / bound)
    worst = np.unravel_index(int(np.argmax(np.where(np.isfinite(ratios), ratios, np.inf))), b.shape) if b.size else ()
    index = tuple(int(i) for i in worst)
    fixed = f"atol {FIXED.atol:g} + rtol {FIXED.rtol:g} × max|{checker}| {scale:.3g}"
    by_rounding = f"{SAFETY:g} × (ε × (rounding spread + max|{checker}| {scale:.3g}) + tiny)"
    return Verdict(False, True, visible, abs_err, rel_err, ratio, (
        f"{quantity} disagrees at index {index}: {ours_name} {_fmt(a[worst])}, {checker} {_fmt(b[worst])}, "
        f"difference {float(diff[worst]):.3g} > tolerance {float(bound[worst]):.3g} "
        f"({by_rounding if rounded[worst] else fixed})"))
