"""When two gradients agree: one table, keyed by dtype, with the reasoning beside the numbers.

A computed quantity a agrees with a checker's b when, over all its elements,

    max |a − b|  ≤  atol + rtol · max |b|

i.e. the error is judged against the size of the whole gradient, not element by element: a
gradient entry that is nearly zero through cancellation carries the rounding error of the
larger terms that cancelled, so an elementwise relative test would flag honest rounding.

Why these numbers (inputs and weights are drawn in [-2, 2], sizes up to 16):
- float64: eps = 2.2e-16. One forward+backward rounds O(10) times per element and the matrix
  products sum up to 16 terms that may partly cancel; honest disagreement is 1e-16 to ~1e-12
  relative (the worst seen per checker is in the README). rtol = 1e-9 leaves about three orders
  of headroom above that and sits six orders below the smallest bug hunted, a gradient 0.1 %
  off (relative error 1e-3). atol = 1e-12 covers gradients that are exactly zero in one engine
  and 1e-17 in another.
- float32: eps = 1.2e-7; the same counts give ~1e-6 relative, up to 2.3e-5 where sigmoids
  saturate or softmax rows cancel (ŷ − y) (the worst seen in the thorough profile, 1,000
  examples per network and checker, and in a further 16,000 float32 examples against torch and
  the oracle), and up to 5.2e-5 in networks of up to four hidden layers (ci profile). rtol = 1e-4
  keeps a 2x to 4x margin above that and a 10x margin below the 1e-3 bug.
  atol = 1e-6: on gradients whose largest entry is below atol / rtol = 0.01 the worst absolute
  error seen in those 16,000 was ~2e-7, so 1e-6 is a 5x margin, and a 0.1 % error stays
  visible down to gradients of size ~1e-3.
The oracle computes in float64 at the float32 point, so float32 rows measure the reference's
own rounding against the truth; torch and JAX float32 rows measure two roundings against each other.
"""

from typing import NamedTuple

import numpy as np


class Tolerance(NamedTuple):
    rtol: float
    atol: float

    def bound(self, scale: float) -> float:
        return self.atol + self.rtol * scale


TOLERANCE = {
    np.dtype(np.float64): Tolerance(rtol=1e-9, atol=1e-12),
    np.dtype(np.float32): Tolerance(rtol=1e-4, atol=1e-6),
}

# Central differences (the oracle's fallback for ops that are not complex-analytic) carry a
# truncation error ~eps^(2/3) ≈ 4e-11 times the third derivative; checked against the complex
# step with this relative bound on sigmoid networks of the test sizes.
CENTRAL_DIFFERENCE = Tolerance(rtol=1e-6, atol=1e-8)


def tolerance_for(dtype, parts=()) -> Tolerance:
    """The dtype's tolerance, loosened where a layer, loss or penalty among `parts` declares an override:
    `tolerance = {"float32": (rtol, atol)}` on its class, with the reason written beside it. The
    override then holds for every quantity compared in a network that has the part anywhere."""
    name = np.dtype(dtype).name
    tol = TOLERANCE[np.dtype(dtype)]
    for part in parts:
        override = (getattr(part, "tolerance", None) or {}).get(name)
        if override:
            tol = Tolerance(max(tol.rtol, override[0]), max(tol.atol, override[1]))
    return tol
