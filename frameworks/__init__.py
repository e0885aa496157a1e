"""Independent checkers of the reference's gradients.

Each checker builds a network from its plain description (`net.spec`) with its own ops and
differentiates it its own way; none of them runs the reference's code:

    torch   PyTorch autograd                           frameworks.torch_autograd
    jax     jax.value_and_grad, x64 enabled            frameworks.jax_grad
    oracle  complex step / central differences, NumPy  frameworks.oracle

Every checker module offers the same functions:
    loss_and_grads(spec, params, x, y) -> (float, {key: ndarray})    keys of params plus "x"
    value(step, inputs, y=None)        -> ndarray                    one layer's (or loss's) output
    vjp(step, inputs, dy, y=None)      -> {key: ndarray}             one layer's pullback
    value_and_vjp(step, inputs, dy, y=None) -> (ndarray, {key: ndarray})  both, from one evaluation
    jacobian(step, inputs, y=None)     -> {key: ndarray}             torch and jax: the full Jacobian
and an op table OPS (kind -> function in the framework's ops); the oracle also computes any
elementwise layer from its declared formula.

The rest of the package is `python -m frameworks.check`, the tool that checks a student's code
(check.py, submission.py, presets.py, conventions.py, evaluate.py, verify.py, failure.py,
where.py, diagnose.py, classroom.py). Its right answers come from a checker alone; it runs the reference's
code only to draw points off the layers' kinks, to measure rounding (agreement/), and, to name a
mistake, as the known-wrong variants of reference/mistakes.py.
"""

import importlib
import importlib.util

CHECKERS = {
    "torch": ("frameworks.torch_autograd", "torch"),
    "jax": ("frameworks.jax_grad", "jax"),
    "oracle": ("frameworks.oracle", None),
}
INSTALL_HINT = {"torch": "pip install torch==2.13.0", "jax": "pip install jax==0.10.2 jaxlib==0.10.2"}


class Unavailable(Exception):
    """The checker's framework is not installed."""


def unavailable_reason(name: str):
    """Why the checker cannot run here, or None when it can."""
    requires = CHECKERS[name][1]
    if requires and importlib.util.find_spec(requires) is None:
        return f"{requires} is not installed ({INSTALL_HINT[name]})"
    return None


def load(name: str):
    """The checker module by name; Unavailable if its framework is missing."""
    if name not in CHECKERS:
        raise ValueError(f"unknown checker {name!r}; expected one of {', '.join(CHECKERS)}")
    reason = unavailable_reason(name)
    if reason:
        raise Unavailable(reason)
    return importlib.import_module(CHECKERS[name][0])
