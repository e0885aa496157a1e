"""Where in the chain rule a student's backward pass goes wrong: which returned gradients are right and
which wrong, in backward order, and the step of the chain they implicate, with its formula.

    where(net, points)   "your loss is right; W2 and b2 are right; W1 and b1 are wrong: the error is in
                          δ1 = (δ2 W2ᵀ) ⊙ σ′(z1)"
"""

from __future__ import annotations

import numpy as np


def listed(names) -> str:
    """"a", "a and b", "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def is_are(names) -> str:
    return "is" if len(list(names)) == 1 else "are"


def dense_chain(net):
    """[(l, W key, b key, activation kind after it or None)] for the dense layers, in forward order."""
    out, layers = [], list(net.layers)
    for i, (layer, keys) in enumerate(layers):
        if layer.kind == "dense":
            after = layers[i + 1][0].kind if i + 1 < len(layers) and layers[i + 1][0].kind != "dense" else None
            out.append((len(out) + 1, keys["W"], keys["b"], after))
    return out


def _derivative(kind) -> str:
    return {"sigmoid": "σ′", "tanh": "tanh′", "relu": "ReLU′"}.get(kind, f"{kind}′")


def _formulas(net, decay="2λ ") -> dict:
    """The backward formula of each quantity and of each δ, in the network's layout; `decay` is the L2 term's
    factor as the student writes it, before the W (2λ for λ ΣW²; CS231n's 2·reg· or reg·)."""
    chain, row = dense_chain(net), net.layout == "row"
    top, mean = len(chain), net.reduction == "mean"
    s = " / N" if mean else ""
    kind, out = net.loss_layer.kind, chain[-1][3]
    if kind == "mse":
        delta_top = f"(ŷ − y){s}" + (f" ⊙ {_derivative(out)}(z{top})" if out not in (None, "identity") else "")
    else:
        delta_top = f"(ŷ − y){s}, the {'softmax' if kind.startswith('softmax') else 'sigmoid'} and cross-entropy fused"
    formulas = {f"δ{top}": f"δ{top} = {delta_top}"}
    l2 = any(p.kind == "l2" for p, _ in net.penalties)
    for i, w, b, after in chain:
        h = "x" if i == 1 else f"h{i - 1}"
        formulas[w] = f"∂L/∂{w} = " + (f"{h}ᵀ δ{i}" if row else f"δ{i} {h}ᵀ") + (f" + {decay}{w}" if l2 else "")
        formulas[b] = f"∂L/∂{b} = Σ_n δ{i}"
        if i < top:
            nxt = chain[i][1]
            back = f"δ{i + 1} {nxt}ᵀ" if row else f"{nxt}ᵀ δ{i + 1}"
            formulas[f"δ{i}"] = f"δ{i} = ({back}) ⊙ {_derivative(after)}(z{i})"
    w1 = chain[0][1]
    formulas["x"] = "∂L/∂x = " + (f"δ1 {w1}ᵀ" if row else f"{w1}ᵀ δ1")
    return formulas


def _scaled(points, wrong) -> bool:
    """Whether at every point each wrong quantity is one factor c × the right one (the same c for all): a sum where
    the mean belongs, say, which is no error of the forward pass."""
    for p in points:
        if not p.right.get("loss"):
            return False
        c = p.ours["loss"] / p.right["loss"]
        if not all(q in p.ours and np.shape(p.ours[q]) == np.shape(p.right[q])
                   and np.allclose(p.ours[q], c * np.asarray(p.right[q]), rtol=1e-6, atol=1e-12) for q in wrong):
            return False
    return True


def where(net, points, decay="2λ ") -> str:
    """Which returned gradients are right and which wrong, in backward order, and the steps they implicate:
    walking down the chain, a layer whose gradients and everything below are wrong implicates its δ (and
    nothing below is named: it follows); a wrong W or b alone implicates its own formula (`decay`: see _formulas)."""
    returned = [q for q in points[0].ours if q != "loss"]
    wrong = set().union(*(p.wrong for p in points))
    if not wrong:
        return ""
    chain, formulas = dense_chain(net), _formulas(net, decay)
    order = [k for _, w, b, _ in reversed(chain) for k in (w, b)] + ["x"]
    order = [k for k in order if k in returned]
    bad = [k for k in order if k in wrong]
    good = [k for k in order if k not in wrong]
    loss = "your loss is wrong" if "loss" in wrong else "your loss is right"
    if not bad:
        return f"{loss}, and every gradient you return is right: the error is in the loss's formula, not in the backward pass"
    text = f"{loss}; " + (f"{listed(good)} {is_are(good)} right; " if good else "") + f"{listed(bad)} {is_are(bad)} wrong"
    if "loss" in wrong and not good and not _scaled(points, wrong):  # what the loss shares with every gradient
        top = f"δ{len(chain)}"
        return (f"{text}: the error is in the forward pass, which your loss and every gradient share (ŷ, in the loss "
                f"and in {formulas[top]}), or in your loss and {top} both")
    steps = []
    for i, w, b, _ in reversed(chain):
        here = [k for k in (w, b) if k in order]
        if not any(k in wrong for k in here):
            continue
        below = order[order.index(here[-1]) + 1:]
        if all(k in wrong for k in here + below):
            steps.append(formulas[f"δ{i}"])
            break
        steps += [formulas[k] for k in here if k in wrong]
    else:
        if "x" in wrong:
            steps.append(formulas["x"])
    return text + ": the error is in " + " and in ".join(steps)
