"""The layer check's verdict (frameworks.layer_check): what is wrong and under which configurations, each wrong
quantity on its own too, the known mistakes whose values the student's match, the call to print, and the command
that prints the layer's formulas."""

from __future__ import annotations

import numpy as np

import reference
from agreement.points import assigned, literal
from frameworks.layer_functions import FUNCTIONS
from frameworks.verify import Result
from reference import mistakes


def own_params(config, params, i):
    return {local: params[name] for name, (j, local) in config.params.items() if j == i}


def _variant_values(part, mistake, config, x, params, dout, y):
    """What the known-wrong variant of the configuration's layer (or loss) returns at the point."""
    broken = mistakes.variant(part, mistake)
    if config.classes:  # a loss, of the scores x and the labels y
        value, cache = broken.forward(x, np.eye(config.classes)[y])
        return {"loss": value, "dx": broken.backward(cache, 1.0)[0]}
    h = x if len(config.layers) == 1 else config.layers[0].forward({}, x)[0]  # affine: the flattened x
    own = own_params(config, params, len(config.layers) - 1)
    out, cache = broken.forward(own, h)
    dx, grads = broken.backward(cache, dout)
    return {"output": out, "dx": dx.reshape(np.shape(x)),
            **{gradient_name(name): grads[local] for name, (_, local) in config.params.items()}}


def matching_mistakes(result, loss=None, quantities=None):
    """The known-wrong variants of the configuration's layer (or loss) that give the student's wrong values (of
    `quantities` only, if given)."""
    config, (x, params, dout, y), ours = result["config"], result["point"], result["ours"]
    wrong = result["wrong"] if quantities is None else quantities
    part = loss if config.classes else config.layers[-1]
    found = []
    for mistake, (_, target, _) in mistakes.MISTAKES.items():
        if target is mistakes.Network or not isinstance(part, target):
            continue
        try:
            theirs = _variant_values(part, mistake, config, x, params, dout, y)
        except ValueError:  # its products do not fit these shapes (W where Wᵀ belongs, W not square): not this one
            continue
        if all(q in theirs and np.shape(ours[q]) == np.shape(theirs[q])
               and np.allclose(ours[q], theirs[q], rtol=1e-6, atol=1e-9) for q in wrong):
            found.append(mistake)
    return found


def shared_condition(results, fails=lambda r: not r["ok"]) -> str:
    """What every failing configuration has and some passing one lacks: 'only where padding > 0'. `fails`: whether a
    configuration counts as failing (one quantity wrong there, say)."""
    failing = [r for r in results if fails(r)]
    passing = [r for r in results if not fails(r)]
    if not failing or not passing:
        return ""
    shared = []
    for (yes, no) in failing[0]["config"].features:
        for value, text in ((True, yes), (False, no)):
            if all(r["config"].features.get((yes, no)) == value for r in failing) and \
                    any(r["config"].features.get((yes, no)) != value for r in passing):
                shared.append(text)
    return f"only where {' and '.join(shared)}" if shared else ""


def call_lines(name, config, x, params, dout, y) -> list[str]:
    spec = FUNCTIONS[name]
    lines = [*assigned("x", x, True), *(line for k, v in params.items() for line in assigned(k, v, True))]
    if spec.forward is None:
        return [*lines, f"y = {literal(y, True)}", f"loss, dx = {name}(x, y)"]
    extra = f", {config.extra!r}" if config.extra else ""
    return [*lines, f"out, cache = {spec.forward}(x{''.join(', ' + k for k in params)}{extra})",
            *assigned("dout", dout, True),
            f"{', '.join('d' + r for r in spec.returns)} = {name}(dout, cache)"]


def _size(result):
    x, params, _, _ = result["point"]
    return x.size + sum(v.size for v in params.values())


