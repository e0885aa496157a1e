"""What every layer shares: its test domain, its shape rule, its description, how its test inputs are drawn.

A layer is a class with `forward(params, x) -> (y, cache)` and `backward(cache, dy) -> (dx, grads)` side
by side (reference.layers, reference.conv, reference.norm). Layer supplies the rest of the contract:

    layer.output_shape(shape)        # one example's output shape from its input shape, or a ValueError
    layer.init(rng, dtype)           # starting params, the keys and shapes of layer.param_shapes
    Layer.sample(pick, shape)        # (a layer, its input shape) to test, options chosen by pick(name, options)
    layer.explain(a, b, p)           # its forward, backward and Jacobian as text: a, b name its input and
                                     # output, p its params' keys (reference.explain adds the shapes)
    layer.domain                     # where its test inputs may lie: .inside(h), .into(h)

`sample` is how the property tests, the drawn networks and the layer check draw a layer: `pick` is a
Hypothesis draw in the tests and a seeded NumPy choice in `python -m frameworks.check`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SIZES = tuple(range(1, 7))  # the widths a drawn layer picks from: small, so that a Jacobian stays small


class Domain(NamedTuple):
    """Where a layer's inputs may be drawn in the property tests: anywhere, or kept `margin` away
    (relative to the largest input of the draw) from each point in `avoid`, such as a kink."""

    avoid: tuple[float, ...] = ()
    margin: float = 0.0

    def gap(self, h) -> float:
        return self.margin * max(1.0, float(np.max(np.abs(h), initial=0.0)))

    def inside(self, h) -> bool:
        gap = self.gap(h)
        return all(np.all(np.abs(h - point) >= gap) for point in self.avoid)

    def into(self, h):
        """h with every element closer than the margin to an avoided point moved out to the margin."""
        gap = self.gap(h)
        for point in self.avoid:
            near = np.abs(h - point) < gap
            h = np.where(near, point + np.copysign(gap, h - point), h).astype(h.dtype)
        return h


class Text(NamedTuple):
    """A layer's own explain text: its forward, its backward and its Jacobian, as lines of math. `a` names its
    input, `b` its output, g_a and g_b their gradients dC/da and dC/db; p maps its param names to their keys."""

    forward: tuple[str, ...]
    backward: tuple[str, ...]
    jacobian: tuple[str, ...]


def shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


class Layer:
    """Defaults for a layer: no params, the shape unchanged, any input rank, a batch of one allowed."""

    kind: str
    elementwise = False
    domain = Domain()
    options: dict = {}
    param_shapes: dict = {}
    centers = False  # True: subtracts a mean of its input (batch norm, layer norm; see agreement.rounding)
    fewest_features = 1  # the fewest features (channels for an image) its drawn test inputs have
    numbered: str | None = None  # "weight": W{l}, b{l} (l = 1, 2, ...); "norm": gamma{l}, beta{l} of the weight layer before
    ranks: tuple[int, ...] | None = None  # the per-example input ranks it takes; None: any
    min_batch = 1  # a layer of batch statistics needs two examples

    def min_batch_for(self, shape) -> int:
        """The fewest examples a batch of inputs of this per-example shape needs."""
        return self.min_batch

    def init(self, rng, dtype):
        return {}

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        self.check_rank(shape)
        return tuple(shape)

    @classmethod
    def takes(cls, shape) -> bool:
        """Whether one example of this shape has a rank the layer takes."""
        return cls.ranks is None or len(shape) in cls.ranks

    def check_rank(self, shape) -> None:
        if not self.takes(shape):
            wanted = " or ".join({1: "(D,)", 3: "(C, H, W)"}.get(r, f"rank {r}") for r in self.ranks)
            raise ValueError(f"{self!r} takes one example of shape {wanted}, got input shape {shape_text(shape)}")

    def refuse(self, shape, expected: str) -> None:
        raise ValueError(f"{self!r} expects an input of shape {expected} per example, got {shape_text(shape)}")

    def __repr__(self):
        return f"reference.{type(self).__name__}()"

    def explain(self, a: str, b: str, p: dict) -> Text:
        """Where a layer writes none: say so, rather than print a formula that may not be its own."""
        return Text((f"{b} = {self.kind}({a})",), (f"g_{a}: {type(self).__name__} declares no explain text",),
                    (f"∂{b}/∂{a}: no view available for {type(self).__name__}",))

    @classmethod
    def sample(cls, pick, shape=None):
        """(a layer of this kind, its per-example input shape) to test; `shape` given: a layer that takes it."""
        return cls(), shape if shape is not None else (pick("D", SIZES),)
