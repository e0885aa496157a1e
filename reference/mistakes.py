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

from .conv import Conv2D, MaxPool2D, offsets
from .layers import Dense, ReLU, Sigmoid, Tanh, sigmoid
from .losses import L2, MulticlassSVM, SoftmaxCrossEntropy, _Loss, log_sigmoid, log_softmax
from .network import Network
from .norm import BatchNorm, Dropout, LayerNorm


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


class BatchNormWithoutMeanTerms(BatchNorm):
    def backward(self, cache, dy):
        _, inv, gamma = cache
        _, grads = super().backward(cache, dy)
        return dy * gamma * inv, grads  # μ and σ² treated as constants: the two sums of the mean terms left out


class SpatialBatchNormCountingN(BatchNorm):
    def backward(self, cache, dy):
        xhat, inv, gamma = cache
        _, grads = super().backward(cache, dy)
        axes = self.axes(dy.ndim)
        g = dy * gamma
        m = dy.shape[0]  # N where N·H·W values share each channel's mean
        return inv / m * (m * g - g.sum(axis=axes, keepdims=True) - xhat * (g * xhat).sum(axis=axes, keepdims=True)), grads


class LayerNormOverTheBatch(LayerNorm):
    def axes(self, ndim):
        return (0,)  # the mean and variance of each feature over the batch, where each example's own belong

    def batch_axes(self, ndim):
        return (0,)


class ConvBackwardIgnoringStride(Conv2D):
    def backward(self, cache, dy):
        shape, padded, _, W = cache
        _, grads = super().backward(cache, dy)
        dxp = self.scatter(dy, W, padded, (1, 1))  # windows taken 1 apart, whatever the stride
        (ph, pw) = self.padding
        return dxp[:, :, ph:ph + shape[2], pw:pw + shape[3]], grads


class ConvBackwardCroppingPaddingWrong(Conv2D):
    def backward(self, cache, dy):
        shape, padded, _, W = cache
        _, grads = super().backward(cache, dy)
        # the padded gradient cut at its corner, [:H, :W], where the padding comes off each side
        return self.scatter(dy, W, padded, self.stride)[:, :, :shape[2], :shape[3]], grads


class MaxPoolGradientToTheWholeWindow(MaxPool2D):
    def backward(self, cache, dy):
        shape, _ = cache
        dx = np.zeros(shape, dtype=dy.dtype)
        for _, _, (rows, columns) in offsets(self.kernel, self.stride, dy.shape[2:]):
            dx[:, :, rows, columns] += dy  # every element of the window, where only its maximum belongs
        return dx, {}


class DropoutWithoutRescale(Dropout):
    def backward(self, cache, dy):
        return dy * (cache > 0).astype(dy.dtype), {}  # the mask alone, where mask / keep belongs


class SVMCorrectClassOnce(MulticlassSVM):
    def backward(self, cache, dloss=1.0):
        positive, y, s = cache
        positive = positive.astype(y.dtype)
        return dloss * s * (positive - y * (positive.sum(axis=-1, keepdims=True) > 0)), {}  # −1, not −count


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
    "batchnorm_without_mean_terms": ("batch norm's backward without the mean terms: μ and σ² treated as constants, "
                                     "dx = dy ⊙ γ / σ", BatchNorm, BatchNormWithoutMeanTerms),
    "spatial_batchnorm_counting_n": ("spatial batch norm's backward counting N where N·H·W values share each mean",
                                     BatchNorm, SpatialBatchNormCountingN),
    "layernorm_over_the_batch": ("layer norm normalizing each feature over the batch, where each example's own "
                                 "features belong", LayerNorm, LayerNormOverTheBatch),
    "conv_backward_ignores_stride": ("conv backward sending the gradient to windows 1 apart, whatever the stride",
                                     Conv2D, ConvBackwardIgnoringStride),
    "conv_backward_crops_padding_wrong": ("conv backward cutting the padded gradient at its corner, [:H, :W], where the "
                                          "padding comes off each side", Conv2D, ConvBackwardCroppingPaddingWrong),
    "maxpool_gradient_to_whole_window": ("the max-pool gradient sent to every element of the window, where only its "
                                         "maximum belongs", MaxPool2D, MaxPoolGradientToTheWholeWindow),
    "dropout_without_rescale": ("dropout backward without the 1/keep: the mask alone", Dropout, DropoutWithoutRescale),
    "svm_correct_class_once": ("the SVM's correct-class gradient −1 where minus the count of positive margins belongs",
                               MulticlassSVM, SVMCorrectClassOnce),
    "scaled_by_1.001": ("every gradient scaled by 1.001", Network, ScaledNetwork),
}


# Where a mistake changes nothing, it cannot be seen: name -> when(part, the shape of one example it takes).
SHOWS = {
    "spatial_batchnorm_counting_n": lambda layer, shape: len(shape) == 3 and shape[1] * shape[2] > 1,
    "conv_backward_ignores_stride": lambda layer, shape: layer.stride != (1, 1),
    "conv_backward_crops_padding_wrong": lambda layer, shape: layer.padding != (0, 0),
    "maxpool_gradient_to_whole_window": lambda layer, shape: layer.kernel != (1, 1),
    "dropout_without_rescale": lambda layer, shape: layer.keep < 1,
    "svm_correct_class_once": lambda loss, shape: shape[-1] > 2,  # with 2 classes at most one margin is positive
}


def applies(net: Network, name: str) -> bool:
    """Whether the network has a part that mistake `name` breaks, where the mistake shows."""
    target = MISTAKES[name][1]
    if target is Network:
        return True
    shows = SHOWS.get(name, lambda part, shape: True)
    inputs = [net.input_shape, *net.shapes]
    taken = [*((layer, inputs[i]) for i, (layer, _) in enumerate(net.layers)), (net.loss_layer, inputs[-1]),
             *((penalty, ()) for penalty, _ in net.penalties)]
    return any(isinstance(part, target) and shows(part, shape) for part, shape in taken)


def _swap(obj, target, broken):
    if not isinstance(obj, target):
        return obj
    cls = broken if issubclass(broken, type(obj)) else _mixed(type(obj), broken)
    swapped = copy.copy(obj)
    swapped.__class__ = cls
    return swapped


def variant(part, name: str):
    """The known-wrong variant `name` of one layer or loss (the part itself where the mistake is not about it)."""
    _, target, broken = MISTAKES[name]
    return _swap(part, target, broken)


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
