"""Run a network description with one framework's op table; no math lives here.

An op table maps each layer kind to a function in the framework's own ops:
    ops["dense"](x, W=..., b=..., layout="row") -> z
    ops["mse"](yhat, y, reduction="mean")        -> scalar loss
"""


def network_loss(spec, ops, params, x, y):
    """The loss of the network described by `spec` (a reference.Spec), computed by `ops`."""
    h = x
    for step in spec.layers:
        h = apply(step, ops, h, {local: params[key] for local, key in step.params})
    return apply(spec.loss, ops, h, {}, y)


def apply(step, ops, x, params, y=None):
    """One layer (or, given targets y, one loss) of the description, by the framework's op for its kind."""
    if y is None:
        return ops[step.kind](x, **params, **dict(step.options))
    return ops[step.kind](x, y, **dict(step.options))
