"""Hypothesis strategies: networks, shapes, weights, inputs and targets, in one place.

Sizes are drawn independently, so weights are mostly non-square (a square weight hides a
missing transpose); N = 1 and the single 1-D example are drawn as cases of their own, but
most draws are batches of N ≥ 2, where a mean's 1/N and a bias's sum over the batch show.
Every array element is drawn on its own (no fill value), so a weight is rarely constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import reference
from reference.layers import LAYOUTS
from reference.losses import REDUCTIONS

MAX_SIZE = 16
VALUE_RANGE = 2.0  # weights, inputs: |v| ≤ 2 keeps float32 rounding meaningful (see tolerances.py)
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def values(dtype, low=-VALUE_RANGE, high=VALUE_RANGE):
    return st.floats(low, high, width=np.dtype(dtype).itemsize * 8, allow_subnormal=False)


def array(dtype, shape, low=-VALUE_RANGE, high=VALUE_RANGE):
    return arrays(np.dtype(dtype), shape, elements=values(dtype, low, high), fill=st.nothing())


def sizes(minimum=1):
    return st.integers(minimum, MAX_SIZE)


@st.composite
def batch_shapes(draw):
    """(N,) with N ≥ 2 in most draws, else (1,) or () for a single 1-D example."""
    # Hypothesis favours the first entries of sampled_from, so the common case comes first.
    kind = draw(st.sampled_from(["N ≥ 2", "N ≥ 2", "N ≥ 2", "N = 1", "single"]))
    if kind == "single":
        return ()
    return (draw(sizes(2)) if kind == "N ≥ 2" else 1,)


@st.composite
def class_targets(draw, batch, classes, dtype):
    """Integer labels, one-hot rows, or probability rows (soft labels), for `batch` examples."""
    kind = draw(st.sampled_from(["labels", "one-hot", "probabilities"]))
    labels = draw(arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    if kind == "labels":
        return labels
    if kind == "one-hot":
        return np.eye(classes, dtype=dtype)[labels]
    weights = draw(array(dtype, batch + (classes,), low=0.0, high=1.0)) + np.asarray(1e-3, dtype)
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(dtype)


def regression_targets(batch, classes, dtype):
    return array(dtype, batch + (classes,), low=0.0, high=1.0)


def targets(net, batch, dtype):
    if isinstance(net.loss_layer, reference.SoftmaxCrossEntropy):
        return class_targets(batch, net.sizes[-1], dtype)
    return regression_targets(batch, net.sizes[-1], dtype)


def _literal(a) -> str:
    a = np.asarray(a)
    return f"np.array({a.tolist()!r}, dtype=np.{a.dtype.name})"


@dataclass
class Case:
    """One network at one point: its repr is code that rebuilds it, for reproducing a failure."""

    net: reference.Network
    params: dict
    x: np.ndarray
    y: np.ndarray

    @property
    def dtype(self):
        return self.x.dtype

    def __repr__(self):
        params = ",\n    ".join(f"{k!r}: {_literal(v)}" for k, v in self.params.items())
        return (f"\nnet = {self.net!r}\nparams = {{\n    {params},\n}}\n"
                f"x = {_literal(self.x)}\ny = {_literal(self.y)}\n")

    def _repr_pretty_(self, printer, cycle):  # Hypothesis prints failing draws with this
        printer.text(repr(self))


@st.composite
def networks(draw, name, square=False):
    """A network of kind `name` with random layout, reduction and sizes; all sizes equal when `square`."""
    k_min = 2 if name == "sigmoid_softmax_ce" else 1
    layout = draw(st.sampled_from(LAYOUTS))
    reduction = draw(st.sampled_from(REDUCTIONS))
    if square:
        d = h = k = draw(sizes(k_min))
    else:
        d, h, k = draw(sizes()), draw(sizes()), draw(sizes(k_min))
    return reference.NETWORKS[name](d, h, k, layout=layout, reduction=reduction)


@st.composite
def cases(draw, name, dtype, square=False):
    """A random network of kind `name` (layout, reduction, sizes), random params, inputs and targets."""
    net = draw(networks(name, square))
    params = {key: draw(array(dtype, shape)) for key, shape in net.param_shapes.items()}
    batch = draw(batch_shapes())
    x = draw(array(dtype, batch + (net.sizes[0],)))
    y = draw(targets(net, batch, dtype))
    return Case(net, params, x, y)


@st.composite
def layer_cases(draw, kind, dtype):
    """A layer of `kind` with random options, its params, a batch input x and a random upstream dy.

    Returns (layer, params, x, dy); losses, which also take targets, come from `loss_cases`.
    """
    n = draw(sizes())
    if kind == "dense":
        layer = reference.Dense(draw(sizes()), draw(sizes()), draw(st.sampled_from(LAYOUTS)))
        width, out = layer.fan_in, layer.fan_out
    else:
        layer = reference.LAYERS[kind]()
        width = out = draw(sizes())
    params = {name: draw(array(dtype, shape)) for name, shape in layer.param_shapes.items()}
    x = draw(array(dtype, (n, width)))
    dy = draw(array(dtype, (n, out)))
    return layer, params, x, dy


@st.composite
def loss_cases(draw, kind, dtype):
    """A loss of `kind` with a random reduction, its input z (N, K), targets y (N, K) and a random dloss."""
    layer = reference.LOSSES[kind](draw(st.sampled_from(REDUCTIONS)))
    n, k = draw(sizes()), draw(sizes(2 if kind == "softmax_cross_entropy" else 1))
    z = draw(array(dtype, (n, k)))
    if kind == "softmax_cross_entropy":
        y = layer.targets(draw(class_targets((n,), k, dtype)), z, k)
    else:
        y = draw(regression_targets((n,), k, dtype))
    dloss = draw(values(dtype))
    return layer, z, y, dloss
