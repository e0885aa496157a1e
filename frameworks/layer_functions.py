"""The layer functions of CS231n assignment 2, as the assignment calls them: each backward with its forward.

    out, cache = conv_forward_naive(x, w, b, {"stride": 2, "pad": 1})
    dx, dw, db = conv_backward_naive(dout, cache)

Each entry draws one configuration, widely (strides 1 to 3, padding 0 to 2, non-square kernels and
inputs, overlapping and non-square pooling windows, N ≠ D, dropout keep fractions other than ½):
the reference layer it stands for (whose op every checker has), the student's arguments, and the
features of the configuration that a failure can be narrowed down to ("only when padding = 0").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import reference

NS, DS, IMAGE, CHANNELS = (2, 3, 4, 5), (2, 3, 4, 5, 6), (3, 4, 5, 6), (1, 2, 3)


@dataclass
class Config:
    """One drawn configuration: the reference steps it stands for (in order), the shapes, the call."""

    layers: list  # reference layers, applied in order (affine: Flatten, then Dense)
    shape: tuple  # x's shape, with the batch
    params: dict  # the student's name for each param -> (the layer index, its local name)
    extra: dict = field(default_factory=dict)  # the forward's last argument: conv_param, bn_param, ...
    features: dict = field(default_factory=dict)  # {("padding = 0", "padding > 0"): True, ...}
    classes: int = 0  # a loss: the K classes of its integer labels


def affine(pick):
    n, rest = pick("N", NS), pick("x", ((pick("D", DS),), (pick("d1", (2, 3)), pick("d2", (2, 3)))))
    d, m = int(np.prod(rest)), pick("M", DS)
    return Config([reference.Flatten(), reference.Dense(d, m)], (n, *rest), {"w": (1, "W"), "b": (1, "b")},
                  features={("N ≠ D", "N = D"): n != d, ("x of more than 2 dimensions", "x of 2 dimensions"): len(rest) > 1})


def relu(pick):
    return Config([reference.ReLU()], (pick("N", NS), pick("D", DS)), {})


def conv(pick):
    n = pick("N", NS)
    layer, (c, h, w) = reference.Conv2D.sample(pick)
    stride, pad = pick("stride", (1, 2, 3)), pick("pad", (0, 1, 2))  # CS231n: one stride and one pad for both axes
    kh, kw = (pick(name, tuple(k for k in range(1, min(4, size + 2 * pad) + 1) if (size + 2 * pad - k) % stride == 0))
              for name, size in (("HH", h), ("WW", w)))
    layer = reference.Conv2D(c, layer.out_channels, (kh, kw), stride, pad)
    return Config([layer], (n, c, h, w), {"w": (0, "W"), "b": (0, "b")}, {"stride": stride, "pad": pad},
                  {("padding = 0", "padding > 0"): pad == 0, ("stride = 1", "stride > 1"): stride == 1,
                   ("square kernels", "non-square kernels"): kh == kw, ("square inputs", "non-square inputs"): h == w,
                   ("C > 1", "C = 1"): c > 1, ("F > 1", "F = 1"): layer.out_channels > 1})


def max_pool(pick):
    n, c, h, w = pick("N", NS), pick("C", CHANNELS), pick("H", IMAGE), pick("W", IMAGE)
    stride = pick("stride", (1, 2, 3))
    ph, pw = (pick(name, tuple(k for k in range(1, min(4, size) + 1) if (size - k) % stride == 0))
              for name, size in (("pool_height", h), ("pool_width", w)))
    return Config([reference.MaxPool2D((ph, pw), stride)], (n, c, h, w), {},
                  {"pool_height": ph, "pool_width": pw, "stride": stride},
                  {("pooling windows overlap (stride < pool size)", "pooling windows do not overlap"):
                   stride < max(ph, pw), ("square windows", "non-square windows"): ph == pw, ("C > 1", "C = 1"): c > 1})


def _norm(cls, pick, shape, spatial=False):
    layer = cls(shape[1])
    n = shape[0]
    return Config([layer], shape, {"gamma": (0, "gamma"), "beta": (0, "beta")}, {"mode": "train", "eps": layer.eps},
                  {("N ≠ D", "N = D"): n != shape[1]} if not spatial else
                  {("H·W > 1", "H·W = 1"): shape[2] * shape[3] > 1, ("N ≠ C", "N = C"): n != shape[1],
                   ("C > 1", "C = 1"): shape[1] > 1})


def batchnorm(pick):
    return _norm(reference.BatchNorm, pick, (pick("N", NS), pick("D", DS)))


def spatial_batchnorm(pick):
    return _norm(reference.BatchNorm, pick, (pick("N", NS), pick("C", CHANNELS), pick("H", IMAGE), pick("W", IMAGE)),
                 spatial=True)


def layernorm(pick):
    config = _norm(reference.LayerNorm, pick, (pick("N", NS), pick("D", DS)))
    config.extra = {"eps": config.layers[0].eps}
    return config


def dropout(pick):
    p = pick("p", (0.3, 0.8, 0.6, 0.25))  # never ½, where keeping and dropping p are the same
    # enough units that the fraction a forward keeps tells keeping p from dropping p
    return Config([reference.Dropout(p)], (pick("N", (20, 30)), pick("D", (20, 40))), {},
                  {"p": p, "mode": "train", "seed": 0}, {("p < ½", "p > ½"): p < 0.5})


def svm_loss(pick):
    k = pick("C", (2, 3, 4, 5))
    return Config([], (pick("N", NS), k), {}, classes=k, features={("more than 2 classes", "2 classes"): k > 2})


def softmax_loss(pick):
    return svm_loss(pick)


@dataclass(frozen=True)
class LayerFunction:
    forward: str | None  # the forward it is called after; None for a loss, which returns (loss, dx) itself
    returns: tuple[str, ...]  # what the backward (or the loss) returns, in order
    draw: object
    loss: type | None = None  # the reference loss, for svm_loss and softmax_loss


FUNCTIONS = {
    "affine_backward": LayerFunction("affine_forward", ("x", "w", "b"), affine),
    "relu_backward": LayerFunction("relu_forward", ("x",), relu),
    "conv_backward_naive": LayerFunction("conv_forward_naive", ("x", "w", "b"), conv),
    "max_pool_backward_naive": LayerFunction("max_pool_forward_naive", ("x",), max_pool),
    "batchnorm_backward": LayerFunction("batchnorm_forward", ("x", "gamma", "beta"), batchnorm),
    "batchnorm_backward_alt": LayerFunction("batchnorm_forward", ("x", "gamma", "beta"), batchnorm),
    "spatial_batchnorm_backward": LayerFunction("spatial_batchnorm_forward", ("x", "gamma", "beta"), spatial_batchnorm),
    "layernorm_backward": LayerFunction("layernorm_forward", ("x", "gamma", "beta"), layernorm),
    "dropout_backward": LayerFunction("dropout_forward", ("x",), dropout),
    "svm_loss": LayerFunction(None, ("loss", "x"), svm_loss, reference.MulticlassSVM),
    "softmax_loss": LayerFunction(None, ("loss", "x"), softmax_loss, reference.SoftmaxCrossEntropy),
}
