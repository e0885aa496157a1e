"""The registry is the single list of what is verified: every layer, loss and penalty in it has an
op in every checker, and every one of them is reached by the property tests' network families."""

import numpy as np
import pytest

import frameworks
import reference
from reference.network import OUTPUTS
from tests import strategies
from tests.compare import assert_agree
from tests.compare import checker as load
from tests.tolerances import TOLERANCE, Tolerance, tolerance_for

REGISTRY = {**reference.LAYERS, **reference.LOSSES, **reference.PENALTIES}
INSTALLED = [name for name in frameworks.CHECKERS if not frameworks.unavailable_reason(name)]


def _covers(module, kind, cls) -> bool:
    # The oracle also computes any elementwise layer from its declared formula.
    return kind in module.OPS or (hasattr(module, "formula_op") and bool(getattr(cls, "formula", None)))


def uncovered(checkers) -> list[tuple[str, str]]:
    """Every (kind, checker) pair of the registry for which the checker has no op."""
    return [(kind, name) for kind, cls in REGISTRY.items() for name in checkers if not _covers(load(name), kind, cls)]


def assert_covered(checkers) -> None:
    missing = uncovered(checkers)
    if missing:
        raise AssertionError("no op for: " + ", ".join(f"({kind}, {name})" for kind, name in missing))


def test_every_registered_kind_has_an_op_in_every_checker():
    assert_covered(INSTALLED)


@pytest.mark.parametrize(("kind", "table"), [("tanh", "jax"), ("relu", "torch"), ("dense", "oracle"),
                                             ("sigmoid_binary_cross_entropy", "jax"), ("l2", "torch")])
def test_the_coverage_check_names_a_removed_entry(kind, table, monkeypatch):
    if table not in INSTALLED:
        pytest.skip(frameworks.unavailable_reason(table))
    monkeypatch.delitem(load(table).OPS, kind)
    with pytest.raises(AssertionError, match=rf"^no op for: \({kind}, {table}\)$"):
        assert_covered(INSTALLED)


def test_the_coverage_check_names_every_missing_pair_at_once(monkeypatch):
    if "torch" not in INSTALLED or "jax" not in INSTALLED:
        pytest.skip("needs torch and jax")
    monkeypatch.delitem(load("torch").OPS, "tanh")
    monkeypatch.delitem(load("jax").OPS, "tanh")
    monkeypatch.delitem(load("jax").OPS, "mse")
    assert sorted(uncovered(INSTALLED)) == [("mse", "jax"), ("tanh", "jax"), ("tanh", "torch")]


def test_the_oracle_covers_an_elementwise_layer_only_through_its_formula(monkeypatch):
    monkeypatch.setattr(reference.Tanh, "formula", None)
    assert ("tanh", "oracle") in uncovered(["oracle"])


def test_every_registered_kind_is_reached_by_the_network_families():
    drawn = strategies.FAMILIES["mlp"]
    assert drawn.hidden is None and drawn.output is None and drawn.l2 is None  # depth, kinds, outputs, l2 all drawn
    reached = {"dense", *reference.ACTIVATIONS, *(loss for _, loss in OUTPUTS.values()), "l2"}
    assert set(REGISTRY) <= reached, f"never in a tested network: {sorted(set(REGISTRY) - reached)}"


class _Loose:
    tolerance = {"float32": (1e-3, 1e-5)}  # as a layer would declare it, with its reason


def test_a_declared_tolerance_override_loosens_only_its_dtype():
    assert tolerance_for(np.float32, [reference.Sigmoid(), _Loose()]) == Tolerance(rtol=1e-3, atol=1e-5)
    assert tolerance_for(np.float64, [_Loose()]) == TOLERANCE[np.dtype(np.float64)]
    assert tolerance_for(np.float32, [reference.Sigmoid()]) == TOLERANCE[np.dtype(np.float32)]


def test_a_declared_tolerance_override_is_what_the_comparison_applies():
    ours, theirs = {"x": np.array([1.0005], np.float32)}, {"x": np.array([1.0], np.float32)}
    with pytest.raises(AssertionError, match="disagrees"):
        assert_agree("ctx", "s", "c", np.float32, ours, theirs, table=False)
    assert_agree("ctx", "s", "c", np.float32, ours, theirs, table=False, parts=[_Loose()])


def test_tanh_declares_its_float32_override():
    assert tolerance_for(np.float32, [reference.Tanh()]) == Tolerance(rtol=1e-4, atol=1e-5)
