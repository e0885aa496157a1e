"""Hypothesis strategies: networks, shapes, weights, inputs and targets, in one place.

Hypothesis draws the structure of a case: the network (family, depth, kinds, layout, reduction,
L2 strength), the sizes, the batch shape, the form of the targets, how many special values (0,
±VALUE_RANGE, ±1e-3) are mixed in, and a seed; NumPy then fills every array from that seed. A
draw costs microseconds instead of one Hypothesis choice per element, and a failure still shrinks
to a small network at a small seed; tests/shrink.py then zeroes and rounds the failing point's
values while the failure holds, so the example printed is short.

Sizes are drawn independently, so weights are mostly non-square (a square weight hides a
missing transpose); N = 1 and the single 1-D example are drawn as cases of their own, but
most draws are batches of N ≥ 2, where a mean's 1/N and a bias's sum over the batch show.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import reference
from agreement import points
from agreement.points import literal, target_forms, uniform  # shared with frameworks.check
from reference.builders import OUTPUTS
from reference.layers import LAYOUTS
from reference.losses import REDUCTIONS
from tests import stacks

MAX_SIZE = 16
MAX_HIDDEN = 4  # hidden layers, in the networks of drawn depth
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


# The fraction of every array's elements set to SPECIAL values, per case (Hypothesis shrinks it to 0).
# At most a quarter: with half of all weights at 0 or ±2, deep float32 networks are mostly dead ReLUs
# and saturated tanh units, whose gradients float32 cannot resolve at all (the ci profile found torch's
# exact 0 against the reference's 1e-5 through a saturated tanh); judging such draws is the job of a
# tolerance that knows each example's conditioning, not of a fixed rtol.
SPECIAL_FRACTIONS = (0.0, 0.0, 0.0, 0.05, 0.25)


# Strategies are built once and reused: a new strategy object per draw costs Hypothesis more (its
# validation and caches) than the whole draw of a case.
@functools.cache
def choice(options: tuple):
    return st.sampled_from(options)


SEEDS = st.integers(0, 2**32 - 1)
BOOLEANS = st.booleans()
L2_STRENGTHS = st.floats(1e-3, 1.0)


@dataclass(frozen=True)
class Fill:
    """How NumPy fills the arrays of one case: a seed, and the fraction of elements made special."""

    seed: int
    special: float = 0.0

    def rng(self):
        return np.random.default_rng(self.seed)


@functools.cache
@st.composite
def fills(draw):
    return Fill(draw(SEEDS), draw(choice(SPECIAL_FRACTIONS)))


@functools.cache
def sizes(minimum=1):
    return st.integers(minimum, MAX_SIZE)


@functools.cache
@st.composite
def batch_shapes(draw, min_batch=1):
    """(N,) with N ≥ 2 in most draws, else (1,) or () for a single example (for a network that takes one)."""
    # Hypothesis favours the first entries of sampled_from, so the common case comes first.
    kind = draw(choice(("N ≥ 2", "N ≥ 2", "N ≥ 2", "N = 1", "single"))) if min_batch < 2 else "N ≥ 2"
    if kind == "single":
        return ()
    return (draw(sizes(2)) if kind == "N ≥ 2" else 1,)


def picker(draw):
    """pick(name, options) for reference.Layer.sample and tests/stacks.py: one Hypothesis choice."""
    return lambda name, options: draw(choice(tuple(options)))


@dataclass
class Case:
    """One network at one point: its repr is code that rebuilds it, for reproducing a failure."""

    net: reference.Network
    params: dict
    x: np.ndarray
    y: np.ndarray
    family: str = ""  # the row of FAMILIES it was drawn from, the subject in the run's table

    @property
    def dtype(self):
        return self.x.dtype

    def __repr__(self):
        params = ",\n    ".join(f"{k!r}: {literal(v)}" for k, v in self.params.items())
        return (f"\nnet = {self.net!r}\nparams = {{\n    {params},\n}}\n"
                f"x = {literal(self.x)}\ny = {literal(self.y)}\n")

    def _repr_pretty_(self, printer, cycle):  # Hypothesis prints failing draws with this
        printer.text(repr(self))


@dataclass(frozen=True)
class Family:
    """Networks of one architecture with drawn sizes, or (None fields) of drawn depth and kinds too; or a
    stack of any layers (tests/stacks.py), drawn through pick(name, options)."""

    hidden: tuple[str, ...] | None = None  # one kind per hidden layer; None: 1 to MAX_HIDDEN layers of drawn kinds
    output: str | None = None  # with loss; None: any supported (output, loss) pair
    loss: str | None = None
    l2: bool | None = False  # None: drawn, with or without
    stack: Callable | None = None  # pick -> (layers, input_shape, output, loss)
    fixed: bool = True  # whether every network drawn has the same kinds of layers (a mistake applies to all)

    @property
    def dense(self) -> bool:
        """A dense chain that mlp builds, of fixed kinds."""
        return self.stack is None and self.hidden is not None


FAMILIES = {
    "sigmoid_mse": Family(("sigmoid",), "sigmoid", "mse"),
    "sigmoid_softmax_ce": Family(("sigmoid",), "softmax", "cross_entropy"),
    "relu_softmax_ce_l2": Family(("relu",), "softmax", "cross_entropy", l2=True),  # the classic two-layer net
    "tanh3_sigmoid_mse": Family(("tanh",) * 3, "sigmoid", "mse"),
    "sigmoid_bce": Family(("sigmoid",), "sigmoid", "binary_cross_entropy"),
    "tanh_identity_mse": Family(("tanh",), "identity", "mse"),
    "mlp": Family(None, l2=None, fixed=False),  # depth, every hidden kind, output and loss drawn from the registries
    **{stack.__name__: Family(stack=stack, l2=None, fixed=stack is not stacks.sequential)
       for stack in (stacks.convnet, stacks.batchnorm_mlp, stacks.conv_batchnorm, stacks.layernorm_svm, stacks.sequential)},
}


def first(name, options):
    """The pick of an example network: the first option of each choice."""
    return next(iter(options))


def seeded(seed):
    """A pick by NumPy from a seed: a network of a stack family without Hypothesis."""
    rng = np.random.default_rng(seed)
    return lambda name, options: tuple(options)[rng.integers(len(tuple(options)))]


# A stack family is drawn from a pool of structures, each built from a seed with a batch of its own
# (STACK_BATCHES in turn): JAX compiles a network anew for each structure, batch size and dtype (0.3 to
# 0.5 s for a small convnet here, against 0.1 ms a call), and no padding makes convolutions or batch
# statistics share one compilation. Drawing every option freely made each example a compilation of its
# own: 433 s for the suite instead of 150 s; a pool of 4 structures with 3 batch sizes each still made
# make verify 148 s against 48 s. Each example draws its weights, inputs, targets, reduction and L2
# strength anew. The options of each layer are drawn freely, every one, by the layer tests
# (tests/test_layers.py). The pool of the drawn stack has one structure per registered kind, that kind
# first, and the (output, loss) pairs in turn, so that every kind is in some network whatever the registry holds.
POOL = 4
STACK_BATCHES = ((3,), (5,), (1,), ())  # N = 3, N = 5, N = 1, one example (for a network that takes one)


@functools.cache
def pool(family: str) -> tuple:
    """The structures of a stack family: (layers, input shape, output, loss) each, every one with points to draw."""
    f = FAMILIES[family]
    if f.stack is stacks.sequential:
        pairs = list(OUTPUTS)
        return tuple(_fillable(lambda pick, kind=kind, i=i: stacks.sequential(pick, kind, pairs[i % len(pairs)]), i)
                     for i, kind in enumerate(reference.LAYERS))
    return tuple(_fillable(f.stack, i) for i in range(POOL))


FILLS_IN_DOMAIN = 4  # of 5 seeds: a structure whose points do not lie in every layer's domain is passed over


def _fillable(make, index):
    """make(seeded(index)), or the first of make(seeded(index + 1000 k)) whose points can be drawn. A structure with
    none (a max pool after a dropout's zeros, or after a padded convolution's border rows, whose windows then tie)
    would be drawn and never verified: its every case is refused."""
    for attempt in range(50):
        structure = make(seeded(index + 1000 * attempt))
        net = _stacked(structure)
        form = target_forms(net.loss_layer)[0][0]
        filled = sum(fill_case(net, _batch(net, index), form, Fill(seed), np.dtype(np.float64)) is not None
                     for seed in range(5))
        if filled >= FILLS_IN_DOMAIN:
            return structure
    raise RuntimeError(f"no structure with points in every layer's domain for pool entry {index} of {make}")


def pool_batch(family: str, index: int) -> tuple:
    """The batch of the pool's structure `index`: STACK_BATCHES in turn, N ≥ 2 for batch statistics."""
    return _batch(pooled_networks(family)[index], index)


