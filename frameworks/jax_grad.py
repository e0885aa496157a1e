"""Checker: jax.value_and_grad on the network built from jax.numpy and jax.nn ops, in true float64.

JAX compiles once per input shape and dtype, about 0.2 s for a small network: far more than the
0.1 ms a compiled call then costs. So compilations are shared:
- shape buckets: every axis is padded with zeros up to its bucket (16, then powers of two), and the
  loss masks out the padded examples and outputs. Padding is exact for the kinds in PADDED: a zero
  row of W, a zero input or a zero bias adds exact zeros to every sum, and padded units reach the
  loss only through zero weights. A network with any other kind is compiled at its own shapes; a single
  step of an image or normalization kind (the layer tests) is padded too, see _PAD_AXES.
- numeric options (an L2 strength) are arguments of the compiled function, not part of its key, and so
  are an activation's kind (chosen by jax.lax.switch) and a loss's reduction, made numbers for it.
So a compilation serves every drawn size, strength, activation and reduction of one network structure.
"""

from __future__ import annotations

import functools
import os
from typing import NamedTuple

# The networks checked here are tiny, so XLA's compile-time work costs far more than it saves:
# backend optimization level 0 cut a compilation from 257 ms to 143 ms on average (depths 1 to 4),
# and the classic elemental emitters instead of the fusion emitters halved that again (191 ms to
# 99 ms, measured side by side), with the same results to 1e-12 and no measurable change in the
# 0.1 ms a call takes. Code generation in one piece instead of split across threads took a further
# 15 % off a network's compilation (306-332 ms to 253-281 ms, trace and lowering included, three runs
# each, alternated) and 25 % off a convolution's (43 ms to 31-34 ms of XLA's own time): the modules are
# too small to split. Set before JAX starts its backend; an option set already stays as it is.
for _option in ("--xla_backend_optimization_level=0", "--xla_cpu_use_fusion_emitters=false",
                "--xla_cpu_parallel_codegen_split_count=1"):
    if _option.split("=")[0] not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_option}".strip()

import jax  # noqa: E402  (after XLA_FLAGS)

jax.config.update("jax_enable_x64", True)  # otherwise float64 inputs are silently computed in float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from .walk import evaluate, network_loss  # noqa: E402


def _reduce(per_example, reduction, rows=None):
    """The sum over the batch, over N for the mean. `reduction` is "mean" or "sum", or inside a compiled
    network a traced 1.0 (mean) or 0.0 (sum), so that both reductions share one compilation."""
    count = jnp.sum(rows) if rows is not None else per_example.size  # padded examples do not count
    total = jnp.sum(jnp.where(rows, per_example, 0)) if rows is not None else jnp.sum(per_example)
    if isinstance(reduction, str):
        return total / count if reduction == "mean" else total
    return total / jnp.where(reduction > 0.5, count, 1)


def _only(cols, values):
    return values if cols is None else jnp.where(cols, values, 0)


def mse(yhat, y, reduction, rows=None, cols=None):
    return _reduce(0.5 * jnp.sum(_only(cols, jnp.square(yhat - y)), axis=-1), reduction, rows)


def softmax_cross_entropy(z, y, reduction, rows=None, cols=None):
    if jnp.issubdtype(y.dtype, jnp.integer):
        y = jax.nn.one_hot(y, z.shape[-1], dtype=z.dtype)
    if cols is not None:  # a padded class has probability exactly 0
        z = jnp.where(cols, z, -jnp.inf)
    return _reduce(-jnp.sum(_only(cols, y * jax.nn.log_softmax(z, axis=-1)), axis=-1), reduction, rows)


def sigmoid_binary_cross_entropy(z, y, reduction, rows=None, cols=None):
    per_output = y * jax.nn.log_sigmoid(z) + (1 - y) * jax.nn.log_sigmoid(-z)
    return _reduce(-jnp.sum(_only(cols, per_output), axis=-1), reduction, rows)


def svm(z, y, reduction, rows=None, cols=None):
    if jnp.issubdtype(y.dtype, jnp.integer):
        y = jax.nn.one_hot(y, z.shape[-1], dtype=z.dtype)
    margins = jnp.maximum(0, z - jnp.sum(y * z, axis=-1, keepdims=True) + 1) * (1 - y)
    return _reduce(jnp.sum(_only(cols, margins), axis=-1), reduction, rows)