def verdict(name, described, results, conventions, shortened=lambda first: None) -> Result:
    spec = FUNCTIONS[name]
    quantities = ["loss" if spec.forward is None else "output", *(gradient_name(r) for r in spec.returns if r != "loss")]
    checked = [q for q in quantities if q]
    failing = [r for r in results if not r["ok"]]
    runs = [f"{len(results)} configurations drawn (frameworks.layer_functions), one point each"]
    if not failing:
        return Result("PASS", described, conventions=conventions, checked=checked, runs=runs)
    first = min(failing, key=_size)
    short = shortened(first)
    x, params, dout, y = (short or first)["point"]
    wrong = sorted(set().union(*(r["wrong"] for r in failing)))
    right = [q for q in checked if q in first["ours"] and q not in wrong]
    condition = shared_condition(results)
    loss = spec.loss("mean") if spec.loss else None
    apart = {q: _quantity(results, q, loss) for q in wrong}  # each wrong quantity on its own
    said = [q + (f" ({apart[q][0]})" if apart[q][0] and apart[q][0] != condition else "") for q in wrong]
    explain = explain_command(first["config"])
    where = (f"{len(failing)} of {len(results)} configurations fail" + (f", {condition}" if condition else "") +
             f"; wrong: {', '.join(said)}" + (f"; right: {', '.join(right)}" if right else ""))
    if all(r["named"] for r in failing):
        named = failing[0]["named"]
    else:
        named = [m for m in matching_mistakes(first, loss) if all(m in matching_mistakes(r, loss) for r in failing[:5])]
    diagnoses = [f"{mistakes.MISTAKES[m][0]} ({m}): your values equal that variant's at every failing configuration "
                 f"looked at" for m in named]
    if not named and len(wrong) > 1 and any(apart[q][2] for q in wrong):  # mistakes apart, one in each quantity
        diagnoses = [f"{mistakes.MISTAKES[m][0]} ({m}): your {q} equals that variant's at every configuration where it "
                     f"is wrong that was looked at" for q in wrong for m in apart[q][2]]
        diagnoses += [f"your {q} matches none of the known mistakes" + (f" (it is wrong {apart[q][0]})" if apart[q][0]
                      else "") + f"; compare your formulas with {explain}" for q in wrong if not apart[q][2]]
    elsewhere = [line for q in wrong if q not in (short or first)["wrong"] for line in _shown_elsewhere(apart[q][1], q)]
    return Result("FAIL", described, wrong=(short or first)["messages"], where=where, diagnoses=diagnoses,
                  conventions={**conventions, **first["read"]},  # as read at the configuration shown
                  example=call_lines(name, first["config"], x, params, dout, y), elsewhere=elsewhere,
                  checked=checked, runs=runs, explain=explain, shortened=short is not None)


def _quantity(results, q, loss):
    """(the condition under which q is wrong, the smallest configuration where it is, the mistakes its values match
    there and at up to 4 more where it is wrong)."""
    where_wrong = [r for r in results if q in r["wrong"]]
    smallest = min(where_wrong, key=_size)
    named = [m for m in matching_mistakes(smallest, loss, [q])
             if all(m in matching_mistakes(r, loss, [q]) for r in where_wrong[:5])]
    return shared_condition(results, lambda r: q in r["wrong"]), smallest, named


def _shown_elsewhere(result, q) -> list[str]:
    """The line of q at another configuration, where the one shown has q right."""
    x, params, _, _ = result["point"]
    shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in {"x": x, **params}.items())
    return [f"at another configuration ({shapes}; not printed), {q} disagrees too:",
            *(f"  {m}" for w, m in zip(result["wrong"], result["messages"], strict=True) if w == q)]


def gradient_name(q):
    """The student's name of a gradient: dx, dw, dgamma; the output and the loss as they are."""
    return q if q in ("output", "loss") else f"d{q}"


def explain_command(config) -> str:
    """The command that prints the layer's formulas, in a network of it and a softmax loss: with a Flatten and a Dense
    to 2 scores after it only where its output is not already a row of scores."""
    if not config.layers:
        return ""
    shape = tuple(config.shape[1:])
    for layer in config.layers:
        shape = layer.output_shape(shape)
    head = [] if len(shape) == 1 and shape[0] >= 2 else \
        [*([reference.Flatten()] if len(shape) > 1 else []), reference.Dense(int(np.prod(shape)), 2)]
    layers = [*config.layers, *head]
    text = ", ".join(repr(layer).removeprefix("reference.") for layer in layers)
    return f'python -m reference explain sequential --input-shape {",".join(map(str, config.shape[1:]))} --layers "{text}"'
