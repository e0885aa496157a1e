"""Argument checks with messages that name the argument and say what was expected.

Every Network method (init, predict, loss_and_grads) and every network constructor runs its
inputs through these before any arithmetic, so a mistake surfaces as a ValueError or TypeError
about *your* argument, never as a silent broadcast or an IndexError from deep inside NumPy.
The layer and loss classes are building blocks that trust their inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def size(name: str, value, minimum: int = 1) -> int:
    """A layer size: a positive int (bool is not a size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def pair(name: str, value, minimum: int = 1) -> tuple[int, int]:
    """A kernel size, stride or padding: an int for both axes, or an (along H, along W) pair of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints (along H, along W), got {value!r}")
        return (size(f"{name}[0]", value[0], minimum), size(f"{name}[1]", value[1], minimum))
    value = size(name, value, minimum)
    return (value, value)


def probability(name: str, value) -> float:
    """A probability p with 0 < p ≤ 1, such as the fraction of units dropout keeps."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1], got {type(value).__name__} {value!r}")
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return float(value)


def choice(name: str, value, options: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, options))}; got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def nonnegative(name: str, value) -> float:
    """A real number ≥ 0 and finite, such as a penalty's strength."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= 0, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def numeric_array(name: str, value) -> np.ndarray:
    """Any real numeric array-like, as an ndarray; strings, objects and complex are refused."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {array.dtype} ({type(value).__name__})")
    return array


def finite(name: str, array: np.ndarray) -> None:
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} must be finite; found {array[bad]} at index {bad}")


def params(value, shapes: Mapping[str, tuple[int, ...]], why: str) -> tuple[dict[str, np.ndarray], np.dtype]:
    """The params dict: exactly the expected keys, each of its expected shape, one float dtype."""
    if not isinstance(value, Mapping):
        raise TypeError(f"params must be a dict of arrays with keys {', '.join(shapes)}; got {type(value).__name__}")
    missing = [k for k in shapes if k not in value]
    extra = [k for k in value if k not in shapes]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing key(s) {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"unexpected key(s) {', '.join(map(repr, extra))}")
        raise ValueError(f"params has {' and '.join(parts)}; expected exactly {', '.join(shapes)}")
    arrays = {}
    for key, expected in shapes.items():
        array = numeric_array(f"params[{key!r}]", value[key])
        if array.dtype not in FLOAT_DTYPES:
            raise TypeError(f"params[{key!r}] must be float32 or float64, got dtype {array.dtype}")
        if array.shape != tuple(expected):
            raise ValueError(
                f"params[{key!r}] has shape {array.shape}, expected {expected} ({why})"
            )
        finite(f"params[{key!r}]", array)
        arrays[key] = array
    dtypes = {a.dtype for a in arrays.values()}
    if not dtypes:  # a network without params (pooling and activations only): x decides the dtype
        return arrays, None
    if len(dtypes) > 1:
        listing = ", ".join(f"{k}: {a.dtype}" for k, a in arrays.items())
        raise TypeError(f"params must share one dtype, got {listing}")
    return arrays, dtypes.pop()


def _has_other_float_dtype(value, array: np.ndarray, dtype: np.dtype) -> bool:
    """An array (NumPy, or anything with a dtype) of another float dtype: mixed precision, refused.
    Lists and Python numbers have no dtype of their own and are simply cast."""
    return hasattr(value, "dtype") and array.dtype.kind == "f" and array.dtype != dtype


def features(value, width: int, dtype: np.dtype) -> np.ndarray:
    """x: (N, D) or (D,), cast to the params' dtype; a NumPy float x must already have it."""
    x = numeric_array("x", value)
    dtype = _own_dtype(x) if dtype is None else dtype
    if _has_other_float_dtype(value, x, dtype):
        raise TypeError(f"x has dtype {x.dtype} but params have dtype {dtype}; use one dtype for both")
    if x.ndim not in (1, 2) or x.shape[-1] != width:
        raise ValueError(f"x has shape {x.shape}, expected (N, {width}) for a batch or ({width},)")
    if x.ndim == 2 and x.shape[0] == 0:
        raise ValueError(f"x is an empty batch, shape {x.shape}; expected at least one example")
    x = x.astype(dtype, copy=False)
    finite("x", x)
    return x


