"""What is wrong in a student's backward pass, from the wrong and the right values (where it is wrong:
frameworks.where).

Every point holds the student's result and the checker's at one drawn input; a relation is named
only if it holds at every point (the failing one and spare ones of other sizes and batches), so
that a coincidence at one degenerate point names nothing.

    mistakes(points, reg=, factor=, fix=)   one sentence per mistake named:
        results right only to a few parts in a million (float32 arithmetic, an ε inside a log)
        a reduction that differs (the loss and every gradient off by exactly N or 1/N), or the loss's
            and the gradients' reductions differing
        the known-wrong variants of reference/mistakes.py (σ′ at z, a sigmoid for the softmax, ...)
        a regularization term in one of the loss and the gradients but not the other; biases regularized
        a constant factor (−1, 2, ½, N, 1/N); a transpose; a bias gradient not summed over the batch
        the loss wrong while every gradient is right, or every gradient wrong while the loss is right
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frameworks.where import dense_chain, is_are, listed
from reference import mistakes as known


@dataclass
class Point:
    """One input (params, x, y) with the student's result and the checker's, each {"loss": .., key: ..}, and
    the quantities the verdict found wrong there (agreement.compare's, not this module's looser match)."""

    net: object
    params: dict
    x: np.ndarray
    y: np.ndarray
    ours: dict
    right: dict
    dtype: object = np.float64
    wrong: set = None

    def __post_init__(self):
        if self.wrong is None:
            self.wrong = {q for q in self.ours if q in self.right and not self.match(self.ours[q], self.right[q])}

    @property
    def n(self) -> int:
        return 1 if self.x.ndim == 1 else len(self.x)

    def match(self, a, b) -> bool:
        """Equal up to rounding (a diagnosis's test, not the verdict: the verdict is agreement.judge's)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return False
        rtol = 1e-7 if np.dtype(self.dtype) == np.float64 else 1e-4
        return bool(np.max(np.abs(a - b), initial=0.0) <= rtol * max(float(np.max(np.abs(b), initial=0.0)), 1e-30))


# ---- how: relations between the wrong and the right values -----------------------------------------

FACTORS = {"−1": lambda n: -1.0, "2": lambda n: 2.0, "½": lambda n: 0.5, "N": lambda n: float(n),
           "1/N": lambda n: 1.0 / n}
SAYS = {"−1": "−1 × the right value (sign flipped)", "2": "2 × the right value", "½": "½ × the right value",
        "N": "N × the right value (a missing 1/N)", "1/N": "1/N × the right value (an extra 1/N)"}


def _holds(points, relation) -> bool:
    return len(points) >= 2 and all(relation(p) for p in points)


def _factor(points, q):
    """The name of the factor c with ours = c · right at every point, or None; N and 1/N only where the
    points' batches differ, so that they cannot be mistaken for a constant."""
    batches = {p.n for p in points}
    for name, c in FACTORS.items():
        if name in ("N", "1/N") and (1 in batches or len(batches) < 2):
            continue
        if _holds(points, lambda p, c=c: p.match(p.ours[q], c(p.n) * np.asarray(p.right[q]))):
            return name
    return None


def _scaled(points, q, name) -> bool:
    return _holds(points, lambda p: p.match(p.ours[q], FACTORS[name](p.n) * np.asarray(p.right[q])))


def _reduction(points, fix: dict) -> tuple[list[str], set]:
    """Everything off by exactly N or 1/N (the reduction differs: a flag, not a bug), or every gradient
    off by it while the loss is right (the loss and the gradients use different reductions)."""
    if len({p.n for p in points}) < 2 or any(p.n == 1 for p in points):
        return [], set()
    expected = points[0].net.reduction
    grads = [q for q in points[0].ours if q in points[0].right and q != "loss"]
    everything = ["loss", *grads]
    for name, theirs, other in (("N", "sums", "sum"), ("1/N", "averages", "mean")):
        if all(_scaled(points, q, name) for q in everything):
            if expected != other:
                return [f"the reduction differs: your loss and every gradient are exactly {name} × the expected ones, so "
                        f"your function {theirs} over the batch where this check expects the {expected}"
                        + (f"; {fix[other]}" if other in fix else "")], set(everything)
            return [f"your loss and every gradient are exactly {name} × the right ones"], set(everything)
        if grads and all(_scaled(points, q, name) for q in grads) and "loss" not in set().union(*(p.wrong for p in points)):
            if name == "N" and expected == "mean":
                return ["missing 1/N (mean over the batch) in every gradient: your loss averages over the batch and "
                        "your gradients sum"], set(grads)
            if name == "1/N" and expected == "sum":
                return ["an extra 1/N in every gradient: your loss sums over the batch and your gradients average"], set(grads)
    return [], set()