def conv2d(x, W, b, stride, padding):
    # Padded with jnp.pad, not by the convolution's own padding: with padding=[(1, 1), (1, 1)], stride 2 and a
    # (2, 3) kernel on a (4, 3) image, XLA's CPU compiler aborts the process on the gradient (jax 0.10.2, at any
    # optimization level); with the zeros added first and "VALID", the same convolution compiles.
    xp = jnp.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out = jax.lax.conv_general_dilated(xp, W, window_strides=stride, padding="VALID",
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return out + b[None, :, None, None]


def _pool(x, kernel, stride, start, op):
    return jax.lax.reduce_window(x, np.array(start, x.dtype), op, (1, 1, *kernel), (1, 1, *stride), "VALID")


def _normalize(x, gamma, beta, eps, axes, mask=None):
    """`mask` (broadcast against x): the elements the statistics are taken over, where x is padded."""
    shape = (1, -1, *[1] * (x.ndim - 2)) if axes[0] == 0 else (1, -1)
    if mask is None:
        mean = jnp.mean(x, axis=axes, keepdims=True)
        var = jnp.var(x, axis=axes, keepdims=True)  # biased, as in training mode
    else:
        count = jnp.sum(mask, axis=axes, keepdims=True)
        mean = jnp.sum(jnp.where(mask, x, 0), axis=axes, keepdims=True) / count
        var = jnp.sum(jnp.where(mask, jnp.square(x - mean), 0), axis=axes, keepdims=True) / count
    return (x - mean) / jnp.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


_BATCH_AXES = {2: (0,), 4: (0, 2, 3)}  # batch norm's statistics: per feature, or per channel over N, H and W


def dropout(x, keep, seed, draws=None):
    """The mask every checker draws: NumPy's generator from the seed, at the batch's shape (reference.Dropout);
    `draws`: those uniform draws given (padded), where x is padded."""
    draws = jnp.asarray(np.random.default_rng(seed).random(x.shape)) if draws is None else draws
    return x * (draws < keep).astype(x.dtype) / keep


OPS = {
    "dense": lambda x, W, b, layout: (jnp.dot(x, W) if layout == "row" else jnp.dot(x, W.T)) + b,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "identity": lambda z: z,
    "softplus": jax.nn.softplus,
    "conv2d": conv2d,
    "max_pool2d": lambda x, kernel, stride: _pool(x, kernel, stride, -jnp.inf, jax.lax.max),
    "avg_pool2d": lambda x, kernel, stride: _pool(x, kernel, stride, 0.0, jax.lax.add) / (kernel[0] * kernel[1]),
    "flatten": lambda x: x.reshape(x.shape[0], -1),
    "batch_norm": lambda x, gamma, beta, eps, mask=None: _normalize(x, gamma, beta, eps, _BATCH_AXES[x.ndim], mask),
    "layer_norm": lambda x, gamma, beta, eps, mask=None: _normalize(x, gamma, beta, eps, (-1,), mask),
    "dropout": dropout,
    "mse": mse,
    "softmax_cross_entropy": softmax_cross_entropy,
    "sigmoid_binary_cross_entropy": sigmoid_binary_cross_entropy,
    "svm": svm,
    "l2": lambda strength, **weights: strength * sum(jnp.sum(jnp.square(W)) for W in weights.values()),
}

# Kinds that zero padding leaves exact, with the width of their output: the layer's, from its params.
_SAME_WIDTH = ("sigmoid", "tanh", "relu", "identity", "softplus")
PADDED = {"dense", *_SAME_WIDTH, "mse", "softmax_cross_entropy", "sigmoid_binary_cross_entropy", "svm", "l2"}


def _elementwise(z, which):
    """The activation _SAME_WIDTH[which], chosen inside the compiled function: one compilation serves a network
    structure whatever its activations."""
    return jax.lax.switch(jnp.asarray(which).astype(jnp.int32), [OPS[kind] for kind in _SAME_WIDTH], z)


_NETWORK_OPS = {**OPS, "_elementwise": _elementwise}


def _generic(step, switch=True):
    """A network step with what needs no compilation of its own made a number: an activation's kind (an index
    into _SAME_WIDTH, where `switch`) and a loss's reduction (1.0 mean, 0.0 sum)."""
    if switch and step.kind in _SAME_WIDTH and not step.params:
        return step._replace(kind="_elementwise", options=(("which", float(_SAME_WIDTH.index(step.kind))),),
                             formula=None)
    return step._replace(options=tuple((k, float(v == "mean") if k == "reduction" else v) for k, v in step.options))


def _width(kind, width, params):
    return width if kind in _SAME_WIDTH else params["b"].shape[-1]


def bucket(n: int) -> int:
    """The padded length of an axis of length n: 16, or the next power of two above it."""
    return 16 if n <= 16 else 1 << (n - 1).bit_length()


def _in_zeros(a, shape):
    """a written into the leading corner of zeros of `shape`: np.pad's result, at a tenth of its cost (np.pad was a
    third of a warm call of the CS224n network)."""
    a = np.asarray(a)
    out = np.zeros(shape, a.dtype)
    out[tuple(slice(0, n) for n in a.shape)] = a
    return out


def _pad(a):
    a = np.asarray(a)
    return _in_zeros(a, tuple(bucket(n) for n in a.shape)) if a.ndim else a


def _cut(a, shape):  # in NumPy: slicing a JAX array would compile a slice for every shape
    return np.asarray(a)[tuple(slice(0, n) for n in shape)]


def _mask(n):
    return np.arange(bucket(n)) < n


# A compilation depends on a step's kind and its other options; real numbers (an L2 strength, a
# dropout's keep, an eps) are arguments. Integers (a seed) and tuples (a stride) fix shapes: static.
def _is_number(value) -> bool:
    return isinstance(value, float)


def _static(step):
    return step._replace(options=tuple((k, None if _is_number(v) else v) for k, v in step.options))


def _numbers(steps) -> tuple[float, ...]:
    return tuple(float(v) for step in steps for _, v in step.options if _is_number(v))


def _restore(steps, values):
    """The steps with the numbers of _numbers put back (as traced values, inside a compiled function)."""
    values = iter(values)
    return tuple(step._replace(options=tuple((k, next(values) if v is None else v) for k, v in step.options))
                 for step in steps)


def _split(spec):
    steps = (*spec.layers, spec.loss, *spec.penalties)
    # A network that is padded shares one compilation across its activations' kinds; any other is compiled at
    # its own shapes, where the switch would only add every activation's branches to each compilation: a
    # convnet's compilation took 0.55 s with it, 0.25 s without.
    switch = all(step.kind in PADDED for step in steps)
    steps = tuple(_generic(s, switch) for s in steps)
    return tuple(_static(s) for s in steps), _numbers(steps)


class _Spec(NamedTuple):  # what network_loss reads of a description
    layers: tuple
    loss: object
    penalties: tuple


def _join(structure, values, count):
    steps = _restore(structure, values)
    return _Spec(steps[:count], steps[count], steps[count + 1:])


@functools.lru_cache(maxsize=1024)
def _network_value_and_grad(structure, count, padded):
    def loss(params, x, y, values, rows, cols):
        masks = dict(rows=rows, cols=cols) if padded else {}
        return network_loss(_join(structure, values, count), _NETWORK_OPS, params, x, y, **masks)

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def _paddable(steps) -> bool:
    return all(step.kind in PADDED or step.kind == "_elementwise" for step in steps)


def _as_one_hot(spec, params, x, y):
    """Integer labels as one-hot rows, in NumPy, where the network ends in a dense layer (whose width is the
    number of classes): both forms of target then share a compilation (the loss ops take either)."""
    last = spec.layers[-1] if spec.layers else None
    labels = spec.loss.kind in ("softmax_cross_entropy", "svm") and y.shape == x.shape[:x.ndim - len(spec.input_shape)]
    if y.dtype.kind not in "iu" or not labels or last is None or last.kind != "dense":
        return y
    classes = np.shape(params[dict(last.params)["b"]])[-1]
    return np.eye(classes, dtype=x.dtype)[y]


def _row_layout(spec, params):
    """Dense layers of the column layout (z = x Wᵀ + b) as row-layout ones on Wᵀ, transposed in NumPy (their
    gradients are transposed back): both layouts then share a compilation. Returns (spec, params, the keys)."""
    keys = {dict(s.params)["W"] for s in spec.layers if s.kind == "dense" and dict(s.options).get("layout") == "column"}
    shared = {key for s in spec.layers if dict(s.options).get("layout") != "column" for _, key in s.params}
    if not keys or keys & shared:  # a W that a row layer uses too (tied weights) stays as it is
        return spec, params, set()
    layers = tuple(s._replace(options=tuple((k, "row" if k == "layout" else v) for k, v in s.options))
                   if s.kind == "dense" else s for s in spec.layers)
    return spec._replace(layers=layers), {k: np.asarray(v).T if k in keys else v for k, v in params.items()}, keys


def _with_penalty(spec):
    """A dense network without a penalty with an L2 penalty of strength 0 on every W (it adds exact zeros): with and
    without L2, a structure then shares a compilation."""
    weights = tuple((key, key) for step in spec.layers for local, key in step.params if local == "W")
    if spec.penalties or not weights or not all(step.kind in PADDED for step in (*spec.layers, spec.loss)):
        return spec
    return spec._replace(penalties=(spec.loss._replace(kind="l2", params=weights, options=(("strength", 0.0),), formula=None),))


def loss_and_grads(spec, params, x, y):
    """The loss and its gradients with respect to params and x, as NumPy arrays in the inputs' dtype."""
    spec, params, transposed = _row_layout(_with_penalty(spec), params)
    loss, grads = _loss_and_grads(spec, params, x, y)
    return loss, {k: np.ascontiguousarray(g.T) if k in transposed else g for k, g in grads.items()}


def _loss_and_grads(spec, params, x, y):
    structure, values = _split(spec)
    x, y = np.asarray(x), np.asarray(y)
    y = _as_one_hot(spec, params, x, y)
    single = x.ndim == len(spec.input_shape)
    if not _paddable(structure):
        f = _network_value_and_grad(structure, len(spec.layers), False)
        loss, (grads, dx) = f(params, x[None] if single else x, y[None] if single else y, values, None, None)
        dx = np.asarray(dx)
        return float(loss), {**{k: np.asarray(grads[k]) for k in params}, "x": dx[0] if single else dx}
    xb, yb = (x[None], y[None]) if single else (x, y)
    width = xb.shape[-1]
    for step in spec.layers:
        width = _width(step.kind, width, {local: params[key] for local, key in step.params})
    f = _network_value_and_grad(structure, len(spec.layers), True)
    loss, (grads, dx) = f({k: _pad(v) for k, v in params.items()}, _pad(xb), _pad(yb), values,
                          _mask(len(xb)), _mask(width))
    dx = _cut(dx, xb.shape)
    return float(loss), {**{k: _cut(grads[k], np.shape(params[k])) for k in params}, "x": dx[0] if single else dx}


@functools.lru_cache(maxsize=1024)
def _step_function(structure, padded, mode):
    """One step's value, vector-Jacobian product or full Jacobian, compiled once per structure (and bucket)."""
    def value(inputs, y, values, masks):
        (step,) = _restore((structure,), values)
        return evaluate(step, OPS, inputs, y, **masks)

    if mode == "value":
        return jax.jit(value)
    if mode == "jacobian":
        return jax.jit(jax.jacrev(value))

    def value_and_pullback(inputs, dy, y, values, masks):  # one compilation gives the value and the vjp
        out, pull = jax.vjp(lambda i: value(i, y, values, masks), inputs)
        return out, pull(dy)[0]

    return jax.jit(value_and_pullback)


# Kinds padded for a single step's value and vector-Jacobian product (the layer tests draw a new shape for almost
# every example, and a convolution's compilation costs 60 ms against 2 ms a call): the axes of each input padded with
# zeros at the end, up to 8 (then as `bucket`). Exact: a padded channel or filter multiplies zeros by zeros, a padded
# example is zeros with a zero upstream gradient, and zeros added below and right of an image only add windows below
# and right of the real ones, which are cut away and get a zero upstream gradient; every real window sees what it saw
# (a convolution's own padding is zeros too). Flattening moves the real elements among the padded ones: they are
# picked out of its output by their places (and the upstream gradient put in them), a permutation. A normalization
# takes its statistics over the real elements alone (_STATISTICS: a mask over those axes); its padded features are
# zeros, normalized to zeros. A dropout is given its mask's uniform draws, made at the real shape from its seed and
# padded with ones (dropped), so that its seed is not part of the compilation. A convolution's kernel is padded too,
# with as many more zeros in the image (_padded_inputs). Measured on the layer tests (ci profile), compilations per
# dtype: a convolution's 77 to 47, then 25 with its kernel padded (its stride and padding stay static), each pool's
# 99 to 43, a flatten's 87 to 1, a normalization's about 50 to 2, a dropout's 63 to 1.
_PAD_AXES = {
    "conv2d": {"x": (0, 1, 2, 3), "W": (0, 1), "b": (0,)},
    "max_pool2d": {"x": (0, 1, 2, 3)},
    "avg_pool2d": {"x": (0, 1, 2, 3)},
    "flatten": {"x": (0, 1, 2, 3)},
    "batch_norm": {"x": (0, 1, 2, 3), "gamma": (0,), "beta": (0,)},
    "layer_norm": {"x": (0, 1), "gamma": (0,), "beta": (0,)},
    "dropout": {"x": (0, 1, 2, 3)},
}
_STATISTICS = {"batch_norm": lambda ndim: _BATCH_AXES[ndim], "layer_norm": lambda ndim: (ndim - 1,)}


def _image_bucket(n: int) -> int:
    return 8 if n <= 8 else bucket(n)


def _pad_axes(a, axes):
    return _in_zeros(a, tuple(_image_bucket(n) if i in axes else n for i, n in enumerate(np.shape(a))))


def _kernel_bucket(k: int) -> int:
    return 4 if k <= 4 else k  # 4: the largest kernel the layer tests draw (reference.conv._fitting_kernel)


def _padded_inputs(kind, inputs):
    """The inputs padded with zeros at the end of the axes of _PAD_AXES. A convolution's kernel is padded first, to
    4 × 4 (a larger one stays as it is), and the image by as many rows and columns, so that every real window still
    fits: a zero weight adds exact zeros (x is finite), and the kernel's size is then no part of the compilation.
    Compilations per dtype on the conv2d layer test (ci): 50 to 25."""
    inputs = dict(inputs)
    if kind == "conv2d":
        grow = [0, 0, *(_kernel_bucket(k) - k for k in inputs["W"].shape[2:])]
        inputs["x"], inputs["W"] = (_in_zeros(a, tuple(n + g for n, g in zip(np.shape(a), grow, strict=True)))
                                    for a in (inputs["x"], inputs["W"]))
    return {k: _pad_axes(v, _PAD_AXES[kind].get(k, ())) for k, v in inputs.items()}


def _statistics_mask(kind, real, padded):
    """True over the real elements along the axes a normalization's statistics are taken over (shape 1 elsewhere)."""
    axes = _STATISTICS[kind](len(real))
    mask = np.zeros([p if i in axes else 1 for i, p in enumerate(padded)], dtype=bool)
    mask[tuple(slice(0, n) if i in axes else slice(None) for i, n in enumerate(real))] = True
    return mask


@functools.lru_cache(maxsize=4096)
def _output_shape(structure, values, shapes, dtype) -> tuple[int, ...]:
    """The step's output shape at input shapes ((name, shape) pairs), by tracing alone (no compilation)."""
    f = _step_function(structure, True, "value")
    inputs = {k: jax.ShapeDtypeStruct(shape, dtype) for k, shape in shapes}
    return tuple(jax.eval_shape(f, inputs, None, values, {}).shape)


def _extras(step, structure, real, padded):
    """(what the padded step's op is given besides its inputs, the structure it is compiled for): a normalization's
    mask of the real elements; a dropout's uniform draws, made from its seed at the real shape and padded with ones
    (dropped), with the seed then no part of the compilation."""
    if step.kind in _STATISTICS:
        return {"mask": _statistics_mask(step.kind, real, padded)}, structure
    if step.kind == "dropout":
        draws = np.random.default_rng(dict(step.options)["seed"]).random(real)
        widths = [(0, p - n) for n, p in zip(real, padded, strict=True)]
        unseeded = structure._replace(options=tuple((k, 0 if k == "seed" else v) for k, v in structure.options))
        return {"draws": np.pad(draws, widths, constant_values=1.0)}, unseeded
    return {}, structure


def _places(kind, real_x, padded_x, real_out):
    """Where the real output's elements are in the padded output: its leading corner, or, for a flatten, which moves
    them among the padded ones, the batch's rows at their flat places."""
    if kind == "flatten":
        return slice(0, real_x[0]), np.ravel_multi_index(np.indices(real_x[1:]).reshape(len(real_x) - 1, -1), padded_x[1:])
    return tuple(slice(0, n) for n in real_out)


def _padded_call(step, structure, values, inputs, mode, dy):
    """(result, the real output shape) of a step computed on padded inputs (_PAD_AXES), its output already cut."""
    padded = _padded_inputs(step.kind, inputs)
    dtype, x = inputs["x"].dtype, inputs["x"]
    extras, structure = _extras(step, structure, x.shape, padded["x"].shape)
    f = _step_function(structure, True, mode)
    shapes = tuple((k, v.shape) for k, v in (padded if mode == "vjp" else inputs).items())
    real = tuple(np.shape(dy)) if mode == "vjp" else _output_shape(structure, values, shapes, dtype)
    where = _places(step.kind, x.shape, padded["x"].shape, real)
    if mode == "vjp":
        dyp = np.zeros(_output_shape(structure, values, shapes, dtype), dtype)
        dyp[where] = dy
        out, grads = f(padded, dyp, None, values, extras)
        return (np.asarray(out)[where], grads), real
    return np.asarray(f(padded, None, values, extras))[where], real


def _step_call(step, inputs, y, mode, dy=None):
    """(result, the real output shape, whether padded) for one step, padded where its kind allows."""
    structure, values = _static(step), _numbers((step,))
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    y = None if y is None else np.asarray(y)
    if step.kind in _PAD_AXES and mode != "jacobian" and inputs["x"].ndim >= 2:
        if mode == "vjp":
            dy = np.asarray(dy, dtype=inputs["x"].dtype)
        out, shape = _padded_call(step, structure, values, inputs, mode, dy)
        return out, shape, True
    padded = step.kind in PADDED and all(1 <= v.ndim <= 2 for v in inputs.values())  # vectors and batches of them
    masks = {}
    if "x" in inputs and y is not None:  # a loss: a scalar, masked over its padded examples and outputs
        shape = ()
        x = inputs["x"]
        padded = padded and x.ndim == 2
        if padded:
            masks = {"rows": _mask(x.shape[0]), "cols": _mask(x.shape[-1])}
    elif "x" in inputs:
        x = inputs["x"]
        shape = x.shape[:-1] + (_width(step.kind, x.shape[-1], inputs),) if padded else None
    else:  # a penalty
        shape = ()
    prepare = _pad if padded else np.asarray
    args = ({k: prepare(v) for k, v in inputs.items()},)
    if mode == "vjp":
        args += (prepare(np.asarray(dy, dtype=next(iter(inputs.values())).dtype)),)
    out = _step_function(structure, padded, mode)(*args, None if y is None else prepare(y), values, masks)
    return out, shape, padded


def value(step, inputs, y=None):
    """One step's output at `inputs`, computed by JAX's op for it."""
    out, shape, padded = _step_call(step, inputs, y, "value")
    return _cut(out, shape) if padded else np.asarray(out)


def value_and_vjp(step, inputs, dy, y=None):
    """One step's output at `inputs` and dy pulled back through it, from one compilation."""
    (out, grads), shape, padded = _step_call(step, inputs, y, "vjp", dy=dy)
    pulled = {k: _cut(grads[k], np.shape(v)) if padded else np.asarray(grads[k]) for k, v in inputs.items()}
    return (_cut(out, shape) if padded else np.asarray(out)), pulled


def vjp(step, inputs, dy, y=None):
    """dy pulled back through one step at `inputs` ({"x": ..., params...}, or {params...} for a penalty)."""
    return value_and_vjp(step, inputs, dy, y)[1]


def jacobian(step, inputs, y=None):
    """The step's full Jacobian at one example, by jax.jacrev: for each input key, an array of shape
    output.shape + input.shape (a loss's output is a scalar)."""
    jac, shape, padded = _step_call(step, inputs, y, "jacobian")
    return {k: _cut(jac[k], shape + np.shape(v)) if padded else np.asarray(jac[k]) for k, v in inputs.items()}