def _own_dtype(x) -> np.dtype:
    """The dtype of a network without params: x's own float dtype, or float64."""
    return x.dtype if x.dtype in FLOAT_DTYPES else np.dtype(np.float64)


def inputs(value, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """x: (N, *shape) for a batch or `shape` for one example, cast to the params' dtype (x's own when there
    are no params)."""
    if len(shape) == 1:
        return features(value, shape[0], dtype)
    x = numeric_array("x", value)
    dtype = _own_dtype(x) if dtype is None else dtype
    if _has_other_float_dtype(value, x, dtype):
        raise TypeError(f"x has dtype {x.dtype} but params have dtype {dtype}; use one dtype for both")
    if x.shape[-len(shape):] != tuple(shape) or x.ndim not in (len(shape), len(shape) + 1):
        raise ValueError(f"x has shape {x.shape}, expected (N, {', '.join(map(str, shape))}) for a batch or "
                         f"{tuple(shape)} for one example")
    if x.ndim > len(shape) and x.shape[0] == 0:
        raise ValueError(f"x is an empty batch, shape {x.shape}; expected at least one example")
    x = x.astype(dtype, copy=False)
    finite("x", x)
    return x


def _like_x(value, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y in x's dtype, cast like x is (a NumPy float y must already have it); and finite."""
    if _has_other_float_dtype(value, y, x.dtype):
        raise TypeError(f"y has dtype {y.dtype} but x has dtype {x.dtype}; use one dtype for both")
    y = y.astype(x.dtype, copy=False)
    finite("y", y)
    return y


def targets(value, x: np.ndarray, width: int) -> np.ndarray:
    """Regression targets y: (N, K) for a batch x, (K,) for a single example."""
    y = numeric_array("y", value)
    expected = (x.shape[0], width) if x.ndim == 2 else (width,)
    if y.shape != expected:
        raise ValueError(f"y has shape {y.shape}, expected {expected} for x of shape "
                         f"{x.shape}")
    return _like_x(value, y, x)


def class_targets(value, x: np.ndarray, classes: int) -> np.ndarray:
    """Classification targets: integer labels (N,) / (), or probability rows (N, K) / (K,); returned one-hot."""
    y = numeric_array("y", value)
    batch = x.shape[:-1]
    if y.shape == batch:
        if y.dtype.kind not in "iu":
            raise TypeError(f"y of shape {y.shape} holds class labels and must be integers, "
                            f"got dtype {y.dtype}")
        out_of_range = (y < 0) | (y >= classes)
        if np.any(out_of_range):
            bad = y[out_of_range].flat[0]
            raise ValueError(f"y holds label {bad}, outside the {classes} classes 0..{classes - 1}")
        return np.eye(classes, dtype=x.dtype)[y]
    if y.shape != batch + (classes,):
        raise ValueError(f"y has shape {y.shape}; for x of shape {x.shape} expected "
                         f"labels of shape {batch} or one-hot rows of shape {batch + (classes,)}")
    y = _like_x(value, y, x)
    if np.any(y < 0):
        raise ValueError("y rows must be one-hot or probability distributions; found a negative entry")
    sums = y.sum(axis=-1)
    slack = 16 * classes * np.finfo(x.dtype).eps
    if np.any(np.abs(sums - 1) > slack):
        bad = sums.flat[np.argmax(np.abs(sums - 1))]
        raise ValueError(f"y rows must be one-hot or probability distributions summing to 1; found a row summing "
                         f"to {bad}")
    return y


def label_targets(value, x: np.ndarray, classes: int) -> np.ndarray:
    """Hard class targets: integer labels (N,) / (), or one-hot rows (N, K) / (K,); returned one-hot."""
    y = class_targets(value, x, classes)
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold class labels or one-hot rows for this loss (one correct class per example); "
                         "found probability rows")
    return y


def binary_targets(value, x: np.ndarray, width: int) -> np.ndarray:
    """Binary targets: (N, K) / (K,) entries in [0, 1], 0/1 labels or probabilities; returned in x's dtype."""
    y = targets(value, x, width)
    outside = (y < 0) | (y > 1)
    if np.any(outside):
        raise ValueError(f"y must hold 0/1 labels or probabilities in [0, 1] for binary cross-entropy; "
                         f"found {y[outside].flat[0]}")
    return y
