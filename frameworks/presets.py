"""The calling conventions of the assignments people do, each adapted to one form: a reference network
(for the checker's description of it), and the student's code called as the assignment calls it,
its result read back as (loss, {key: gradient}) in the reference's keys and shapes.

    cs224n-q2          forward_backward_prop(data, labels, params, dimensions) -> (cost, grad)
    cs231n-two-layer   TwoLayerNet(D, H, C); net.params = {...}; net.loss(X, y, reg=R) -> (loss, grads)
    function           f(params, x, y) -> (loss, grads), for any network reference.mlp builds

Conventions that differ between course years and are each right (the CS224n cost summed or
averaged over the batch; CS231n's reg·ΣW² or ½·reg·ΣW²) are candidates here; frameworks.verify reads
the one the student uses off their own loss.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from dataclasses import dataclass, field

import numpy as np

import reference
from agreement.points import literal
from frameworks.submission import call


class BadResult(Exception):
    """The student's function returned something other than what its assignment asks for."""


@dataclass
class Outcome:
    loss: float
    grads: dict
    notes: list = field(default_factory=list)  # shapes accepted with a note
    changed: list = field(default_factory=list)  # arguments changed in place
    keys: list = field(default_factory=list)  # the keys the code returned its gradients under, as it spelled them


def _array(value, what: str) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64) if not isinstance(value, np.ndarray) else value
    except (TypeError, ValueError):
        raise BadResult(f"{what} is a {type(value).__name__}, not an array of numbers") from None
    if a.dtype.kind not in "fiub":
        raise BadResult(f"{what} is an array of {a.dtype}, not of numbers")
    return a


def _scalar(value, what: str) -> float:
    if value is None:
        raise BadResult(f"{what} is None: a number belongs there (is the loss computed?)")
    a = _array(value, what)
    if a.size != 1:
        raise BadResult(f"{what} has shape {a.shape}; a single number belongs there")
    return float(a.reshape(()))


def read_grads(grads, shapes: dict, keys_known: tuple) -> tuple[dict, list]:
    """The student's grads dict in the reference's shapes: a bias gradient returned as (1, H) where (H,)
    belongs is accepted, with a note; other shapes are left for the comparison to report."""
    if not isinstance(grads, dict):
        raise BadResult(f"the gradients are a {type(grads).__name__}; a dict {{'W1': ..., ...}} belongs there")
    out, notes = {}, []
    unknown = [k for k in grads if k not in keys_known]
    if unknown:
        notes.append(f"ignored: gradients for keys the network does not have: {', '.join(map(str, unknown))}")
    for key in keys_known:
        if key not in grads:
            continue
        a = _array(grads[key], f"grads[{key!r}]")
        expected = shapes.get(key)
        if expected is not None and a.shape != expected and a.shape == (1, *expected):
            notes.append(f"{key} came back with a leading axis of 1 (a row, (1, n) for the network's (n,)); accepted")
            a = a.reshape(expected)
        out[key] = a
    return out, notes


def _pair(result, what: str):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        kind = f"a {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise BadResult(f"{what} returned {kind}; a pair (loss, gradients) belongs there")
    return result


@dataclass
class Preset:
    """How to build the network for given sizes and conventions, and how to call the student's code."""

    name: str
    call: str  # how the student's code is called, for the report
    kind: str  # the network, for the report's first line
    sizes: tuple  # default sizes
    target_form: str  # the form of y the student's code takes
    required: tuple  # the gradients the student's code must return
    candidates: dict = field(default_factory=dict)  # convention: its candidates, each a network option set
    options: dict = field(default_factory=dict)  # fixed network options (the reg of this run, ...)
    build: object = None  # build(sizes, **options) -> reference.Network
    invoke: object = None  # invoke(target, net, params, x, y, timeout, options) -> Outcome
    render: object = None  # render(name, net, (params, x, y), options) -> code lines of the call
    fix: dict = field(default_factory=dict)  # {the student's reduction: what sets it right}, for a mismatch

    @property
    def fewest_outputs(self) -> int:
        """K ≥ 2 where the targets are classes (a softmax over one class is the constant 1), else 1."""
        return 2 if self.target_form in ("one-hot", "labels") else 1

    def size_ranges(self) -> list[tuple[int, int]]:
        """(fewest, most) for each size drawn: 1 to the preset's, the outputs at least fewest_outputs."""
        last = len(self.sizes) - 1
        least = [self.fewest_outputs if i == last else 1 for i in range(len(self.sizes))]
        return [(low, max(s, low)) for low, s in zip(least, self.sizes, strict=True)]

    def network(self, sizes, conventions: dict):
        options = dict(self.options)
        for convention, choice in conventions.items():
            options.update(self.candidates[convention][choice])
        return self.build(tuple(sizes), **options)


