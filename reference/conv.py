"""Layers on images: convolution, pooling, flattening. x is (N, C, H, W), as in CS231n and torch.

A window of the input is read through `windows`: for a kernel (KH, KW) and stride (SH, SW), the
view cols[n, c, i, j, p, q] = x[n, c, i·SH + p, j·SW + q], of shape (N, C, H′, W′, KH, KW). The
forward is then a sum or a max over each window; the backward sends each output's gradient back to
the input positions its window read, adding where windows overlap (one slice per kernel offset).
"""

from __future__ import annotations

import numpy as np

from . import validate
from .base import SIZES, Domain, Layer, Text, shape_text

PADDINGS, STRIDES, KERNELS = (0, 1, 2), (1, 2, 3), (1, 2, 3)


def windows(x, kernel, stride):
    """Every window of x (N, C, H, W) as a view (N, C, H′, W′, KH, KW); no copy."""
    cols = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return cols[:, :, ::stride[0], ::stride[1]]


def offsets(kernel, stride, out):
    """For each kernel offset (p, q): the slices of the input that the outputs' windows read at that offset."""
    for p in range(kernel[0]):
        for q in range(kernel[1]):
            yield p, q, (slice(p, p + stride[0] * (out[0] - 1) + 1, stride[0]),
                         slice(q, q + stride[1] * (out[1] - 1) + 1, stride[1]))


def _count(n, thing) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def out_size(layer, shape, size, kernel, stride, padding, axis) -> int:
    """(size + 2 padding − kernel) / stride + 1, refused where it is not whole or not ≥ 1; padding None for a layer
    that has none (a pool)."""
    span = size + 2 * (padding or 0) - kernel
    if span < 0 or span % stride:
        padded = f"size {size} + 2·padding {padding}" if padding is not None else f"size {size}"
        change = "the stride or the padding" if padding is not None else "the kernel or the stride"
        raise ValueError(
            f"{layer!r} does not fit input shape {shape_text(shape)} along {axis}: ({padded} − "
            f"kernel {kernel}) / stride {stride} + 1 must be a whole number ≥ 1; change {change}")
    return span // stride + 1


def _image_shape(layer, shape, channels=None):
    layer.check_rank(shape)
    if channels is not None and shape[0] != channels:
        layer.refuse(shape, f"({channels}, H, W)")
    return shape