def _precision(points) -> list[str]:
    """Every wrong value right to a few parts in a million: float32 arithmetic, or an ε inside a log."""
    worst = 0.0
    for p in points:
        for q in p.wrong:
            a, b = np.asarray(p.ours[q], dtype=np.float64), np.asarray(p.right[q], dtype=np.float64)
            if a.shape != b.shape or not np.all(np.isfinite(a)):
                return []
            worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)) / max(float(np.max(np.abs(b), initial=0.0)), 1e-300))
    if 0 < worst <= 1e-5:
        return [f"your results are right to {worst:.1e} relative, not to float64's precision: a step computed in "
                "float32, or an ε added inside a log?"]
    return []


def _variants(points, unexplained) -> tuple[list[str], set]:
    """Known-wrong variants whose values equal the student's wrong ones at every point: each explains the
    quantities it matches; chosen greedily, the variant explaining the most first."""
    net = points[0].net
    options = []
    for name, (description, _, _) in known.MISTAKES.items():
        if name == "scaled_by_1.001" or not known.applies(net, name):
            continue
        options.append((description, name, None))
        here = known.places(net, name)
        if len(here) > 1:
            options += [(f"{description} (only in {_place(net, i)})", name, i) for i in here]
    found, explained = [], set()
    matches = []
    for description, name, only in options:
        quantities, differs = set(unexplained), set()
        for p in points:
            try:
                loss, grads = known.apply(p.net, name, only=only).loss_and_grads(p.params, p.x, p.y)
            except (ValueError, FloatingPointError):  # the variant cannot run here (W for Wᵀ, not square)
                quantities = set()
                break
            theirs = {"loss": loss, **grads}
            quantities &= {q for q in p.ours if q in theirs and p.match(p.ours[q], theirs[q])}
            differs |= {q for q in quantities if not p.match(theirs[q], p.right[q])}
        quantities &= differs  # where the variant equals the right value everywhere, it explains nothing
        if quantities:
            matches.append((len(quantities), description, quantities))
    for _, description, quantities in sorted(matches, key=lambda m: -m[0]):
        if quantities - explained:
            found.append(description)
            explained |= quantities
    return found, explained


def _place(net, index) -> str:
    dense = sum(1 for layer, _ in net.layers[: index + 1] if layer.kind == "dense")
    kind = net.layers[index][0].kind
    return f"the dense layer W{dense}" if kind == "dense" else f"the {kind} after W{dense}"


def _coefficient(value: float) -> str | None:
    for c, text in ((2.0, "2·reg"), (1.0, "reg"), (0.5, "½·reg"), (-2.0, "−2·reg"), (-1.0, "−reg"), (-0.5, "−½·reg")):
        if abs(value - c) <= 1e-6 * abs(c):
            return text
    return None


def _regularization_over_n(points, reg, factor, weights) -> tuple[list[str], set]:
    """The regularization divided by N along with the data loss, in the loss and the weight gradients."""
    def term(p, w):
        return factor * reg * (1 - 1 / p.n) * np.asarray(p.params[w], dtype=np.float64)

    def loss_ok(p):
        penalty = sum(float(np.sum(term(p, w) * np.asarray(p.params[w]))) for w in weights)
        return p.match(p.ours["loss"], p.right["loss"] - penalty)

    if len({p.n for p in points}) < 2 or not all("loss" in p.ours for p in points):
        return [], set()
    grads_ok = all(_holds(points, lambda p, w=w: p.match(p.ours[w], np.asarray(p.right[w]) - 2 * term(p, w)))
                   for w in weights)
    if grads_ok and _holds(points, loss_ok):
        return [f"the regularization divided by N with the data loss: {_coefficient(factor)}·ΣW²/N where "
                f"{_coefficient(factor)}·ΣW² belongs, in your loss and your gradients"], {"loss", *weights}
    return [], set()


