"""Hand-derived backpropagation in pure NumPy, layer by layer, readable as math.

    import numpy as np, reference
    net = reference.sigmoid_mse(3, 4, 1)                 # or reference.sigmoid_softmax_ce(10, 5, 10)
    params = net.init(np.random.default_rng(0))          # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)       # grads: the keys of params plus "x"

Options on both networks: layout="row" (x W, CS224n) or "column" (W x, textbook and torch.nn.Linear),
reduction="mean" or "sum" over the batch. Layers live in reference.layers, losses in reference.losses;
this package never imports a deep-learning framework.
"""

from .layers import LAYERS, Dense, Sigmoid
from .losses import LOSSES, MSE, SoftmaxCrossEntropy
from .network import NETWORKS, Network, Spec, Step, sigmoid_mse, sigmoid_softmax_ce

__all__ = [
    "LAYERS",
    "LOSSES",
    "MSE",
    "NETWORKS",
    "Dense",
    "Network",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Spec",
    "Step",
    "sigmoid_mse",
    "sigmoid_softmax_ce",
]