def _fitting_kernel(pick, size, stride, name):
    """A kernel size k ≤ 4 for which (size − k) / stride is whole (k = size mod stride always is); size
    already includes the padding."""
    return pick(name, tuple(k for k in range(1, min(4, size) + 1) if (size - k) % stride == 0))


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in CS231n and torch.nn.Conv2d) with zero padding.

    x (N, C, H, W), W (F, C, KH, KW), b (F,) -> y (N, F, H′, W′),  H′ = (H + 2 PH − KH) / SH + 1 (W′ alike)

    Forward, with xp = x padded by PH, PW zeros and cols its windows (N, C, H′, W′, KH, KW):
        y[n, f, i, j] = Σ_{c, p, q} cols[n, c, i, j, p, q] W[f, c, p, q] + b[f]
    Backward, with δ = dL/dy (N, F, H′, W′):
        dW[f, c, p, q] = Σ_{n, i, j} δ[n, f, i, j] cols[n, c, i, j, p, q]     (F, C, KH, KW)
        db[f] = Σ_{n, i, j} δ[n, f, i, j]                                        (F,)
        dxp[n, c, i·SH + p, j·SW + q] += Σ_f δ[n, f, i, j] W[f, c, p, q]         then dx = dxp without its padding
    Every input pixel gets the gradient of every output whose window covered it: the same W entry
    that multiplied it in the forward, once per window. The stride spaces the windows and the padding
    shifts them, so both appear in the backward exactly where they appear in the forward.
    """

    kind = "conv2d"
    numbered = "weight"
    ranks = (3,)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        self.in_channels = validate.size("in_channels", in_channels)
        self.out_channels = validate.size("out_channels", out_channels)
        self.kernel = validate.pair("kernel_size", kernel_size)
        self.stride = validate.pair("stride", stride)
        self.padding = validate.pair("padding", padding, minimum=0)
        self.options = {"stride": self.stride, "padding": self.padding}
        self.param_shapes = {"W": (self.out_channels, self.in_channels, *self.kernel), "b": (self.out_channels,)}

    def __repr__(self):
        return (f"reference.Conv2D({self.in_channels}, {self.out_channels}, kernel_size={_short(self.kernel)}, "
                f"stride={_short(self.stride)}, padding={_short(self.padding)})")

    def output_shape(self, shape):
        _, h, w = _image_shape(self, shape, self.in_channels)
        return (self.out_channels,
                *(out_size(self, shape, n, k, s, p, axis) for n, k, s, p, axis in
                  zip((h, w), self.kernel, self.stride, self.padding, ("H", "W"), strict=True)))

    def init(self, rng, dtype):
        """He/Glorot-style uniform: W ~ U(−r, r), r = √(6 / (fan_in + fan_out)) with fan = channels · KH · KW."""
        area = self.kernel[0] * self.kernel[1]
        limit = np.sqrt(6.0 / ((self.in_channels + self.out_channels) * area))
        return {"W": rng.uniform(-limit, limit, size=self.param_shapes["W"]).astype(dtype),
                "b": np.zeros(self.out_channels, dtype=dtype)}

    def forward(self, params, x):
        W, b = params["W"], params["b"]
        (ph, pw) = self.padding
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        cols = windows(xp, self.kernel, self.stride)  # (N, C, H′, W′, KH, KW)
        y = np.tensordot(cols, W, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[:, None, None]
        return y, (x.shape, xp.shape, cols, W)

    def backward(self, cache, dy):
        shape, padded, cols, W = cache
        dW = np.tensordot(dy, cols, axes=([0, 2, 3], [0, 2, 3]))  # Σ_n,i,j δ[n, f, i, j] cols[n, c, i, j, p, q]
        dxp = self.scatter(dy, W, padded, self.stride)
        (ph, pw) = self.padding
        return dxp[:, :, ph:ph + shape[2], pw:pw + shape[3]], {"W": dW, "b": dy.sum(axis=(0, 2, 3))}

    def scatter(self, dy, W, padded, stride):
        """dxp, the gradient of the padded input: each output's δ sent back through W to its window's pixels."""
        dxp = np.zeros(padded, dtype=dy.dtype)
        for p, q, (rows, columns) in offsets(self.kernel, stride, dy.shape[2:]):
            dxp[:, :, rows, columns] += np.tensordot(dy, W[:, :, p, q], axes=([1], [0])).transpose(0, 3, 1, 2)
        return dxp

    def explain(self, a, b, p):
        W, bias = p["W"], p["b"]
        (sh, sw), (ph, pw) = self.stride, self.padding
        at = f"{a}p[n, c, {_times(sh, 'i')} + p, {_times(sw, 'j')} + q]"
        return Text(
            (f"{b}[n, f, i, j] = Σ_c,p,q {at} {W}[f, c, p, q] + {bias}[f]    ({a}p: {a} with {_count(ph, 'row')} of zeros "
             f"above and below, {_count(pw, 'column')} left and right; stride {sh}, {sw})" if ph or pw else
             f"{b}[n, f, i, j] = Σ_c,p,q {at} {W}[f, c, p, q] + {bias}[f]    ({a}p = {a}: no padding; stride {sh}, {sw})",),
            (f"d{W}[f, c, p, q] = Σ_n,i,j g_{b}[n, f, i, j] {at}", f"d{bias}[f] = Σ_n,i,j g_{b}[n, f, i, j]",
             f"g_{a}p[n, c, {_times(sh, 'i')} + p, {_times(sw, 'j')} + q] += Σ_f g_{b}[n, f, i, j] {W}[f, c, p, q], "
             f"for every window (i, j) and offset (p, q); g_{a} = g_{a}p without its padding"),
            (f"∂{b}[n, f, i, j]/∂{a}[n, c, u, v] = {W}[f, c, u + {ph} − {_times(sh, 'i')}, v + {pw} − {_times(sw, 'j')}] "
             f"where that offset lies in the kernel, else 0: each output sees only its window; examples do not mix",))

    @classmethod
    def sample(cls, pick, shape=None):
        shape = shape if shape is not None else (pick("C", (1, 2, 3)), pick("H", SIZES[1:]), pick("W", SIZES[1:]))
        stride, padding = (pick("stride", STRIDES), pick("stride W", STRIDES)), (pick("padding", PADDINGS),) * 2
        kernel = tuple(_fitting_kernel(pick, n + 2 * p, s, name) for n, s, p, name in
                       zip(shape[1:], stride, padding, ("KH", "KW"), strict=True))
        return cls(shape[0], pick("F", (1, 2, 3, 4)), kernel, stride, padding), shape


def _times(stride, index):
    return index if stride == 1 else f"{stride}{index}"


def _short(pair):
    return pair[0] if pair[0] == pair[1] else pair


class _Pool(Layer):
    ranks = (3,)

    def __init__(self, kernel_size, stride=None):
        self.kernel = validate.pair("kernel_size", kernel_size)
        self.stride = self.kernel if stride is None else validate.pair("stride", stride)
        self.options = {"kernel": self.kernel, "stride": self.stride}

    def __repr__(self):
        stride = "" if self.stride == self.kernel else f", stride={_short(self.stride)}"
        return f"reference.{type(self).__name__}({_short(self.kernel)}{stride})"

    def output_shape(self, shape):
        c, h, w = _image_shape(self, shape)
        return (c, *(out_size(self, shape, n, k, s, None, axis) for n, k, s, axis in
                     zip((h, w), self.kernel, self.stride, ("H", "W"), strict=True)))

    @classmethod
    def sample(cls, pick, shape=None):
        """Square and non-square windows, overlapping (stride < kernel) and not; 2×2/2 is one case of many."""
        shape = shape if shape is not None else (pick("C", (1, 2, 3)), pick("H", SIZES[1:]), pick("W", SIZES[1:]))
        stride = (pick("stride", (1, 2)), pick("stride W", (1, 2)))
        kernel = tuple(_fitting_kernel(pick, n, s, name) for n, s, name in zip(shape[1:], stride, ("KH", "KW"), strict=True))
        return cls(kernel, stride), shape


class WindowTies:
    """The test domain of a max pool: in every window the maximum stands `margin` (relative to the largest
    input) above the rest, so that no rounding can move it to another element. Windows whose maximum is an
    exact 0 shared with others are allowed: after a ReLU or a dropout, whose backward sends 0 wherever the
    pool routes the gradient among them, that is where such zeros come from. (Drawn into a first layer's
    input, such a tie is settled by every engine alike, at the first element of the window.)"""

    def __init__(self, pool, margin=1e-4):
        self.pool, self.margin = pool, margin

    def _gaps(self, h):
        flat = windows(h, self.pool.kernel, self.pool.stride).reshape(*h.shape[:2], -1, np.prod(self.pool.kernel))
        top = np.sort(flat, axis=-1)
        return top[..., -1] - (top[..., -2] if top.shape[-1] > 1 else -np.inf), top[..., -1]

    def inside(self, h) -> bool:
        gap, top = self._gaps(h)
        return bool(np.all((gap >= Domain(margin=self.margin).gap(h)) | ((top == 0) & (gap == 0))))

    def untied(self, h) -> bool:
        """inside, without the exact zeros: where h is not a ReLU's output, an exact tie has no one right answer."""
        return bool(np.all(self._gaps(h)[0] >= Domain(margin=self.margin).gap(h)))

    def into(self, h):
        """Values spread out in the order they already have: distinct, at least 4 / size apart in [−2, 2]."""
        ranks = np.argsort(np.argsort(h, axis=None, kind="stable"), kind="stable").reshape(h.shape)
        return (-2 + 4 * ranks / max(h.size - 1, 1)).astype(h.dtype)


