"""Run a network description with one framework's op table; no math lives here.

An op table maps each kind to a function in the framework's own ops:
    ops["dense"](x, W=..., b=..., layout="row") -> z
    ops["tanh"](z)                               -> a
    ops["mse"](yhat, y, reduction="mean")        -> scalar loss
    ops["l2"](strength=λ, W1=..., W2=...)        -> scalar penalty
or is a function from a Step to its op (the oracle's, which also reads elementwise formulas).
"""


def op(ops, step):
    """The function that computes `step` in this op table."""
    if callable(ops):
        return ops(step)
    if step.kind not in ops:
        module = next(iter(ops.values())).__module__ if ops else "?"
        raise KeyError(f"no op for {step.kind!r} in this checker's table ({module}.OPS): add one entry for it there")
    return ops[step.kind]


def network_loss(spec, ops, params, x, y, **loss_extra):
    """The loss of the network described by `spec` (a reference.Spec), computed by `ops`; `loss_extra`
    goes to the loss op alone (the JAX checker's masks of padded rows and columns)."""
    h = x
    for step in spec.layers:
        h = apply(step, ops, h, {local: params[key] for local, key in step.params})
    loss = apply(spec.loss, ops, h, {}, y, **loss_extra)
    for step in spec.penalties:
        loss = loss + penalty(step, ops, {local: params[key] for local, key in step.params})
    return loss


def apply(step, ops, x, params, y=None, **extra):
    """One layer (or, given targets y, one loss) of the description, by the framework's op for its kind; `extra`
    goes to the op too (the JAX checker's masks of padded elements)."""
    if y is None:
        return op(ops, step)(x, **params, **dict(step.options), **extra)
    return op(ops, step)(x, y, **dict(step.options), **extra)


def penalty(step, ops, params):
    """One penalty of the description (a function of params alone), by the framework's op for its kind."""
    return op(ops, step)(**params, **dict(step.options))


def evaluate(step, ops, inputs, y=None, **extra):
    """One step at `inputs`: {"x": ..., params...} for a layer or loss, {params...} for a penalty."""
    if "x" not in inputs:
        return penalty(step, ops, inputs)
    inputs = dict(inputs)
    return apply(step, ops, inputs.pop("x"), inputs, y, **extra)
