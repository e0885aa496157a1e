"""When a computed gradient agrees with a checker's: the one comparison engine, shared by the test
suite and `python -m frameworks.check`.

    from agreement import judge, network_spread
    verdict = judge("W1", ours, theirs, "torch", np.float32, spread=lambda: network_spread(net, params, x, y)["W1"])
    verdict.ok, verdict.informative, verdict.visible, verdict.message

agreement.tolerance holds the model and its reasoning; agreement.rounding estimates, for each
element of each quantity of one example, how far honest rounding can move it.
"""

from .compare import compare
from .rounding import Jittered, layer_spread, network_spread, spread
from .tolerance import FIXED, SAFETY, Tolerance, Verdict, judge

__all__ = ["FIXED", "SAFETY", "Jittered", "Tolerance", "Verdict", "compare", "judge", "layer_spread", "network_spread", "spread"]
