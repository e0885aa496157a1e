"""Hand-derived backpropagation in pure NumPy, layer by layer, readable as math.

    import numpy as np, reference
    net = reference.mlp(4, 10, 3, hidden="relu", output="softmax", loss="cross_entropy", l2=0.05)
    net = reference.sigmoid_mse(3, 4, 1)                 # or reference.sigmoid_softmax_ce(10, 5, 10)
    params = net.init(np.random.default_rng(0))          # {"W1", "b1", "W2", "b2"}
    loss, grads = net.loss_and_grads(params, x, y)       # grads: the keys of params plus "x"

Options on every network: layout="row" (x W, CS224n) or "column" (W x, textbook and torch.nn.Linear),
reduction="mean" or "sum" over the batch, l2=λ weight decay. Layers live in reference.layers (the
LAYERS registry), losses and penalties in reference.losses; this package never imports a
deep-learning framework.
"""

from .layers import ACTIVATIONS, LAYERS, Activation, Dense, Domain, Identity, ReLU, Sigmoid, Softplus, Tanh
from .losses import L2, LOSSES, MSE, PENALTIES, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from .network import NETWORKS, OUTPUTS, Network, Spec, Step, mlp, sigmoid_mse, sigmoid_softmax_ce

__all__ = [
    "ACTIVATIONS",
    "L2",
    "LAYERS",
    "LOSSES",
    "MSE",
    "NETWORKS",
    "OUTPUTS",
    "PENALTIES",
    "Activation",
    "Dense",
    "Domain",
    "Identity",
    "Network",
    "ReLU",
    "Sigmoid",
    "SigmoidBinaryCrossEntropy",
    "SoftmaxCrossEntropy",
    "Softplus",
    "Spec",
    "Step",
    "Tanh",
    "mlp",
    "sigmoid_mse",
    "sigmoid_softmax_ce",
]
