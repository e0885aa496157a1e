import numpy as np

from good import conv_forward_naive  # noqa: F401  (the forward the check calls, from the student's own helper)
from good import conv_backward_naive as _right


def conv_backward_naive(dout, cache):
    dx, dw, db = _right(dout, cache)
    return dx, 2 * dw, db
