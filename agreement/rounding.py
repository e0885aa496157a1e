"""How far honest rounding can move each element of a result: Monte Carlo arithmetic on the reference.

A float32 computation rounds the result of every operation: x̂ = x (1 + δ), |δ| ≤ ε (ε = 2⁻²³,
one unit in the last place at 1). Where the result is a small difference of large terms, these
roundings of the terms, not of the result, decide its error: the gradient of W3 in an example whose
loss is 7,000 and whose gradient is 5e-4 carries rounding errors of 1e-5 in any float32 engine.

So, for one example, the same computation is run TRIALS times in float64 with every array that a
layer, loss or penalty receives or returns (its input, its parameters, what it caches for the
backward, its output, the gradients it hands on) multiplied elementwise by (1 + ε r), r uniform in
[−1, 1], drawn anew each time. The largest change of each element over the trials, divided by ε,
is its spread: what one relative ε of rounding at every step moves it by. It is linear in ε to
first order, so the bound for dtype d is SAFETY × eps(d) × spread (agreement.tolerance). The
perturbed inputs of a matrix product stand for the rounding of its terms, and perturbed caches for
the rounding that a backward such as 1 − a² inherits from a rounded a. Any layer gets this without
declaring anything: the perturbation wraps its forward and backward from outside.

This is the reference's own arithmetic, run in float64: it estimates the conditioning of the
example, the same whichever implementation is judged against it.
"""

from __future__ import annotations

import math

import numpy as np

from reference import validate

TRIALS = 8  # the largest of 8 runs: with 4, the thorough profile found raw ratios of 16 (see agreement.tolerance)
UNIT = float(np.finfo(np.float32).eps)  # the relative perturbation: small enough to be linear, far above float64's


class Factors:
    """Factors (1 + UNIT r), r uniform in [−1, 1], a fresh one for every element asked for, drawn from `rng` in
    blocks: the arrays perturbed are small and many, and a call to the generator for each cost as much as the
    rest of the spread (10 s of the suite's 27 s in spreads, measured by cProfile)."""

    def __init__(self, rng, block: int = 1024):
        self.rng, self._block = rng, block
        self._buffer, self._at = np.empty(0), 0

    def take(self, shape) -> np.ndarray:
        n = math.prod(shape)
        if self._at + n > self._buffer.size:
            self._block = max(min(2 * self._block, 1 << 16), n)
            self._buffer, self._at = 1 + UNIT * (2 * self.rng.random(self._block) - 1), 0
        out = self._buffer[self._at:self._at + n].reshape(shape)
        self._at += n
        return out