# ---- CS224n assignment 1, q2_neural.py -------------------------------------------------------------

def _flat(params):
    return np.concatenate([params[k].ravel() for k in ("W1", "b1", "W2", "b2")])


def _lines(params) -> list[str]:
    return [f"{k} = {literal(v, float64_plain=True)}" for k, v in params.items()]


def _render_cs224n(name, net, point, options):
    params, x, y = point
    return [*_lines(params), f"data = {literal(x, float64_plain=True)}", f"labels = {literal(y, float64_plain=True)}",
            "params = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])",
            f"cost, grad = {name}(data, labels, params, {list(net.sizes)})"]


def _invoke_cs224n(target, net, params, x, y, timeout, options):
    flat = _flat(params)
    arguments = {"data": x.copy(), "labels": y.copy(), "params": flat, "dimensions": list(net.sizes)}
    result, changed = call(target, target.obj, arguments, timeout)
    cost, grad = _pair(result, "forward_backward_prop")
    grad = _array(grad, "grad")
    if grad.size != flat.size:
        raise BadResult(f"grad has {grad.size} elements where params has {flat.size} (W1 | b1 | W2 | b2, flattened)")
    grads, offset = {}, 0
    for key in ("W1", "b1", "W2", "b2"):
        shape = net.param_shapes[key]
        size = int(np.prod(shape))
        grads[key] = grad.reshape(-1)[offset:offset + size].reshape(shape)
        offset += size
    return Outcome(_scalar(cost, "cost"), grads, [], changed, list(grads))


def _cs224n_network(sizes, reduction="mean"):
    return reference.sigmoid_softmax_ce(*sizes, reduction=reduction)


CS224N = Preset(
    name="cs224n-q2",
    call="forward_backward_prop(data, labels, params, dimensions) with params flat W1 | b1 | W2 | b2",
    kind="sigmoid hidden layer, softmax, cross-entropy", sizes=(10, 5, 10), target_form="one-hot",
    required=("W1", "b1", "W2", "b2"),
    candidates={"reduction": {"mean": {"reduction": "mean"}, "sum": {"reduction": "sum"}}},
    build=_cs224n_network, invoke=_invoke_cs224n, render=_render_cs224n)


# ---- CS231n assignment 1, classifiers/neural_net.py -------------------------------------------------

def _invoke_cs231n(target, net, params, x, y, timeout, options):
    d, h, c = net.sizes
    model, _ = call(target, target.obj, {"input_size": d, "hidden_size": h, "output_size": c}, timeout)
    model.params = {k: v.copy() for k, v in params.items()}
    reg = options.get("reg", 0.0)
    loss_method = getattr(model, "loss", None)
    if not callable(loss_method):
        raise BadResult(f"{target.name} has no method loss(X, y, reg)")
    try:
        takes_reg = "reg" in inspect.signature(loss_method).parameters
    except (TypeError, ValueError):
        takes_reg = True
    keywords = {"reg": reg} if takes_reg else {}
    if not takes_reg:
        model.reg = reg  # the assignment 2 style: reg set on the model
    arguments = {"X": x.copy(), "y": y.copy()}
    result, changed = call(target, loss_method, arguments, timeout, **keywords)
    if not all(np.array_equal(model.params[k], params[k]) for k in params if k in getattr(model, "params", {})):
        changed.append("self.params")
    loss, raw = _pair(result, "loss")
    grads, notes = read_grads(raw, net.param_shapes, tuple(net.param_shapes))
    return Outcome(_scalar(loss, "loss"), grads, notes, changed, list(raw))


