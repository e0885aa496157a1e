"""The reference's loss and every gradient equal each checker's, across random networks and points.

One test per network × dtype × checker; Hypothesis draws the layout, the reduction, the sizes
(D, H, K, N up to 16, N = 1 and a single 1-D example among them), the weights and the inputs.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from tests import strategies
from tests.compare import check_network


@pytest.mark.parametrize("dtype", strategies.DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("network", reference.NETWORKS)
@given(data=st.data())
def test_network_gradients_match(network, dtype, checker, data):
    case = data.draw(strategies.cases(network, dtype), label="case")
    check_network(case, checker)
