"""`python -m reference explain`: every formula with shapes that multiply out, and the Jacobian view."""

import re
import subprocess
import sys

import pytest

import reference
from reference import __main__ as reference_cli
from reference.explain import explain
from tests import strategies

PRODUCT = re.compile(r"\((\w+), (\w+)\) @ \S+ \((\w+), (\w+)\) -> \((\w+), (\w+)\)")


def _products(text):
    return [m.groups() for m in PRODUCT.finditer(text)]


def test_the_textbook_network_in_column_layout():
    out = subprocess.run([sys.executable, "-m", "reference", "explain", "sigmoid_mse", "--sizes", "3,4,1",
                          "--layout", "column"], capture_output=True, text=True, check=True).stdout
    for line in ["z1 = W1 x + b1    W1 (4, 3) @ x (3, 1) -> (4, 1)",
                 "dC/dW1 = δ1 xᵀ    δ1 (4, 1) @ xᵀ (1, 3) -> (4, 3)",
                 "dC/dx = W1ᵀ δ1    W1ᵀ (3, 4) @ δ1 (4, 1) -> (3, 1)",
                 "δ1 = dC/da1 ⊙ f′(z1),  f′(z) = σ(z)(1 − σ(z))    (4, 1) ⊙ (4, 1) -> (4, 1)",
                 "dz1/dW1: a (4, 4, 3) tensor",
                 "da1/dz1 = diag(f′(z1)): a (4, 4) diagonal matrix"]:
        assert line in out, f"missing: {line}\n{out}"


@pytest.mark.parametrize("family", [name for name, f in strategies.FAMILIES.items() if f.stack is None])
@pytest.mark.parametrize("layout", ["row", "column"])
def test_every_product_printed_multiplies_out(family, layout):
    net = strategies.example_network(family)
    net = reference.mlp(*net.sizes, **{**net.config, "layout": layout})
    text = explain(net)
    products = _products(text)
    assert len(products) >= 3 * (len(net.sizes) - 1), text
    for a, b, c, d, e, f in products:
        assert b == c and (e, f) == (a, d), f"({a}, {b}) @ ({c}, {d}) -> ({e}, {f}) does not multiply out\n{text}"
    for n in range(1, len(net.sizes)):
        assert f"dC/dW{n} = " in text and f"dC/db{n} = " in text and f"dz{n}/dW{n}: a (" in text


def test_a_bad_option_is_a_usage_error_naming_it():
    result = subprocess.run([sys.executable, "-m", "reference", "explain", "mlp", "--output", "softmax"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "output='softmax' is not supported with loss='mse'" in result.stderr


@pytest.mark.parametrize(("args", "said"), [
    (["sequential", "--input-shape", "3x8x8", "--layers", "Dense(4, 3)"], "--input-shape must be integers"),
    (["sequential", "--input-shape", "4", "--layers", "Dense(4, 3"], "'(' was never closed"),
    (["sequential", "--input-shape", "4", "--layers", "Dense(4, 3)", "--layout", "column"], "not --layout"),
    (["sequential", "--input-shape", "4", "--layers", "Dense(4, 3)", "--sizes", "4,3"], "not --sizes"),
    (["mlp", "--layers", "Dense(4, 3)"], "--layers and --input-shape are for sequential"),
    (["sigmoid_mse", "--hidden", "relu"], "sigmoid_mse fixes its activations and loss: --hidden is for mlp"),
    (["sigmoid_softmax_ce", "--loss", "svm", "--output", "identity"], "--output, --loss are for mlp"),
    (["mlp", "--layout", ""], "layout must be one of"),
])
def test_an_option_the_network_does_not_take_is_refused_not_ignored(args, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        reference_cli.main(["explain", *args])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and said in err, err
    assert err.startswith("usage: python -m reference explain "), err  # explain's own usage, whichever error it is


@pytest.mark.parametrize("kind", [*reference.LAYERS, *reference.LOSSES])
def test_every_registered_layer_and_loss_writes_its_own_text(kind):
    # Layer.explain, the default, says that no view is available: a registered layer must do better.
    cls = {**reference.LAYERS, **reference.LOSSES}[kind]
    assert cls.explain is not reference.Layer.explain, f"{cls.__name__} has no explain text of its own"
    part = cls.sample(strategies.first)[0] if kind in reference.LAYERS else cls()
    keys = {local: f"{local}1" for local in getattr(part, "param_shapes", {})}
    text = part.explain("a", "b", keys) if kind in reference.LAYERS else part.explain("a")
    assert all(text) and "no view" not in " ".join(line for lines in text for line in lines), text


@pytest.mark.parametrize("kind", reference.LAYERS)
def test_every_layers_text_speaks_of_its_own_input_output_and_params(kind):
    """Given the names it is to use, a layer's text writes its output from its input and every param, the input's
    gradient and each param's in the backward, and the output's Jacobian with respect to the input: not a text
    that would read the same for any layer."""
    part = reference.LAYERS[kind].sample(strategies.first)[0]
    keys = {local: f"{local}7" for local in part.param_shapes}
    text = part.explain("hA", "hB", keys)
    forward, backward, jacobian = (" ".join(lines) for lines in (text.forward, text.backward, text.jacobian))
    assert "hA" in forward and "hB" in forward and all(key in forward for key in keys.values()), text.forward
    assert "g_hA" in backward and all(f"d{key}" in backward for key in keys.values()), text.backward
    assert "hA" in jacobian and "hB" in jacobian, text.jacobian


@pytest.mark.parametrize("family", [name for name, f in strategies.FAMILIES.items() if f.stack is not None])
def test_a_network_of_any_layers_is_explained_layer_by_layer_with_its_shapes(family):
    net = strategies.example_network(family)
    text = explain(net)
    for k, shape in enumerate(net.shapes, 1):
        assert f"-> h{k} (N, {', '.join(map(str, shape))}" in text, f"h{k} {shape}\n{text}"
    for key, shape in net.param_shapes.items():
        assert f"{key} ({', '.join(map(str, shape))}" in text, f"{key}\n{text}"
        assert f"d{key} ({', '.join(map(str, shape))}" in text.split("Backward")[1], f"d{key}\n{text}"
    backward = text.split("Backward")[1]
    for k, shape in enumerate((net.input_shape, *net.shapes[:-1])):
        assert f"g_{f'h{k}' if k else 'x'} (N, {', '.join(map(str, shape))}" in backward, f"g_h{k} {shape}\n{text}"
    assert "declares no explain text" not in text and "no view available" not in text, text


def test_class_targets_are_said_to_be_labels():
    net = reference.sequential([reference.Dense(3, 4)], input_shape=(3,), output="identity", loss="svm")
    assert "scalar (y: a class label per example, or its one-hot row of 4)" in explain(net)
    assert "scalar (y: a class label per example, or its one-hot row of 3)" in explain(
        reference.mlp(3, 4, 3, output="identity", loss="svm"))  # the dense chain's own text
    net = reference.sequential([reference.Flatten(), reference.Dense(3, 4)], input_shape=(3,))
    assert "scalar (y: a class label per example, or a row of 4 class probabilities)" in explain(net)


def test_a_new_loss_is_explained_in_its_own_words_in_a_dense_chain():
    text = explain(reference.mlp(3, 4, 3, output="identity", loss="svm"))
    assert "max(0, m_nj)" in text and "fused" not in text, text
