"""Networks from layers: `sequential` from any list of them, `mlp` and the named networks over it.

    net = sequential([Dense(4, 10), ReLU(), Dense(10, 3)], input_shape=(4,), output="softmax", loss="cross_entropy")
    net = mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.05)   # the same network
    net = sigmoid_mse(3, 4, 1)                       # D=3 inputs, H=4 hidden, K=1 output

Params are keyed as CS231n keys them: the weight layers (Dense, Conv2D) are numbered 1, 2, ... in
order and have W{l}, b{l}; a normalization layer takes the number of the weight layer before it,
gamma{l}, beta{l} (0 before any weight layer).
"""

from __future__ import annotations

from . import validate
from .base import shape_text
from .layers import ACTIVATIONS, LAYOUTS, Dense
from .losses import L2, LOSSES, REDUCTIONS
from .network import Network

# (output, loss) -> (the output activation's kind, or None where the loss takes the logits, the loss's kind)
OUTPUTS = {
    **{(kind, "mse"): (kind, "mse") for kind in ACTIVATIONS},
    ("softmax", "cross_entropy"): (None, "softmax_cross_entropy"),
    ("sigmoid", "binary_cross_entropy"): (None, "sigmoid_binary_cross_entropy"),
    ("identity", "svm"): (None, "svm"),
}
LOSS_NAMES = tuple(dict.fromkeys(loss for _, loss in OUTPUTS))
OUTPUT_NAMES = tuple(dict.fromkeys(output for output, _ in OUTPUTS))


def _output(output, loss):
    """The output activation's kind (or None) and the loss's kind for output= and loss=, or a ValueError."""
    loss = validate.choice("loss", loss, LOSS_NAMES)
    output = validate.choice("output", output, OUTPUT_NAMES)
    if (output, loss) not in OUTPUTS:
        fits = [o for o, l_ in OUTPUTS if l_ == loss]
        raise ValueError(f"output={output!r} is not supported with loss={loss!r}; loss={loss!r} takes output "
                         f"{' or '.join(map(repr, fits))}")
    return OUTPUTS[output, loss]


def _keys(layers):
    """{local name: params key} for each layer: W{l}, b{l} for weight layers, gamma{l}, beta{l} after them."""
    number, taken, out = 0, set(), []
    for i, layer in enumerate(layers):
        if layer.numbered == "weight":
            number += 1
        keys = {}
        if layer.numbered:
            keys = {local: f"{local}{number}" for local in layer.param_shapes}
            clash = taken & set(keys.values())
            if clash:
                raise ValueError(f"layer {i} ({layer!r}) would take params {', '.join(sorted(clash))} of an earlier "
                                 f"layer: put at most one normalization layer after each weight layer")
            taken |= set(keys.values())
        out.append(keys)
    return out


def _shapes(layers, input_shape):
    """Each layer's output shape for one example, or a ValueError naming the layer and both shapes."""
    shapes, shape = [], tuple(input_shape)
    for i, layer in enumerate(layers):
        try:
            shape = tuple(layer.output_shape(shape))
        except ValueError as err:
            raise ValueError(f"layer {i}: {err}") from None
        shapes.append(shape)
    return shapes


def _input_shape(value):
    if isinstance(value, (int,)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"input_shape must be one example's shape, a tuple such as (3, 8, 8) or (10,); got {value!r}")
    return tuple(validate.size(f"input_shape[{i}]", n) for i, n in enumerate(value))


