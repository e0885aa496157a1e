"""Every formula of a network's forward and backward pass, each factor with its shape, and the
explicit-Jacobian view of each step; the text `python -m reference explain` prints.

A dense chain (Dense and activation layers, as mlp builds) is written in matrix form, one example a
column vector or a batch of rows. Its shapes are worked out, not written by hand: every product of
the forward and backward sections goes through `_mm`, which refuses factors whose inner sizes
differ, so each of those lines multiplies out. Any other network is written layer by layer, each
layer in its own words (its `explain` text) with the shapes the network computes for it.
"""

from __future__ import annotations

from . import validate
from .base import shape_text
from .layers import Activation, Dense
from .losses import MSE, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy


def _fmt(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _mm(a, b):
    """The shape of a @ b; refuses factors that do not multiply."""
    if a[1] != b[0]:
        raise ValueError(f"shapes {_fmt(a)} and {_fmt(b)} do not multiply")
    return (a[0], b[1])


def _t(shape):
    return (shape[1], shape[0])


def _product(left, right, names) -> str:
    return f"{names[0]} {_fmt(left)} @ {names[1]} {_fmt(right)} -> {_fmt(_mm(left, right))}"


def _activation(layer):
    """f and f′(z) as text, as the layer declares them (its kind, if it does not)."""
    return layer.symbol or layer.kind, layer.derivative_text or f"{layer.kind}′(z)"


def explain(net, batch: str = "N") -> str:
    """The text for `net`: forward, backward and the explicit-Jacobian view, with every shape."""
    if net.sizes is None or not all(isinstance(layer, (Dense, Activation)) for layer, _ in net.layers):
        return explain_layers(net)
    column = net.layout == "column"
    s = "1/N" if net.reduction == "mean" else "1"
    dense = [(i, layer, keys) for i, (layer, keys) in enumerate(net.layers) if isinstance(layer, Dense)]
    acts = {}  # dense index (1-based) -> the activation that follows it
    for n, (i, _, _) in enumerate(dense, 1):
        nxt = net.layers[i + 1][0] if i + 1 < len(net.layers) else None
        acts[n] = nxt if isinstance(nxt, Activation) else None
    L = len(dense)
    sizes = net.sizes

    def vec(width):  # one example's vector, a column in the column layout; a batch of rows in the row layout
        return (width, 1) if column else (batch, width)

    def weight(n):
        return (sizes[n], sizes[n - 1]) if column else (sizes[n - 1], sizes[n])

    def a(n):
        return "x" if n == 0 else f"a{n}"

    out = [repr(net), ""]
    if column:
        out.append(f"Column layout, one example at a time: x is a column {_fmt(vec(sizes[0]))}. A batch of N examples")
        out.append("sums each example's dW and db (the outer products δ xᵀ add up to δᵀ X over the rows of X).")
    else:
        out.append(f"Row layout: a batch X of N examples as rows, {_fmt(vec(sizes[0]))}; biases are vectors broadcast")
        out.append("over the rows, and db sums δ over the batch.")
    out.append(f"s = {s} ({net.reduction} over the batch). ⊙ is the elementwise (Hadamard) product.")
    out += ["", "Forward"]
    for n in range(1, L + 1):
        w, h = weight(n), vec(sizes[n - 1])
        if column:
            z = _mm(w, h)
            out.append(f"  z{n} = W{n} {a(n - 1)} + b{n}    {_product(w, h, (f'W{n}', a(n - 1)))}, + b{n} {_fmt(z)}")
        else:
            z = _mm(h, w)
            out.append(f"  z{n} = {a(n - 1)} W{n} + b{n}    {_product(h, w, (a(n - 1), f'W{n}'))}, + b{n} ({sizes[n]},)")
        act = acts[n]
        if act is not None:
            f, _ = _activation(act)
            name = f"a{n}" if n < L else "ŷ"
            out.append(f"  {name} = {f}(z{n})    elementwise, {_fmt(z)}")
    loss = net.loss_layer
    K = vec(sizes[-1])
    if isinstance(loss, SoftmaxCrossEntropy):
        out.append(f"  ŷ = softmax(z{L})    each example's {sizes[-1]} outputs, {_fmt(K)}")
        out.append(f"  C = s · Σ_n −Σ_k y_k log ŷ_k    scalar (y {_fmt(K)}: one-hot or probabilities; integer labels "
                   "are taken as one-hot rows)")
    elif isinstance(loss, SigmoidBinaryCrossEntropy):
        out.append(f"  ŷ = σ(z{L})    {_fmt(K)}")
        out.append("  C = s · Σ_n Σ_k −[y log ŷ + (1 − y) log(1 − ŷ)]    scalar")
    elif isinstance(loss, MSE):
        out.append(f"  C = s · Σ_n ½ Σ_k (ŷ_k − y_k)²    scalar (y {_fmt(K)})")
    else:
        out += [f"  {line}    scalar (y: {_targets(loss, sizes[-1])})" for line in loss.explain(f"z{L}").forward]
    for penalty, keys in net.penalties:
        out.append(f"  C += λ Σ_l ‖W_l‖²_F    λ = {penalty.strength:g}, over {', '.join(keys)} (biases not penalised)")

    out += ["", "Backward: δn = dC/dzn has the shape of zn"]
    if isinstance(loss, MSE):
        _, d = _activation(acts[L])
        out.append(f"  δ{L} = s (ŷ − y) ⊙ f′(z{L}),  f′(z) = {d}    {_fmt(K)} ⊙ {_fmt(K)} -> {_fmt(K)}")
    elif isinstance(loss, (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy)):
        out.append(f"  δ{L} = s (ŷ − y)    {_fmt(K)}   (the fused loss: see the Jacobian view below)")
    else:
        out += [f"  {line.replace(f'g_z{L}', f'δ{L}')}    {_fmt(K)}" for line in loss.explain(f"z{L}").backward]
    l2 = " + 2λ W{n}" if net.penalties else ""
    for n in range(L, 0, -1):
        d, h, w = vec(sizes[n]), vec(sizes[n - 1]), weight(n)
        if column:
            line = _product(d, _t(h), (f"δ{n}", f"{a(n - 1)}ᵀ"))
            out.append(f"  dC/dW{n} = δ{n} {a(n - 1)}ᵀ{l2.format(n=n)}    {line}")
            out.append(f"  dC/db{n} = δ{n}    {_fmt(d)}")
            back = _product(_t(w), d, (f"W{n}ᵀ", f"δ{n}"))
            target = f"dC/d{a(n - 1)} = W{n}ᵀ δ{n}"
        else:
            line = _product(_t(h), d, (f"{a(n - 1)}ᵀ", f"δ{n}"))
            out.append(f"  dC/dW{n} = {a(n - 1)}ᵀ δ{n}{l2.format(n=n)}    {line}")
            out.append(f"  dC/db{n} = Σ_n δ{n}[n]    {_fmt(d)} -> ({sizes[n]},)")
            back = _product(d, _t(w), (f"δ{n}", f"W{n}ᵀ"))
            target = f"dC/d{a(n - 1)} = δ{n} W{n}ᵀ"
        out.append(f"  {target}    {back}")
        if n > 1:
            _, der = _activation(acts[n - 1])
            out.append(f"  δ{n - 1} = dC/d{a(n - 1)} ⊙ f′(z{n - 1}),  f′(z) = {der}    {_fmt(h)} ⊙ {_fmt(h)} -> {_fmt(h)}")

    out += ["", "The explicit-Jacobian view (one example; every vector a column)"]
    for n in range(1, L + 1):
        H, D = sizes[n], sizes[n - 1]
        if column:
            out.append(f"  dz{n}/dW{n}: a ({H}, {H}, {D}) tensor, ∂z{n}_i/∂W{n}_jk = 1[i = j] {a(n - 1)}_k")
            out.append(f"      contracting its first index with δ{n}: Σ_i δ{n}_i ∂z{n}_i/∂W{n}_jk = δ{n}_j {a(n - 1)}_k,"
                       f" the outer product δ{n} {a(n - 1)}ᵀ ({H}, 1) @ (1, {D}) -> ({H}, {D})")
        else:
            out.append(f"  dz{n}/dW{n}: a ({H}, {D}, {H}) tensor, ∂z{n}_i/∂W{n}_kj = {a(n - 1)}_k 1[i = j]")
            out.append(f"      contracting its first index with δ{n}: Σ_i δ{n}_i ∂z{n}_i/∂W{n}_kj = {a(n - 1)}_k δ{n}_j,"
                       f" the outer product {a(n - 1)} δ{n}ᵀ ({D}, 1) @ (1, {H}) -> ({D}, {H})")
        w = (H, D)
        out.append(f"  dz{n}/d{a(n - 1)} = W{n}{'' if column else 'ᵀ'}: a {_fmt(w)} matrix; "
                   f"δ{n}ᵀ (1, {H}) @ {_fmt(w)} -> (1, {D}), i.e. dC/d{a(n - 1)} = W{n}{'ᵀ' if column else ''} δ{n}")
        act = acts[n]
        if act is not None and (n < L or isinstance(loss, MSE)):
            f, der = _activation(act)
            out.append(f"  d{'a' + str(n) if n < L else 'ŷ'}/dz{n} = diag(f′(z{n})): a ({H}, {H}) diagonal matrix, f′(z) = {der}")
            out.append(f"      g (1, {H}) @ diag(f′(z{n})) ({H}, {H}) -> (1, {H}) scales each entry: g ⊙ f′(z{n}),"
                       " so the diagonal matrix is never built")
    K1 = sizes[-1]
    if isinstance(loss, SoftmaxCrossEntropy):
        out.append(f"  dŷ/dz{L} = diag(ŷ) − ŷ ŷᵀ: a ({K1}, {K1}) matrix (softmax is not elementwise), dC/dŷ = −s y / ŷ ({K1},)")
        out.append(f"      (−s y/ŷ)ᵀ (1, {K1}) @ (diag(ŷ) − ŷŷᵀ) ({K1}, {K1}) -> (1, {K1}) = s (ŷ Σ_k y_k − y) = s (ŷ − y)"
                   " when y sums to 1")
    elif isinstance(loss, SigmoidBinaryCrossEntropy):
        out.append(f"  dŷ/dz{L} = diag(ŷ(1 − ŷ)): ({K1}, {K1}); dC/dŷ = s (−y/ŷ + (1 − y)/(1 − ŷ)) ({K1},)")
        out.append(f"      their product (1, {K1}) @ ({K1}, {K1}) -> (1, {K1}) = s (ŷ − y): σ′ cancels the denominators")
    elif isinstance(loss, MSE):
        out.append(f"  dC/dŷ = s (ŷ − y) ({K1},)")
    else:
        out += [f"  {line}" for line in loss.explain(f"z{L}").jacobian]
    out.append("  The chain rule multiplies these out from the loss backwards (reference/jacobian.py does it literally);")
    out.append("  the backward above is the same product with every diagonal matrix applied as ⊙ and every")
    out.append("  tensor contraction written as an outer product.")
    return "\n".join(out)


def _targets(loss, k: int) -> str:
    """What the loss takes as y, per example."""
    targets = {validate.class_targets: f"a class label per example, or a row of {k} class probabilities",
               validate.label_targets: f"a class label per example, or its one-hot row of {k}"}
    return targets.get(type(loss).targets, f"{k} per example")


def explain_layers(net) -> str:
    """Any network, layer by layer: each layer's forward, backward and Jacobian in its own words, with the
    shapes of a batch of N examples (x is h0, layer k's output hk; g_hk = dC/dhk has the shape of hk)."""
    names = ["x", *(f"h{k}" for k in range(1, len(net.layers) + 1))]
    shapes = [net.input_shape, *net.shapes]
    texts = [layer.explain(names[k], names[k + 1], keys, shape=shapes[k]) if hasattr(layer, "groups") else
             layer.explain(names[k], names[k + 1], keys) for k, (layer, keys) in enumerate(net.layers)]

    def batch(shape):
        return shape_text(("N", *shape))

    def params(keys):
        return "".join(f", {key} {shape_text(net.param_shapes[key])}" for key in keys.values())

    s = "1/N" if net.reduction == "mean" else "1"
    out = [repr(net), "",
           f"A batch of N examples, x {batch(net.input_shape)}. s = {s} ({net.reduction} over the batch). "
           "⊙ is the elementwise product;", "g_h = dC/dh has the shape of h.", "", "Forward"]
    for k, ((_, keys), text) in enumerate(zip(net.layers, texts, strict=True)):
        out.append(f"  {text.forward[0]}")
        out.append(f"      {names[k]} {batch(shapes[k])}{params(keys)} -> {names[k + 1]} {batch(shapes[k + 1])}")
        out += [f"  {line}" for line in text.forward[1:]]
    loss = net.loss_layer.explain(names[-1])
    out += [f"  {line}    scalar (y: {_targets(net.loss_layer, net.outputs)})" for line in loss.forward]
    for penalty, keys in net.penalties:
        out += [f"  {line}" for line in penalty.explain(list(keys)).forward]
    out += ["", "Backward, from the loss to x"]
    out += [f"  {line}    {batch(shapes[-1])}" for line in loss.backward]
    for k in range(len(net.layers) - 1, -1, -1):
        out += [f"  {line}" for line in texts[k].backward]
        keys = net.layers[k][1]
        out.append(f"      g_{names[k]} {batch(shapes[k])}" +
                   "".join(f", d{key} {shape_text(net.param_shapes[key])}" for key in keys.values()))
    for penalty, keys in net.penalties:
        out += [f"  {line}" for line in penalty.explain(list(keys)).backward]
    out += ["", "The explicit-Jacobian view (reference/jacobian.py builds each of these arrays)"]
    for text in texts:
        out += [f"  {line}" for line in text.jacobian]
    out += [f"  {line}" for line in loss.jacobian]
    out.append("  The chain rule multiplies these from the loss backwards; each backward above applies one without "
               "building it.")
    return "\n".join(out)