def _regularization(points, reg, factor, unexplained) -> tuple[list[str], set]:
    """A regularization term in one of the loss and the gradients but not the other, or on the biases."""
    if not reg:
        return [], set()
    chain = dense_chain(points[0].net)
    every_weight = [w for _, w, _, _ in chain]
    if set(every_weight) <= set(unexplained) and "loss" in unexplained:
        found = _regularization_over_n(points, reg, factor, every_weight)
        if found[0]:
            return found
    weights = [q for q in unexplained if q in {w for _, w, _, _ in chain}]
    biases = [q for q in unexplained if q in {b for _, _, b, _ in chain}]

    def grad_term(key):  # ours − right = c · reg · key, the same c at every point (a zero key shows nothing)
        cs = []
        for p in points:
            param = np.asarray(p.params[key], dtype=np.float64)
            diff = np.asarray(p.ours[key], dtype=np.float64) - np.asarray(p.right[key], dtype=np.float64)
            norm = float(np.sum(param * param))
            if diff.shape != param.shape:
                return None
            c = float(np.sum(diff * param)) / (reg * norm) if norm else 0.0
            if not p.match(p.ours[key], np.asarray(p.right[key]) + c * reg * param):
                return None
            if norm:
                cs.append(c)
        return cs[0] if cs and _coefficient(cs[0]) and all(abs(c - cs[0]) <= 1e-6 * abs(cs[0]) for c in cs) else None

    found, explained = [], set()
    missing = {w: grad_term(w) for w in weights}
    lacking = [w for w, c in missing.items() if c is not None and abs(c + 2 * factor) <= 1e-6]
    loss_w = loss_b = None
    if "loss" in unexplained:
        a = np.array([[reg * sum(float(np.sum(np.asarray(p.params[w]) ** 2)) for _, w, _, _ in chain),
                       reg * sum(float(np.sum(np.asarray(p.params[b]) ** 2)) for _, _, b, _ in chain)] for p in points])
        d = np.array([p.ours["loss"] - p.right["loss"] for p in points])
        coef, *_ = np.linalg.lstsq(a, d, rcond=None)
        if np.allclose(a @ coef, d, rtol=1e-7, atol=1e-9 * max(1.0, float(np.max(np.abs(a))))):
            loss_w = coef[0] if _coefficient(coef[0]) else (0.0 if abs(coef[0]) < 1e-6 else None)
            loss_b = coef[1] if _coefficient(coef[1]) else (0.0 if abs(coef[1]) < 1e-6 else None)
    term = f"{_coefficient(factor)}·ΣW²"
    if loss_w is not None and abs(loss_w + factor) <= 1e-6:
        explained.add("loss")
        if lacking:
            found.append(f"the regularization is missing from your loss ({term}) and from your "
                         f"{listed(lacking)} gradient{'s' if len(lacking) > 1 else ''}")
            explained |= set(lacking)
        else:
            found.append(f"a regularization term in your gradients but not in your loss: your loss lacks {term}")
    elif lacking:
        found.append(f"a regularization term in your loss but not in your gradients: your {listed(lacking)} "
                     f"gradient{'s' if len(lacking) > 1 else ''} {'lack' if len(lacking) > 1 else 'lacks'} "
                     f"{_coefficient(2 * factor)}·W")
        explained |= set(lacking)
    for w, c in missing.items():
        if w not in explained and c is not None:
            theirs = _coefficient(2 * factor + c) or f"{2 * factor + c:.3g}·reg"
            found.append(f"your {w} gradient's regularization term is {theirs}·{w} where "
                         f"{_coefficient(2 * factor)}·{w} belongs (your loss's convention: {term})")
            explained.add(w)
    bias_terms = {b: grad_term(b) for b in biases}
    carried = [b for b, c in bias_terms.items() if c is not None]
    if loss_b:
        explained.add("loss")
        found.append("biases regularized: your loss carries " + f"{_coefficient(loss_b)}·Σb²"
                     + (f", and your {listed(carried)} gradient{'s follow' if len(carried) > 1 else ' follows'} it" if carried
                        else ", which the bias gradients do not follow"))
        explained |= set(carried)
    elif carried:
        found.append(f"your {listed(carried)} gradient{'s' if len(carried) > 1 else ''} carr{'y' if len(carried) > 1 else 'ies'} "
                     f"a regularization term ({_coefficient(bias_terms[carried[0]])}·b) that your loss lacks")
        explained |= set(carried)
    return found, explained