def _batch(net, index) -> tuple:
    batches = STACK_BATCHES if net.min_batch < 2 else STACK_BATCHES[:2]
    return batches[index % len(batches)]


def _stacked(structure, l2=0.0, reduction="mean"):
    """The network of a structure (layers, input shape, output, loss) of a stack family."""
    layers, shape, output, loss = structure
    return reference.sequential(layers, shape, output, loss, l2=l2, reduction=reduction)


@functools.cache
def pooled_networks(family: str) -> tuple[reference.Network, ...]:
    """The networks of a stack family's pool (none for a dense family): which options its draws can take."""
    f = FAMILIES[family]
    if f.stack is None:
        return []
    return tuple(_stacked(structure) for structure in pool(family))


def example_network(family: str) -> reference.Network:
    """A small network of the family (of its deepest, fullest kind), to ask which mistakes apply to it."""
    f = FAMILIES[family]
    if f.stack is not None:
        return _stacked(f.stack(first))
    hidden = f.hidden if f.hidden is not None else tuple(reference.ACTIVATIONS)
    output, loss = (f.output, f.loss) if f.output else next(iter(OUTPUTS))
    return reference.mlp(3, *[4] * len(hidden), 2, hidden=hidden, output=output, loss=loss, l2=0.0 if f.l2 is False else 0.1)