class MaxPool2D(_Pool):
    """Max pooling: each output is the largest input of its window (no padding; stride = kernel by default).

    x (N, C, H, W) -> y (N, C, H′, W′),  H′ = (H − KH) / SH + 1
    Forward:   y[n, c, i, j] = max_{p, q} cols[n, c, i, j, p, q]
    Backward:  dx[n, c, i·SH + p*, j·SW + q*] += δ[n, c, i, j]  at the argmax (p*, q*) of each window only:
               the max is locally the identity on the winning element and constant in the others, so its
               Jacobian row is one 1 at the winner. Overlapping windows (stride < kernel) add up.
    """

    kind = "max_pool2d"

    @property
    def domain(self):
        return WindowTies(self)

    def explain(self, a, b, p):
        (kh, kw), (sh, sw) = self.kernel, self.stride
        window = f"{a}[n, c, {_times(sh, 'i')} + p, {_times(sw, 'j')} + q]"
        return Text((f"{b}[n, c, i, j] = max over p < {kh}, q < {kw} of {window}    (stride {sh}, {sw})",),
                    (f"g_{a}[n, c, {_times(sh, 'i')} + p*, {_times(sw, 'j')} + q*] += g_{b}[n, c, i, j] at each "
                     f"window's argmax (p*, q*) only",),
                    (f"∂{b}[n, c, i, j]/∂{a} is 1 at its window's maximum and 0 elsewhere: one 1 per row"
                     + (", and where windows overlap one input can win several" if (sh, sw) != (kh, kw) else ""),))

    def forward(self, params, x):
        cols = windows(x, self.kernel, self.stride)
        flat = cols.reshape(*cols.shape[:4], -1)
        winner = flat.argmax(axis=-1)
        return np.take_along_axis(flat, winner[..., None], axis=-1)[..., 0], (x.shape, winner)

    def backward(self, cache, dy):
        shape, winner = cache
        dx = np.zeros(shape, dtype=dy.dtype)
        kw = self.kernel[1]
        for p, q, (rows, columns) in offsets(self.kernel, self.stride, dy.shape[2:]):
            dx[:, :, rows, columns] += dy * (winner == p * kw + q)
        return dx, {}


