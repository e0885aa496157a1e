"""Hand-derived backpropagation in pure NumPy, layer by layer, readable as math.

    import numpy as np, reference
    net = reference.mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.05)
    net = reference.sigmoid_mse(3, 4, 1)                 # or reference.sigmoid_softmax_ce(10, 5, 10)
    net = reference.sequential([reference.Conv2D(3, 4, 3, padding=1), reference.ReLU(), reference.MaxPool2D(2),
                                reference.Flatten(), reference.Dense(64, 10)], input_shape=(3, 8, 8))
    params = net.init(np.random.default_rng(0))          # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)       # grads: the keys of params plus "x"

Options on every mlp: layout="row" (x W, CS224n) or "column" (W x, textbook and torch.nn.Linear),
reduction="mean" or "sum" over the batch, l2=λ weight decay. Layers live in reference.layers (the
LAYERS registry; images in reference.conv, normalization and dropout in reference.norm), losses and
penalties in reference.losses; this package never imports a deep-learning framework.
"""

from .base import Domain, Layer
from .builders import NETWORKS, OUTPUTS, mlp, sequential, sigmoid_mse, sigmoid_softmax_ce
from .conv import AvgPool2D, Conv2D, Flatten, MaxPool2D
from .layers import ACTIVATIONS, LAYERS, Activation, Dense, Identity, ReLU, Sigmoid, Softplus, Tanh
from .losses import L2, LOSSES, MSE, PENALTIES, MulticlassSVM, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from .network import Network, Spec, Step
from .norm import BatchNorm, Dropout, LayerNorm

__all__ = [
    "ACTIVATIONS", "L2", "LAYERS", "LOSSES", "MSE", "NETWORKS", "OUTPUTS", "PENALTIES",
    "Activation", "AvgPool2D", "BatchNorm", "Conv2D", "Dense", "Domain", "Dropout", "Flatten", "Identity",
    "Layer", "LayerNorm", "MaxPool2D", "MulticlassSVM", "Network", "ReLU", "Sigmoid", "SigmoidBinaryCrossEntropy",
    "SoftmaxCrossEntropy", "Softplus", "Spec", "Step", "Tanh",
    "mlp", "sequential", "sigmoid_mse", "sigmoid_softmax_ce",
]