@functools.cache
def _hidden_kinds():
    return st.lists(choice(tuple(reference.ACTIVATIONS)), min_size=1, max_size=MAX_HIDDEN)


@functools.cache
@st.composite
def networks(draw, family, square=False):
    """A network of the family with drawn layout, reduction and sizes; all sizes equal when `square`."""
    f = FAMILIES[family]
    if f.stack is not None:
        return draw(stack_networks(family))[1]
    hidden = f.hidden if f.hidden is not None else tuple(
        draw(_hidden_kinds()))
    output, loss = (f.output, f.loss) if f.output else draw(choice(tuple(OUTPUTS)))
    k_min = reference.LOSSES[OUTPUTS[output, loss][1]].min_outputs
    layout = draw(choice(LAYOUTS))
    reduction = draw(choice(REDUCTIONS))
    with_l2 = draw(BOOLEANS) if f.l2 is None else f.l2
    l2 = draw(L2_STRENGTHS) if with_l2 else 0.0
    if square:
        sizes_ = [draw(sizes(k_min))] * (len(hidden) + 2)
    else:
        sizes_ = [draw(sizes()) for _ in range(len(hidden) + 1)] + [draw(sizes(k_min))]
    options = dict(layout=layout, reduction=reduction, l2=l2)
    if family in reference.NETWORKS:  # the named shorthands, through their own constructor
        return reference.NETWORKS[family](*sizes_, **options)
    return reference.mlp(*sizes_, hidden=hidden, output=output, loss=loss, **options)


