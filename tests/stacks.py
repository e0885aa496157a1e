"""Networks of any layers, drawn from the registry: each layer says what it takes and how it is drawn.

A stack is drawn through `pick(name, options)`, one Hypothesis choice per option a layer asks for
(reference.Layer.sample): the kinds in the stack, their options (stride, padding, kernel, keep...),
the sizes. The families here are the networks students derive after the MLP:

    convnet           CS231n's ThreeLayerConvNet: conv - relu - 2×2 max pool - affine - relu - affine - softmax
    batchnorm_mlp     affine - batch norm - relu - dropout, 1 or 2 times, then affine - softmax (FullyConnectedNet)
    conv_batchnorm    conv - spatial batch norm - relu - average pool - affine - SVM
    layernorm_svm     affine - layer norm - tanh - dropout, 1 or 2 times, then affine - multiclass SVM
    sequential        1 to 4 layers of any registered kind that takes the shape so far, then affine and any loss

Images are kept small, (C ≤ 3, H, W ≤ 6): the oracle differentiates along every parameter, and an
image layer's mistakes show on a 4×5 image as well as on a 32×32 one.
"""

from __future__ import annotations

import reference
from reference.builders import OUTPUTS

CHANNELS, IMAGE, WIDTHS = (1, 2, 3), (2, 3, 4, 5, 6), tuple(range(1, 7))


def _image(pick):
    return pick("C", CHANNELS), pick("H", IMAGE), pick("W", IMAGE)


def convnet(pick):
    c, h, w = pick("C", CHANNELS), pick("H", (2, 4, 6)), pick("W", (2, 4, 6))
    f, size = pick("F", (1, 2, 3)), pick("filter", (1, 3, 5))  # CS231n pads (size − 1) / 2: the image keeps its size
    hidden, k = pick("hidden", WIDTHS), pick("K", (2, 3, 4))
    layers = [reference.Conv2D(c, f, size, padding=(size - 1) // 2), reference.ReLU(), reference.MaxPool2D(2),
              reference.Flatten(), reference.Dense(f * (h // 2) * (w // 2), hidden), reference.ReLU(),
              reference.Dense(hidden, k)]
    return layers, (c, h, w), "softmax", "cross_entropy"


def batchnorm_mlp(pick):
    d = pick("D", WIDTHS)
    layers, width = [], d
    for _ in range(pick("depth", (1, 2))):
        h = pick("H", WIDTHS)
        layers += [reference.Dense(width, h), reference.BatchNorm(h), reference.ReLU(),
                   reference.Dropout(pick("keep", (0.5, 0.8, 0.3)), pick("seed", (0, 1, 2, 3)))]
        width = h
    return [*layers, reference.Dense(width, pick("K", (2, 3, 4)))], (d,), "softmax", "cross_entropy"


def conv_batchnorm(pick):
    image = _image(pick)
    conv, _ = reference.Conv2D.sample(pick, image)
    shape = conv.output_shape(image)
    pool, _ = reference.AvgPool2D.sample(pick, shape)
    c, h, w = pool.output_shape(shape)
    layers = [conv, reference.BatchNorm(conv.out_channels), reference.ReLU(), pool, reference.Flatten(),
              reference.Dense(c * h * w, pick("K", (2, 3, 4)))]
    return layers, image, "identity", "svm"


def layernorm_svm(pick):
    d = pick("D", WIDTHS)
    layers, width = [], d
    for _ in range(pick("depth", (1, 2))):
        h = pick("H", WIDTHS[reference.LayerNorm.fewest_features - 1:])  # see reference.LayerNorm.fewest_features
        layers += [reference.Dense(width, h), reference.LayerNorm(h), reference.Tanh(),
                   reference.Dropout(pick("keep", (0.8, 0.5, 0.6)), pick("seed", (0, 1, 2, 3)))]
        width = h
    return [*layers, reference.Dense(width, pick("K", (2, 3, 4)))], (d,), "identity", "svm"


def sequential(pick, first=None, pair=None):
    """Any registered layers that fit, in any order: what a student's own stack may look like. `first`: the
    kind of the first layer; `pair`: the (output, loss); both drawn where not given."""
    ranks = reference.LAYERS[first].ranks if first else None
    fewest = max(2, reference.LAYERS[first].fewest_features if first else 1)  # see reference.Layer.fewest_features
    inputs = ((pick("D", WIDTHS[fewest - 1:]),), _image(pick))
    shape = inputs[0] if ranks == (1,) else inputs[1] if ranks == (3,) else pick("input", inputs)
    input_shape, layers, normalized = shape, [], False
    for depth in range(pick("depth", (1, 2, 3, 4))):
        kinds = [kind for kind, cls in reference.LAYERS.items() if cls.takes(shape)
                 and not (cls.numbered == "norm" and normalized)  # two gamma{l}, beta{l} with no weight layer between
                 and shape[0] >= cls.fewest_features]
        cls = reference.LAYERS[first if depth == 0 and first else pick("kind", tuple(kinds))]
        layer, _ = cls.sample(pick, shape)
        normalized = (normalized or layer.numbered == "norm") and layer.numbered != "weight"
        layers.append(layer)
        shape = layer.output_shape(shape)
    if len(shape) != 1:
        layers.append(reference.Flatten())
        shape = layers[-1].output_shape(shape)
    output, loss = pair or pick("output, loss", tuple(OUTPUTS))
    least = reference.LOSSES[OUTPUTS[output, loss][1]].min_outputs
    layers.append(reference.Dense(shape[0], pick("K", tuple(range(least, 5)))))
    return layers, input_shape, output, loss
