"""The real output quoted in docs/ is what the code prints today: each block is made again here and
must stand in its document, line for line."""

from pathlib import Path

import numpy as np
import pytest

import reference
from agreement import judge, network_spread
from frameworks import oracle
from tests.compare import once
from tests.strategies import Case
from tests.test_tolerance import ILL_CONDITIONED

DOCS = Path(__file__).parents[1] / "docs"


def verdict_table(case) -> list[str]:
    """The reference's float32 result against the oracle's float64 truth, one line per quantity."""
    loss, grads = case.net.loss_and_grads(case.params, case.x, case.y)
    their_loss, theirs = oracle.loss_and_grads(case.net.spec, case.params, case.x, case.y)
    spread = once(lambda: network_spread(case.net, case.params, case.x, case.y))
    ours = {"loss": loss, **grads}
    lines = ["quantity   max|truth|  worst |ref − truth|  tolerance used  informative  0.1% visible"]
    for q, b in {"loss": their_loss, **theirs}.items():
        v = judge(q, ours[q], b, "oracle", case.dtype, spread=lambda q=q: spread()[q])
        lines.append(f"{q:<10} {float(np.max(np.abs(b))):>10.3g}  {v.abs_err:>19.3g}  {v.ratio:>14.2g}  "
                     f"{'yes' if v.judged else 'no':>11}  {'yes' if v.visible else 'no':>12}")
    return lines


def well_conditioned() -> Case:
    """The CS224n network 20×(10-5-10) at its own initialisation, in float32."""
    net = reference.sigmoid_softmax_ce(10, 5, 10)
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(20, 10)).astype(np.float32)
    return Case(net, net.init(rng, np.float32), x, rng.integers(0, 10, size=20))


@pytest.mark.parametrize(("name", "case"), [("well-conditioned", well_conditioned()), ("ill-conditioned", ILL_CONDITIONED)])
def test_the_tolerance_examples_are_real_output(name, case):
    text = (DOCS / "tolerances.md").read_text()
    for line in verdict_table(case):
        assert line in text, f"docs/tolerances.md, {name} example: missing the line\n{line}"
