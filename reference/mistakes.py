"""Classic backpropagation mistakes, each a known-wrong variant of a reference layer or network.

The test suite's power test runs every variant through the same property checks as the real
reference and asserts that each one is caught: a suite that cannot tell these apart from the
correct gradients would prove nothing.

    broken = mistakes.apply(net, "missing_sigmoid_derivative")
    broken.loss_and_grads(params, x, y)      # same call, wrong gradients
"""

from __future__ import annotations

import copy

import numpy as np

from .layers import Dense, ReLU, Sigmoid, Tanh, sigmoid
from .losses import L2, SoftmaxCrossEntropy, _Loss, log_sigmoid, log_softmax
from .network import Network


class SigmoidWithoutDerivative(Sigmoid):
    def backward(self, cache, dy):
        return dy, {}  # forgot ⊙ σ′(z)


class SigmoidValueAsDerivative(Sigmoid):
    def derivative(self, z, a):
        return a  # σ(z) where σ′(z) = σ(z)(1 − σ(z)) belongs


class SigmoidDerivativeAtZ(Sigmoid):
    def derivative(self, z, a):
        return z * (1 - z)  # the helper σ′(s) = s(1 − s), which expects s = σ(z), handed z itself


class SigmoidDerivativeOfActivation(Sigmoid):
    def derivative(self, z, a):
        s = sigmoid(a)
        return s * (1 - s)  # the helper σ′(x) = σ(x)(1 − σ(x)), which expects z, handed a = σ(z): σ′(σ(z))


class SigmoidDerivativeTwice(Sigmoid):
    def derivative(self, z, a):
        return (a * (1 - a)) ** 2  # ⊙ σ′(z) applied twice


class SoftmaxCrossEntropyWithSigmoid(SoftmaxCrossEntropy):
    def forward(self, z, y):
        s = self.scale(len(z))
        return -s * np.sum(y * log_sigmoid(z)), (sigmoid(z), y, s)  # ŷ = σ(z) where softmax(z) belongs

    def predict(self, z):
        return sigmoid(z)


class SoftmaxOverTheBatch(SoftmaxCrossEntropy):
    def forward(self, z, y):
        s = self.scale(len(z))
        logp = log_softmax(z.T).T  # normalized down each column, over the examples, where each row belongs
        return -s * np.sum(y * logp), (np.exp(logp), y, s)


class SoftmaxOverTheMatrix(SoftmaxCrossEntropy):
    def forward(self, z, y):
        s = self.scale(len(z))
        shifted = z - z.max()
        logp = shifted - np.log(np.sum(np.exp(shifted)))  # one normalization over every entry of the batch
        return -s * np.sum(y * logp), (np.exp(logp), y, s)


class ReLUPassingNegatives(ReLU):
    def derivative(self, z, a):
        return np.ones_like(z)  # the gradient passed through where z < 0 too, where 1[z > 0] belongs


class TanhDerivativeNotSquared(Tanh):
    def derivative(self, z, a):
        return 1 - a  # 1 − tanh where 1 − tanh² belongs


class L2WithoutFactorTwo(L2):
    def backward(self, cache, dloss=1.0):
        return {key: dloss * self.strength * W for key, W in cache.items()}  # λ W where 2 λ W belongs


class DenseTransposedWeight(Dense):
    def backward(self, cache, dz):
        W = cache[1]
        _, grads = super().backward(cache, dz)
        return (dz @ W if self.layout == "row" else dz @ W.T), grads  # W where Wᵀ belongs, and vice versa


class DenseBiasNotSummed(Dense):
    def backward(self, cache, dz):
        dx, grads = super().backward(cache, dz)
        return dx, {**grads, "b": dz.mean(axis=0)}  # averaged where Σ_n δ_n belongs; δ already carries the 1/N


class LossWithoutMeanFactor(_Loss):
    def backward(self, cache, dloss=1.0):
        *rest, _ = cache
        return super().backward((*rest, 1.0), dloss)  # the loss is averaged, its gradient is not


class LossSignFlipped(_Loss):
    def backward(self, cache, dloss=1.0):
        dz, grads = super().backward(cache, dloss)
        return -dz, grads  # y − ŷ where ŷ − y belongs


class SoftmaxWithoutSubtractingY(SoftmaxCrossEntropy):
    def backward(self, cache, dloss=1.0):
        yhat, _, s = cache
        return dloss * s * yhat, {}  # ŷ where ŷ − y belongs


