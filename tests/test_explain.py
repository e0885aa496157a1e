"""`python -m reference explain`: every formula with shapes that multiply out, and the Jacobian view."""

import re
import subprocess
import sys

import pytest

import reference
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


@pytest.mark.parametrize("family", strategies.FAMILIES)
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