def _render_cs231n(name, net, point, options):
    params, x, y = point
    return [*_lines(params), f"net = {name}({', '.join(map(str, net.sizes))})",
            "net.params = {" + ", ".join(f"{k!r}: {k}" for k in params) + "}", f"X = {literal(x, float64_plain=True)}",
            f"y = {literal(y, float64_plain=True)}", f"loss, grads = net.loss(X, y, reg={options.get('reg', 0.0)!r})"]


def _cs231n_network(sizes, reg=0.0, factor=1.0):
    return reference.mlp(*sizes, hidden="relu", output="softmax", loss="cross_entropy", l2=factor * reg)


CS231N = Preset(
    name="cs231n-two-layer",
    call="TwoLayerNet(input_size, hidden_size, output_size); .params = {W1, b1, W2, b2}; .loss(X, y, reg=R)",
    kind="ReLU hidden layer, softmax, mean cross-entropy, L2 on W1 and W2", sizes=(4, 10, 3), target_form="labels",
    required=("W1", "b1", "W2", "b2"),
    candidates={"regularization": {"reg·ΣW²": {"factor": 1.0}, "½·reg·ΣW²": {"factor": 0.5}}},
    build=_cs231n_network, invoke=_invoke_cs231n, render=_render_cs231n,
    fix={"sum": "the course averages over the batch: divide your loss and its gradients by N"})


# ---- f(params, x, y), any network reference.mlp builds ----------------------------------------------

def _invoke_function(target, net, params, x, y, timeout, options):
    arguments = {"params": {k: v.copy() for k, v in params.items()}, "x": x.copy(), "y": y.copy()}
    result, changed = call(target, target.obj, arguments, timeout)
    loss, raw = _pair(result, "the function")
    grads, notes = read_grads(raw, {**net.param_shapes, "x": x.shape}, (*net.param_shapes, "x"))
    return Outcome(_scalar(loss, "loss"), grads, notes, changed, list(raw))


def _render_function(name, net, point, options):
    params, x, y = point
    return [*_lines(params), "params = {" + ", ".join(f"{k!r}: {k}" for k in params) + "}",
            f"x = {literal(x, float64_plain=True)}", f"y = {literal(y, float64_plain=True)}",
            f"loss, grads = {name}(params, x, y)"]


def _build(network, sizes, **options):
    return reference.mlp(*sizes, **options) if network == "mlp" else reference.NETWORKS[network](*sizes, **options)


def function_preset(network: str, sizes, **options) -> Preset:
    """f(params, x, y) for `network` (sigmoid_mse, sigmoid_softmax_ce or mlp) with reference.mlp's options."""
    build = functools.partial(_build, network)  # a partial of a module function: it is sent to a child process
    net = build(tuple(sizes), **options)  # raises on bad options, before any student code runs
    forms = {"softmax_cross_entropy": "one-hot", "svm": "labels", "sigmoid_binary_cross_entropy": "0/1 labels"}
    return Preset(
        name="function", call="f(params, x, y) -> (loss, grads), as net.loss_and_grads", kind=repr(net),
        sizes=tuple(net.sizes), target_form=forms.get(net.loss_layer.kind, "values"), required=tuple(net.param_shapes),
        options=options, build=build, invoke=_invoke_function, render=_render_function,
        fix={"sum": "run with --reduction sum", "mean": "run with --reduction mean"})


PRESETS = {"cs224n-q2": CS224N, "cs231n-two-layer": CS231N}


def at(preset: Preset, **options) -> Preset:
    """The preset at other options (the reg of a CS231n run)."""
    return dataclasses.replace(preset, options={**preset.options, **options})
