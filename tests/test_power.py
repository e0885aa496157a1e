"""The suite can fail: each classic mistake, made in a copy of the reference, is caught by the
same property check that the real reference passes (tests/test_networks.py), as a value that
disagrees, not merely as a crash or a wrong shape."""

import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

from reference import mistakes
from tests import strategies
from tests.compare import check_network

# W where Wᵀ belongs only runs when the weight is square; elsewhere NumPy refuses the product,
# which proves nothing about the comparison. So that mistake is hunted on square networks.
SQUARE = {"transposed_weight"}
# The budget of the ci profile at least, whatever the profile: the catch must not depend on luck.
BUDGET = 100

# Every mistake on every fixed family it applies to (the "mlp" and "sequential" families draw their
# layers, so a drawn network may not have the broken part at all). The families of image and
# normalization layers take the mistakes that no dense family has a place for: a mistake in a dense
# layer or an activation is caught on the dense families already, at a fraction of the cost.
DENSE = [family for family, f in strategies.FAMILIES.items() if f.dense]


def _applies(mistake, family):
    """Whether the family draws networks in which the mistake shows: its example network, or one of its pool
    (a stride of 1 in every draw would hide a mishandled stride)."""
    nets = [strategies.example_network(family), *strategies.pooled_networks(family)]
    return any(mistakes.applies(net, mistake) for net in nets)


PAIRS = [
    pytest.param(mistake, family, id=f"{mistake}-{family}")
    for mistake in mistakes.MISTAKES
    for family, f in strategies.FAMILIES.items()
    if f.fixed and _applies(mistake, family) and (f.dense or not any(_applies(mistake, d) for d in DENSE))
]


@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize(("mistake", "network"), PAIRS)
def test_mistake_is_caught(mistake, network, dtype, checker):
    # Finding the failure is what is asserted; shrinking it would only cost time.
    @settings(phases=[Phase.generate], max_examples=max(BUDGET, settings().max_examples), database=None)
    @given(data=st.data())
    def same_property_with_the_mistake(data):
        case = data.draw(strategies.cases(network, dtype, square=mistake in SQUARE), label="case")
        assume(mistakes.applies(case.net, mistake))  # a drawn stride of 1 hides a mishandled stride
        check_network(case, checker, model=mistakes.apply(case.net, mistake), table=False, shorten=False)

    with pytest.raises(AssertionError, match=f"{network} .* vs {checker} .*:\n  .* disagrees at index"):
        same_property_with_the_mistake()


def test_every_listed_mistake_is_exercised():
    exercised = {p.values[0] for p in PAIRS}
    assert exercised == set(mistakes.MISTAKES), f"never applied: {set(mistakes.MISTAKES) - exercised}"