def _perturb(value, factors: Factors):
    """value with every float array (and float) in it multiplied by (1 + UNIT r), r uniform in [−1, 1]."""
    kind = type(value)
    if kind is np.ndarray:
        return value * factors.take(value.shape) if value.dtype.kind == "f" else value
    if kind is tuple or kind is list:
        return kind(_perturb(v, factors) for v in value)
    if kind is dict:
        return {k: _perturb(v, factors) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value * factors.take(value.shape) if value.dtype.kind == "f" else value
    if isinstance(value, (float, np.floating)):
        return value * float(factors.take(()))
    if isinstance(value, (tuple, list)):  # a subclass (a named tuple) becomes the plain kind
        return (tuple if isinstance(value, tuple) else list)(_perturb(v, factors) for v in value)
    if isinstance(value, dict):
        return {k: _perturb(v, factors) for k, v in value.items()}
    return value


def _centered(x, rng):
    """x with every element moved by up to UNIT · max|x|: a layer that subtracts the mean of its input
    (batch norm, layer norm) computes that mean with a rounding error of about ε max|x|, which moves every
    deviation x − μ by as much; where the deviations are small against the values, this decides the error."""
    scale = UNIT * float(np.max(np.abs(x), initial=0.0))
    return x + scale * (2 * rng.random(x.shape) - 1)


class Jittered:
    """A layer, loss or penalty whose every input and output is perturbed; anything else is the part's own."""

    def __init__(self, part, rng):
        """`rng`: a NumPy Generator, or the Factors of one trial shared by all its parts."""
        self._part = part
        self._factors = rng if isinstance(rng, Factors) else Factors(rng)
        self._rng = self._factors.rng

    def __getattr__(self, name):
        return getattr(self._part, name)

    def _p(self, value):
        return _perturb(value, self._factors)

    def forward(self, *args):
        if len(args) == 2 and hasattr(self._part, "targets"):  # a loss: the targets are given, not computed
            result = self._part.forward(self._p(args[0]), args[1])
        elif getattr(self._part, "centers", False):
            params, x = args
            result = self._part.forward(self._p(params), self._p(_centered(x, self._rng)))
        else:
            result = self._part.forward(*(self._p(a) for a in args))
        return self._p(result)

    def backward(self, cache, d=1.0):
        return self._p(self._part.backward(self._p(cache), self._p(d)))


def spread(compute, trials: int = TRIALS, seed: int = 0) -> dict[str, np.ndarray]:
    """Each element's spread under perturbation, per UNIT. `compute(wrap)` returns {name: array} in float64,
    with each part it runs wrapped as wrap(part)."""
    base = {k: np.asarray(v, dtype=np.float64) for k, v in compute(lambda part: part).items()}
    out = {k: np.zeros_like(v) for k, v in base.items()}
    factors = Factors(np.random.default_rng(seed))
    for _ in range(trials):
        moved = compute(lambda part: Jittered(part, factors))
        for k in out:
            out[k] = np.maximum(out[k], np.abs(np.asarray(moved[k], dtype=np.float64) - base[k]) / UNIT)
    return out


def _float64(a):
    a = np.asarray(a)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def network_spread(net, params, x, y, trials: int = TRIALS) -> dict[str, np.ndarray]:
    """The spread of the loss and of every gradient of `net` at (params, x, y): keys "loss", params and "x"."""
    params, x, y = {k: _float64(v) for k, v in params.items()}, _float64(x), _float64(y)
    if y.dtype.kind == "f" and type(net.loss_layer).targets is validate.class_targets:
        y = y / y.sum(axis=-1, keepdims=True)  # float32 rows of probabilities sum to 1 only to float32's precision

    def run(wrap):
        with np.errstate(all="ignore"):
            loss, grads = net.with_parts(wrap).loss_and_grads(params, x, y)
        return {"loss": loss, **grads}

    out = spread(run, trials)
    out["loss"] = np.maximum(out["loss"], _loss_terms(net.loss_layer, len(net.batched(x)), net.outputs))
    return out


def _loss_terms(loss, n: int, k: int) -> float:
    """A loss sums N·K terms, each rounded inside the loss (exp, log1p, the log of a sum) where no
    perturbation reaches: one ε of each, scaled as the loss scales them. A review found correct float32
    losses failing without it: torch's binary cross-entropy at confident logits, and a softmax
    cross-entropy near 0, where log(1 + δ) keeps one ε of absolute error however small the loss."""
    return n * k * loss.scale(n)


def layer_spread(part, inputs, d, y=None, trials: int = TRIALS) -> dict[str, np.ndarray]:
    """The spread of one layer's, loss's or penalty's value and pulled-back gradients, with inputs as the
    checkers take them: {"x": ..., params...} for a layer or loss (a loss also given targets y), {params...}
    for a penalty. Keys: "output" for a layer, "loss" for a loss or penalty, then those of inputs."""
    inputs, d = {k: _float64(v) for k, v in inputs.items()}, _float64(d)
    y = None if y is None else _float64(y)
    params = {k: v for k, v in inputs.items() if k != "x"}

    def run(wrap):
        step = wrap(part)
        with np.errstate(all="ignore"):
            if "x" not in inputs:  # a penalty
                value, cache = step.forward(params)
                return {"loss": value, **step.backward(cache, d)}
            if y is not None:  # a loss
                value, cache = step.forward(inputs["x"], y)
                dx, _ = step.backward(cache, d)
                return {"loss": value, "x": dx}
            out, cache = step.forward(params, inputs["x"])
            dx, grads = step.backward(cache, d)
            return {"output": out, "x": dx, **grads}

    out = spread(run, trials)
    if y is not None:
        z = np.atleast_2d(inputs["x"])
        out["loss"] = np.maximum(out["loss"], _loss_terms(part, z.shape[0], z.shape[-1]))
    return out