class ScaledNetwork(Network):
    def loss_and_grads(self, params, x, y):
        loss, grads = super().loss_and_grads(params, x, y)
        return loss, {k: 1.001 * g for k, g in grads.items()}  # every gradient 0.1 % too large


def _mixed(base, mixin):
    return type(f"{mixin.__name__}{base.__name__}", (mixin, base), {})


# name: (what the mistake is, the reference class it breaks, the broken class or a mixin for it)
MISTAKES = {
    "missing_sigmoid_derivative": ("missing the sigmoid derivative σ′", Sigmoid, SigmoidWithoutDerivative),
    "sigmoid_instead_of_derivative": ("σ used instead of σ′", Sigmoid, SigmoidValueAsDerivative),
    "sigmoid_derivative_at_z": ("σ′ evaluated at z instead of σ(z): z(1 − z) where σ(z)(1 − σ(z)) belongs",
                                Sigmoid, SigmoidDerivativeAtZ),
    "sigmoid_derivative_of_activation": ("σ′ evaluated at σ(z) instead of z: σ′(σ(z)) where σ′(z) = σ(z)(1 − σ(z)) "
                                         "belongs", Sigmoid, SigmoidDerivativeOfActivation),
    "sigmoid_derivative_twice": ("σ′ applied twice", Sigmoid, SigmoidDerivativeTwice),
    "softmax_over_the_batch": ("the softmax taken over the batch (axis 0) where each example's row belongs",
                               SoftmaxCrossEntropy, SoftmaxOverTheBatch),
    "softmax_over_the_matrix": ("the softmax normalized over the whole matrix where each example's row belongs",
                                SoftmaxCrossEntropy, SoftmaxOverTheMatrix),
    "sigmoid_output_for_softmax": ("a sigmoid output where the softmax belongs: ŷ = σ(z) in the loss and in ŷ − y",
                                   SoftmaxCrossEntropy, SoftmaxCrossEntropyWithSigmoid),
    "transposed_weight": ("transposed: W used where Wᵀ belongs in the backward", Dense, DenseTransposedWeight),
    "bias_not_summed": ("bias gradient not summed over the batch (averaged)", Dense, DenseBiasNotSummed),
    "missing_mean_factor": ("missing 1/N (mean over the batch)", _Loss, LossWithoutMeanFactor),
    "sign_flipped": ("sign flipped", _Loss, LossSignFlipped),
    "softmax_without_y": ("softmax gradient without subtracting y", SoftmaxCrossEntropy, SoftmaxWithoutSubtractingY),
    "relu_passes_negatives": ("ReLU gradient passed through where the input is < 0", ReLU, ReLUPassingNegatives),
    "tanh_derivative_not_squared": ("1 − tanh used instead of 1 − tanh²", Tanh, TanhDerivativeNotSquared),
    "l2_missing_factor_2": ("L2 gradient missing the factor 2 (λ W instead of 2 λ W)", L2, L2WithoutFactorTwo),
    "scaled_by_1.001": ("every gradient scaled by 1.001", Network, ScaledNetwork),
}


def applies(net: Network, name: str) -> bool:
    """Whether the network has the part that mistake `name` breaks."""
    target = MISTAKES[name][1]
    return target is Network or any(isinstance(part, target) for part in net.parts)


def _swap(obj, target, broken):
    if not isinstance(obj, target):
        return obj
    cls = broken if issubclass(broken, type(obj)) else _mixed(type(obj), broken)
    swapped = copy.copy(obj)
    swapped.__class__ = cls
    return swapped


def places(net: Network, name: str) -> list[int]:
    """The indices in net.layers of the layers mistake `name` can be made in, one at a time."""
    target = MISTAKES[name][1]
    return [i for i, (layer, _) in enumerate(net.layers) if isinstance(layer, target)]


def apply(net: Network, name: str, only: int | None = None) -> Network:
    """A copy of `net` with mistake `name` made in every part it applies to, or only in net.layers[only]."""
    if name not in MISTAKES:
        raise ValueError(f"unknown mistake {name!r}; expected one of {', '.join(MISTAKES)}")
    if not applies(net, name):
        raise ValueError(f"mistake {name!r} does not apply to {net!r}")
    _, target, broken = MISTAKES[name]
    if only is not None:
        if only not in places(net, name):
            raise ValueError(f"mistake {name!r} cannot be made in layer {only} of {net!r}")
        out = copy.copy(net)
        out.layers = tuple((_swap(layer, target, broken) if i == only else layer, keys)
                           for i, (layer, keys) in enumerate(net.layers))
        return out
    return _swap(net, target, broken).with_parts(lambda part: _swap(part, target, broken))