class AvgPool2D(_Pool):
    """Average pooling: each output is the mean of its window (no padding; stride = kernel by default).

    x (N, C, H, W) -> y (N, C, H′, W′)
    Forward:   y[n, c, i, j] = 1/(KH KW) Σ_{p, q} cols[n, c, i, j, p, q]
    Backward:  dx[n, c, i·SH + p, j·SW + q] += δ[n, c, i, j] / (KH KW)  for every (p, q) of the window
    """

    kind = "avg_pool2d"

    def explain(self, a, b, p):
        (kh, kw), (sh, sw) = self.kernel, self.stride
        at = f"[n, c, {_times(sh, 'i')} + p, {_times(sw, 'j')} + q]"
        return Text((f"{b}[n, c, i, j] = 1/{kh * kw} Σ_p<{kh},q<{kw} {a}{at}",),
                    (f"g_{a}{at} += g_{b}[n, c, i, j] / {kh * kw} for every (p, q) of the window",),
                    (f"∂{b}[n, c, i, j]/∂{a} is 1/{kh * kw} on its window's {kh * kw} inputs and 0 elsewhere",))

    def forward(self, params, x):
        return windows(x, self.kernel, self.stride).mean(axis=(-2, -1)), x.shape

    def backward(self, cache, dy):
        dx = np.zeros(cache, dtype=dy.dtype)
        share = dy / (self.kernel[0] * self.kernel[1])
        for _, _, (rows, columns) in offsets(self.kernel, self.stride, dy.shape[2:]):
            dx[:, :, rows, columns] += share
        return dx, {}


class Flatten(Layer):
    """Each example's array as one vector: (N, C, H, W) -> (N, C·H·W), in C order (as torch.flatten(x, 1)).

    Forward:   y = x.reshape(N, −1);   Backward: dx = dy.reshape(x.shape); its Jacobian is the identity.
    """

    kind = "flatten"

    def output_shape(self, shape):
        return (int(np.prod(shape)),)

    def explain(self, a, b, p):
        return Text((f"{b} = {a}.reshape(N, −1)    (C order: index c·H·W + u·W + v)",),
                    (f"g_{a} = g_{b}.reshape({a}.shape)",), (f"∂{b}/∂{a} is the identity, with the indices renamed",))

    def forward(self, params, x):
        return x.reshape(len(x), -1), x.shape

    def backward(self, cache, dy):
        return dy.reshape(cache), {}

    @classmethod
    def sample(cls, pick, shape=None):
        return cls(), shape if shape is not None else (pick("C", (1, 2, 3)), pick("H", SIZES), pick("W", SIZES))
