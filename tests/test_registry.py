"""The registry is the single list of what is verified: every layer, loss and penalty in it has an
op in every checker, and every one of them is reached by the property tests' network families."""

import numpy as np
import pytest
from hypothesis import Phase, find, settings

import frameworks
import reference
from reference.builders import OUTPUTS
from tests import strategies
from tests.compare import checker as load

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
    before = set(uncovered(INSTALLED))  # empty, unless an entry is missing already (then that test fails too)
    monkeypatch.delitem(load(table).OPS, kind)
    assert set(uncovered(INSTALLED)) - before == {(kind, table)}
    with pytest.raises(AssertionError, match=rf"^no op for: .*\({kind}, {table}\)"):
        assert_covered(INSTALLED)


def test_the_coverage_check_names_every_missing_pair_at_once(monkeypatch):
    if "torch" not in INSTALLED or "jax" not in INSTALLED:
        pytest.skip("needs torch and jax")
    before = set(uncovered(INSTALLED))
    monkeypatch.delitem(load("torch").OPS, "tanh")
    monkeypatch.delitem(load("jax").OPS, "tanh")
    monkeypatch.delitem(load("jax").OPS, "mse")
    assert set(uncovered(INSTALLED)) - before == {("mse", "jax"), ("tanh", "jax"), ("tanh", "torch")}


def test_the_oracle_covers_an_elementwise_layer_only_through_its_formula(monkeypatch):
    monkeypatch.setattr(reference.Tanh, "formula", None)
    assert ("tanh", "oracle") in uncovered(["oracle"])


def _kinds(net):
    return {step.kind for step in (*net.spec.layers, net.spec.loss, *net.spec.penalties)}


def _drawn(family, kind):
    # Searched in what the family's strategy draws, not read off the registry it draws from: the network of a
    # drawn case, a point with every layer's input in its domain (a network whose points are all refused is never
    # verified, however often it is drawn).
    return find(strategies.cases(family, np.float64), lambda case: kind in _kinds(case.net),
                settings=settings(database=None, max_examples=2000, phases=[Phase.generate])).net


@pytest.mark.parametrize("kind", REGISTRY)
def test_every_registered_kind_is_drawn_into_a_network(kind):
    # No exemption: a layer, loss or penalty that no drawn network reaches is verified in no network. The
    # drawn stack takes every kind from the registry, so a new layer needs no entry here.
    assert kind in _kinds(_drawn("sequential", kind))


@pytest.mark.parametrize("family", [f for f, row in strategies.FAMILIES.items() if row.stack is not None])
def test_every_structure_of_a_stack_family_has_points_to_draw(family):
    """The drawn stack's structure for a kind starts with that kind: it must not be one whose every point is refused
    (a max pool after a dropout's zeros, whose windows tie), or that kind's own structure verifies nothing."""
    for index, net in enumerate(strategies.pooled_networks(family)):
        form = strategies.target_forms(net.loss_layer)[0][0]
        drawn = [strategies.fill_case(net, strategies.pool_batch(family, index), form, strategies.Fill(seed),
                                      np.dtype(np.float64)) for seed in range(100, 110)]
        assert sum(case is not None for case in drawn) >= 5, f"{family} pool entry {index}: {net!r}"


@pytest.mark.parametrize("kind", [*reference.ACTIVATIONS, "dense", "l2",
                                  *dict.fromkeys(loss for _, loss in OUTPUTS.values())])
def test_the_drawn_depth_mlp_family_draws_every_kind_mlp_builds(kind):
    assert kind in _kinds(_drawn("mlp", kind))


def test_every_loss_is_reachable_by_mlp():
    unreachable = set(reference.LOSSES) - {loss for _, loss in OUTPUTS.values()}
    assert not unreachable, f"losses with no (output, loss) pair in reference.OUTPUTS: {sorted(unreachable)}"