@functools.cache
@st.composite
def stack_networks(draw, family):
    """(the index in the pool, the network) of a stack family, with its reduction and L2 strength drawn."""
    index = draw(choice(tuple(range(len(pool(family))))))
    reduction = draw(choice(REDUCTIONS))
    # always with an L2 penalty, of a drawn strength: with and without, each structure would compile twice
    return index, _stacked(pool(family)[index], draw(L2_STRENGTHS), reduction)


def fill_case(net, batch, form, fill: Fill, dtype, family="", attempts=50):
    """The params, x and y of one case, from the fill's seed, with every layer's input in its declared
    domain (agreement.points.fill), or None after `attempts` tries."""
    point = points.fill(net, batch, form, fill.rng(), dtype, fill.special, attempts)
    return None if point is None else Case(net, *point, family)


@functools.cache
@st.composite
def cases(draw, family, dtype, square=False):
    """A random network of the family (layout, reduction, sizes...), random params, inputs and targets,
    with every layer's input in its declared domain."""
    if FAMILIES[family].stack is not None:
        index, net = draw(stack_networks(family))
        batch = pool_batch(family, index)
    else:
        net = draw(networks(family, square))
        batch = draw(batch_shapes(net.min_batch))
    forms, _ = target_forms(net.loss_layer)
    form = draw(choice(forms))
    case = fill_case(net, batch, form, draw(fills()), np.dtype(dtype), family)
    assume(case is not None)
    return case


@st.composite
def layer_cases(draw, kind, dtype):
    """A layer of `kind` as the layer draws itself (reference.Layer.sample: its shapes and options), its params,
    a batch input x in its domain and a random dy. Returns (layer, params, x, dy); losses come from `loss_cases`."""
    layer, shape = reference.LAYERS[kind].sample(picker(draw))
    n = draw(sizes(layer.min_batch)) if len(shape) == 1 else draw(choice((1, 2, 3, 4)))
    fill = draw(fills())
    rng = fill.rng()
    params = {name: uniform(rng, dtype, shape, special=fill.special) for name, shape in layer.param_shapes.items()}
    x = layer.domain.into(uniform(rng, dtype, (max(n, layer.min_batch), *shape), special=fill.special))
    out, _ = layer.forward(params, x)
    dy = uniform(rng, dtype, out.shape, special=fill.special)
    return layer, params, x, dy


@st.composite
def loss_cases(draw, kind, dtype):
    """A loss of `kind` with a random reduction, its input z (N, K), targets y (N, K) and a random dloss."""
    layer = reference.LOSSES[kind](draw(choice(REDUCTIONS)))
    n, k = draw(sizes()), draw(sizes(layer.min_outputs))
    forms, filler = target_forms(layer)
    form = draw(choice(forms))
    fill = draw(fills())
    rng = fill.rng()
    for _ in range(50):  # refilled until the scores are off the loss's kink, if it has one
        z = uniform(rng, dtype, (n, k), special=fill.special)
        y = layer.targets(filler(rng, form, (n,), k, dtype), z, k)
        if layer.domain is None or layer.domain.inside(z, y):
            break
    assume(layer.domain is None or layer.domain.inside(z, y))
    return layer, z, y, uniform(rng, dtype, (), special=fill.special)[()]


@st.composite
def penalty_cases(draw, kind, dtype):
    """A penalty of `kind` with a drawn strength, 1 to 3 weight matrices W1, W2, ... and a random dloss."""
    penalty = reference.PENALTIES[kind](draw(L2_STRENGTHS))
    count = draw(st.integers(1, 3))
    shapes = [(draw(sizes()), draw(sizes())) for _ in range(count)]
    fill = draw(fills())
    rng = fill.rng()
    weights = {f"W{i}": uniform(rng, dtype, shape, special=fill.special) for i, shape in enumerate(shapes, 1)}
    return penalty, weights, uniform(rng, dtype, (), special=fill.special)[()]
