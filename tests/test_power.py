"""The suite can fail: each classic mistake, made in a copy of the reference, is caught by the
same property check that the real reference passes (tests/test_networks.py), as a value that
disagrees, not merely as a crash or a wrong shape."""

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from reference import mistakes
from tests import strategies
from tests.compare import check_network

# W where Wᵀ belongs only runs when the weight is square; elsewhere NumPy refuses the product,
# which proves nothing about the comparison. So that mistake is hunted on square networks.
SQUARE = {"transposed_weight"}
# The budget of the ci profile at least, whatever the profile: the catch must not depend on luck.
BUDGET = 100

# Every mistake on every fixed family it applies to (the "mlp" family draws its layers, so a drawn
# network may not have the broken part at all).
PAIRS = [
    pytest.param(mistake, family, id=f"{mistake}-{family}")
    for mistake in mistakes.MISTAKES
    for family, f in strategies.FAMILIES.items()
    if f.hidden is not None and mistakes.applies(strategies.example_network(family), mistake)
]


@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("mistake", "network"), PAIRS)
def test_mistake_is_caught(mistake, network, dtype, checker):
    # Finding the failure is what is asserted; shrinking it would only cost time.
    @settings(phases=[Phase.generate], max_examples=max(BUDGET, settings().max_examples), database=None)
    @given(data=st.data())
    def same_property_with_the_mistake(data):
        case = data.draw(strategies.cases(network, dtype, square=mistake in SQUARE), label="case")
        check_network(case, checker, model=mistakes.apply(case.net, mistake), table=False)

    with pytest.raises(AssertionError, match=f"{network} .* vs {checker} .*:\n  .* disagrees at index"):
        same_property_with_the_mistake()


def test_every_listed_mistake_is_exercised():
    exercised = {p.values[0] for p in PAIRS}
    assert exercised == set(mistakes.MISTAKES), f"never applied: {set(mistakes.MISTAKES) - exercised}"