def sequential(layers, input_shape, output: str = "softmax", loss: str = "cross_entropy", l2: float = 0.0,
               reduction: str = "mean", *, name="sequential", call=None, config=None, sizes=None) -> Network:
    """A network of the given layers in order, then `output` and `loss` as for mlp, l2=λ adding λ Σ_l ‖W_l‖²_F.

    input_shape is one example's shape: x is (N, *input_shape), or one example of shape input_shape.
    The last layer must give K scores per example, shape (K,). Params W{l}, b{l}, gamma{l}, beta{l}.
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a list of layer objects, such as [reference.Dense(4, 3)]; got {layers!r}")
    layers = list(layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, type) or not all(hasattr(layer, a) for a in ("forward", "backward", "output_shape")):
            what = "a layer class, not a layer: call it" if isinstance(layer, type) else \
                "not a layer (a loss is given as loss=, a penalty as l2=)" if hasattr(layer, "forward") else "not a layer"
            raise TypeError(f"layers[{i}] must be a layer object such as reference.ReLU(); {layer!r} is {what}")
    input_shape = _input_shape(input_shape)
    activation, loss_kind = _output(output, loss)
    if activation is not None:
        layers.append(ACTIVATIONS[activation]())
    shapes = _shapes(layers, input_shape)
    last = shapes[-1] if shapes else input_shape
    loss_cls = LOSSES[loss_kind]
    if len(last) != 1 or last[0] < loss_cls.min_outputs:
        fix = (f"end with a reference.Dense of {loss_cls.min_outputs} outputs or more" if len(last) == 1 else
               "end with reference.Flatten() and a reference.Dense")
        raise ValueError(f"the loss takes K scores per example, shape (K,) with K ≥ {loss_cls.min_outputs} for "
                         f"loss={loss!r}; the last layer gives {shape_text(last)}: {fix}")
    reduction = validate.choice("reduction", reduction, REDUCTIONS)
    strength = validate.nonnegative("l2", l2)
    keys = _keys(layers)
    weights = [key for layer, k in zip(layers, keys, strict=True) if layer.numbered == "weight" for key in k.values()
               if key.startswith("W")]
    penalties = [(L2(strength), {key: key for key in weights})] if strength and weights else []
    layouts = {layer.layout for layer in layers if isinstance(layer, Dense)}
    given = tuple(layers[:len(layers) - (activation is not None)])
    if config is None:  # reference.sequential(**net.config) rebuilds it
        config = dict(layers=given, input_shape=input_shape, output=output, loss=loss, l2=strength, reduction=reduction)
    if call is None:
        extra = f", l2={strength!r}" if strength else ""
        call = (f"reference.sequential([{', '.join(map(repr, given))}], "
                f"input_shape={input_shape}, output={output!r}, loss={loss!r}{extra}, reduction={reduction!r})")
    return Network(name, list(zip(layers, keys, strict=True)), loss_cls(reduction), penalties, input_shape=input_shape,
                   shapes=shapes, call=call, config=config, sizes=sizes,
                   layout=layouts.pop() if len(layouts) == 1 else "row")


def _hidden_kinds(hidden, count: int) -> tuple[str, ...]:
    """hidden= as one kind per hidden layer: a single kind for all of them, or a sequence of `count` kinds."""
    kinds = (hidden,) * count if isinstance(hidden, str) else hidden
    if isinstance(kinds, (str, bytes)) or not hasattr(kinds, "__len__"):
        raise TypeError(f"hidden must be an activation kind or a sequence of them, got {type(hidden).__name__}")
    kinds = tuple(kinds)
    if len(kinds) != count:
        raise ValueError(f"hidden has {len(kinds)} kinds, expected one per hidden layer: {count}")
    return tuple(validate.choice("hidden", kind, tuple(ACTIVATIONS)) for kind in kinds)


def mlp(*sizes: int, hidden="sigmoid", output: str = "sigmoid", loss: str = "mse", l2: float = 0.0,
        layout: str = "row", reduction: str = "mean") -> Network:
    """A fully connected network of any depth: x -> [Dense -> hidden]* -> Dense -> output -> loss.

    sizes: D, H1, ..., K (at least two). hidden: an activation kind for every hidden layer, or one
    kind per hidden layer. output and loss: any activation with "mse"; "softmax" with
    "cross_entropy", "sigmoid" with "binary_cross_entropy", each fused with its loss on the
    logits, and "identity" with "svm" (the multiclass hinge loss). l2=λ adds λ Σ_l ‖W_l‖²_F to
    the loss. Params W1, b1, ..., WL, bL. The same as sequential over Dense and activation layers.
    """
    return _mlp("mlp", sizes, hidden, output, loss, l2, layout, reduction)


def _mlp(name, sizes, hidden, output, loss, l2, layout, reduction, call=None) -> Network:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        raise TypeError(f"pass the sizes as separate arguments, mlp({', '.join(map(str, sizes[0]))}, ...), "
                        f"or unpack them: mlp(*sizes, ...); got one {type(sizes[0]).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must give at least the inputs D and the outputs K, got {len(sizes)} size(s)")
    depth = len(sizes) - 1
    _, loss_kind = _output(output, loss)
    loss_cls = LOSSES[loss_kind]
    names = ["D (inputs)", *(f"H{i} (hidden units)" if depth > 2 else "H (hidden units)" for i in range(1, depth)),
             "K (outputs)" if loss_cls.min_outputs == 1 else f"K (classes, loss={loss!r} needs at least {loss_cls.min_outputs})"]
    sizes = tuple(validate.size(n, s, minimum=loss_cls.min_outputs if i == depth else 1)
                  for i, (n, s) in enumerate(zip(names, sizes, strict=True)))
    kinds = _hidden_kinds(hidden, depth - 1)
    layout = validate.choice("layout", layout, LAYOUTS)
    reduction = validate.choice("reduction", reduction, REDUCTIONS)
    strength = validate.nonnegative("l2", l2)
    layers = []
    for i in range(depth):
        layers.append(Dense(sizes[i], sizes[i + 1], layout))
        if i < depth - 1:
            layers.append(ACTIVATIONS[kinds[i]]())
    if call is None:
        args = ", ".join(map(str, sizes))
        hidden_arg = f"hidden={kinds[0]!r}, " if len(set(kinds)) == 1 else f"hidden={kinds!r}, " if kinds else ""
        l2_arg = f"l2={strength!r}, " if strength else ""
        call = (f"reference.mlp({args}, {hidden_arg}output={output!r}, loss={loss!r}, {l2_arg}"
                f"layout={layout!r}, reduction={reduction!r})")
    config = dict(hidden=kinds, output=output, loss=loss, l2=strength, layout=layout, reduction=reduction)
    return sequential(layers, (sizes[0],), output, loss, strength, reduction, name=name, call=call, config=config,
                      sizes=sizes)


def _shorthand(name, d, h, k, output, loss, kw):
    """The named one-hidden-layer sigmoid networks: mlp(d, h, k, hidden="sigmoid", ...) under their own name."""
    unknown = set(kw) - {"layout", "reduction", "l2"}
    if unknown:
        raise TypeError(f"{name}() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
    options = {"layout": "row", "reduction": "mean", **kw}
    extra = "".join(f", {key}={value!r}" for key, value in options.items() if key != "l2" or value)
    call = f"reference.{name}({d}, {h}, {k}{extra})"
    return _mlp(name, (d, h, k), "sigmoid", output, loss, options.pop("l2", 0.0), call=call, **options)


def sigmoid_mse(d: int, h: int, k: int, **kw) -> Network:
    """x -> Dense -> σ -> Dense -> σ -> squared error ½ Σ_k (ŷ_k − y_k)² per example.
    Keywords as for mlp: layout, reduction, l2."""
    return _shorthand("sigmoid_mse", d, h, k, "sigmoid", "mse", kw)


def sigmoid_softmax_ce(d: int, h: int, k: int, **kw) -> Network:
    """x -> Dense -> σ -> Dense -> softmax -> cross-entropy −Σ_k y_k log ŷ_k per example.
    Keywords as for mlp: layout, reduction, l2."""
    return _shorthand("sigmoid_softmax_ce", d, h, k, "softmax", "cross_entropy", kw)


NETWORKS = {"sigmoid_mse": sigmoid_mse, "sigmoid_softmax_ce": sigmoid_softmax_ce}