def _transposed(p, q) -> bool:
    return np.ndim(p.ours[q]) == 2 and p.match(np.asarray(p.ours[q]).T, p.right[q])


def _transposed_then_flattened(p, q) -> bool:  # CS224n's flat grad: a (H, D) gradient read back as (D, H)
    return np.ndim(p.right[q]) == 2 and p.match(np.reshape(p.ours[q], np.shape(p.right[q])[::-1]).T, p.right[q])


def _one_row_per_example(p, q) -> bool:
    return p.n > 1 and np.shape(p.ours[q]) == (p.n, *np.shape(p.right[q])) and p.match(np.sum(p.ours[q], axis=0), p.right[q])


# (the relation of the student's gradient to the right one, rearranged; the sentence naming the keys it holds for)
REARRANGED = (
    (_transposed, lambda keys: f"transposed: your {listed(keys)} {is_are(keys)} the right gradient transposed"),
    (_transposed_then_flattened, lambda keys: f"transposed, then flattened: your {listed(keys)} {is_are(keys)} the right "
                                              "gradient transposed, read back in the right gradient's shape"),
    (_one_row_per_example, lambda keys: f"bias gradient not summed over the batch: your {listed(keys)} "
                                        f"{'has' if len(keys) == 1 else 'have'} one row per example; the right one is their sum"),
)


def _layout_slips(points, unexplained) -> tuple[list[str], set]:
    """A gradient equal to the right one rearranged: transposed (and flattened), or one row per example."""
    found, explained = [], set()
    for relation, sentence in REARRANGED:
        keys = [q for q in unexplained if q != "loss" and q not in explained
                and _holds(points, lambda p, q=q, relation=relation: relation(p, q))]
        if keys:
            found.append(sentence(keys))
            explained |= set(keys)
    return found, explained


def _factors(points, unexplained) -> tuple[list[str], set]:
    by_factor = {}
    for q in unexplained:
        name = _factor(points, q)
        if name:
            by_factor.setdefault(name, []).append(q)
    found = [f"your {listed('loss' if q == 'loss' else q for q in qs)} {is_are(qs)} exactly {SAYS[name]}"
             for name, qs in by_factor.items()]
    return found, {q for qs in by_factor.values() for q in qs}


def mistakes(points, *, reg=0.0, factor=1.0, fix=None) -> list[str]:
    """One sentence per mistake named, each holding at every point (two at least); [] when none is."""
    points = [p for p in points if p.ours]
    wrong = set().union(*(p.wrong for p in points))
    if len(points) < 2 or not wrong:
        return []
    precision = _precision(points)
    if precision:
        return precision
    order = ["loss", *(k for _, w, b, _ in reversed(dense_chain(points[0].net)) for k in (w, b)), "x"]
    unexplained = [q for q in order if q in wrong]  # in backward order, so that sentences name them so
    found = []
    for step in (lambda u: _reduction(points, fix or {}), lambda u: _regularization(points, reg, factor, u),
                 lambda u: _variants(points, u), lambda u: _layout_slips(points, u), lambda u: _factors(points, u)):
        names, explained = step(unexplained)
        found += names
        unexplained = [q for q in unexplained if q not in explained]
        if not unexplained:
            break
    grads = [q for q in points[0].ours if q != "loss"]
    if wrong == {"loss"}:
        found.append("your loss is wrong while every gradient is right")
    elif not found and "loss" not in wrong and grads and all(q in wrong for q in grads):
        found.append("every gradient is wrong while your loss is right")
    return found
