"""Bad input raises ValueError (TypeError for wrong types) whose message names the argument."""

import numpy as np
import pytest

import reference

mse = reference.sigmoid_mse(3, 4, 2)
ce = reference.sigmoid_softmax_ce(3, 4, 5)
P = mse.init(np.random.default_rng(0))
Q = ce.init(np.random.default_rng(0))
X = np.linspace(-1, 1, 6).reshape(2, 3)
Y = np.array([[0.1, 0.9], [0.5, 0.5]])
LABELS = np.array([0, 4])


def _with(params, key, value):
    return {**params, key: value}


def _without(params, key):
    return {k: v for k, v in params.items() if k != key}


def _poison(a, value):
    a = np.array(a, dtype=np.float64)
    a.flat[1] = value
    return a


# (id, call, exception, the words the message must contain)
CASES = [
    # sizes and options
    ("zero inputs", lambda: reference.sigmoid_mse(0, 4, 1), ValueError, "D (inputs)"),
    ("negative hidden", lambda: reference.sigmoid_mse(3, -4, 1), ValueError, "H (hidden units)"),
    ("zero outputs", lambda: reference.sigmoid_mse(3, 4, 0), ValueError, "K (outputs)"),
    ("float size", lambda: reference.sigmoid_mse(3.0, 4, 1), TypeError, "D (inputs)"),
    ("bool size", lambda: reference.sigmoid_mse(3, True, 1), TypeError, "H (hidden units)"),
    ("softmax with K=1", lambda: reference.sigmoid_softmax_ce(3, 4, 1), ValueError, "K (classes"),
    ("unknown layout", lambda: reference.sigmoid_mse(3, 4, 1, layout="rows"), ValueError, "layout"),
    ("unknown reduction", lambda: reference.sigmoid_softmax_ce(3, 4, 2, reduction="avg"), ValueError, "reduction"),
    ("rng not a generator", lambda: mse.init("seed"), TypeError, "rng"),
    ("layout not a string", lambda: reference.sigmoid_mse(3, 4, 1, layout=None), TypeError, "layout"),
    ("reduction as an array", lambda: reference.sigmoid_mse(3, 4, 1, reduction=np.array(["sum"])), TypeError, "reduction"),
    ("init dtype", lambda: mse.init(np.random.default_rng(0), dtype=np.int32), TypeError, "dtype"),
    ("init dtype unknown", lambda: mse.init(np.random.default_rng(0), dtype="float33"), TypeError, "dtype"),
    ("negative seed", lambda: mse.init(-1), ValueError, "rng (a seed)"),
    # mlp: depth, kinds, (output, loss) pairs, l2
    ("mlp with one size", lambda: reference.mlp(3), ValueError, "sizes must give at least"),
    ("mlp zero hidden", lambda: reference.mlp(3, 4, 0, 2), ValueError, "H2 (hidden units)"),
    ("mlp unknown hidden", lambda: reference.mlp(3, 4, 1, hidden="gelu"), ValueError, "hidden must be one of"),
    ("mlp softmax hidden", lambda: reference.mlp(3, 4, 1, hidden="softmax"), ValueError, "hidden must be one of"),
    ("mlp hidden count", lambda: reference.mlp(3, 4, 4, 1, hidden=("tanh",)), ValueError, "one per hidden layer: 2"),
    ("mlp hidden not a kind", lambda: reference.mlp(3, 4, 1, hidden=3), TypeError, "hidden"),
    ("mlp softmax with mse", lambda: reference.mlp(3, 4, 2, output="softmax", loss="mse"), ValueError,
     "output='softmax' is not supported with loss='mse'"),
    ("mlp tanh with cross-entropy", lambda: reference.mlp(3, 4, 2, output="tanh", loss="cross_entropy"), ValueError,
     "output='tanh' is not supported with loss='cross_entropy'; loss='cross_entropy' takes output 'softmax'"),
    ("mlp identity with bce", lambda: reference.mlp(3, 4, 2, output="identity", loss="binary_cross_entropy"),
     ValueError, "takes output 'sigmoid'"),
    ("mlp unknown loss", lambda: reference.mlp(3, 4, 2, loss="hinge"), ValueError, "loss must be one of"),
    ("mlp unknown output", lambda: reference.mlp(3, 4, 2, output="swish"), ValueError, "output must be one of"),
    ("mlp softmax with K=1", lambda: reference.mlp(3, 4, 1, output="softmax", loss="cross_entropy"), ValueError,
     "K (classes, loss='cross_entropy' needs at least 2)"),
    ("a pool that does not fit", lambda: reference.sequential([reference.MaxPool2D(3)], input_shape=(1, 8, 8)), ValueError,
     "layer 0: reference.MaxPool2D(3) does not fit input shape (1, 8, 8) along H: (size 8 − kernel 3) / stride 3 + 1 "
     "must be a whole number ≥ 1; change the kernel or the stride"),
    ("sequential svm with K=1", lambda: reference.sequential([reference.Dense(3, 1)], input_shape=(3,), output="identity",
                                                            loss="svm"), ValueError,
     "K ≥ 2 for loss='svm'; the last layer gives (1,): end with a reference.Dense of 2 outputs or more"),
    ("mlp svm with K=1", lambda: reference.mlp(3, 4, 1, output="identity", loss="svm"), ValueError,
     "K (classes, loss='svm' needs at least 2) must be >= 2, got 1"),
    ("negative l2", lambda: reference.mlp(3, 4, 1, l2=-0.1), ValueError, "l2"),
    ("NaN l2", lambda: reference.sigmoid_mse(3, 4, 1, l2=float("nan")), ValueError, "l2"),
    ("l2 as a string", lambda: reference.mlp(3, 4, 1, l2="0.1"), TypeError, "l2"),
    ("shorthand with hidden", lambda: reference.sigmoid_mse(3, 4, 1, hidden="relu"), TypeError, "hidden"),
    ("bce target above 1", lambda: reference.mlp(3, 4, 2, loss="binary_cross_entropy").loss_and_grads(
        P, X, np.array([[0.0, 1.5], [1.0, 0.0]])), ValueError, "[0, 1]"),
    ("bce target shape", lambda: reference.mlp(3, 4, 2, loss="binary_cross_entropy").loss_and_grads(
        P, X, np.array([0, 1])), ValueError, "y has shape (2,)"),
    # params
    ("params not a dict", lambda: mse.loss_and_grads([P["W1"]], X, Y), TypeError, "params"),
    ("missing key", lambda: mse.loss_and_grads(_without(P, "b2"), X, Y), ValueError, "'b2'"),
    ("extra key", lambda: mse.loss_and_grads({**P, "W3": P["W2"]}, X, Y), ValueError, "'W3'"),
    ("transposed weight", lambda: mse.loss_and_grads(_with(P, "W1", P["W1"].T), X, Y), ValueError, "params['W1']"),
    ("bias as column", lambda: mse.loss_and_grads(_with(P, "b1", P["b1"][:, None]), X, Y), ValueError, "params['b1']"),
    ("NaN weight", lambda: mse.loss_and_grads(_with(P, "W2", _poison(P["W2"], np.nan)), X, Y), ValueError, "params['W2']"),
    ("inf bias", lambda: mse.loss_and_grads(_with(P, "b1", _poison(P["b1"], np.inf)), X, Y), ValueError, "params['b1']"),
    ("integer weight", lambda: mse.loss_and_grads(_with(P, "W1", np.ones((3, 4), int)), X, Y), TypeError, "params['W1']"),
    ("mixed param dtypes", lambda: mse.loss_and_grads(_with(P, "W1", P["W1"].astype(np.float32)), X, Y), TypeError, "params"),
    ("string weight", lambda: mse.loss_and_grads(_with(P, "W1", "abc"), X, Y), TypeError, "params['W1']"),
    ("params too large for float32", lambda: ce.loss_and_grads({k: np.full(v.shape, 1e38, np.float32) for k, v in Q.items()},
                                                                 np.ones((2, 3), np.float32), LABELS),
     ValueError, "overflowed float32"),
    ("predict with params too large for float32",
     lambda: ce.predict({k: np.full(v.shape, 1e38, np.float32) for k, v in Q.items()}, np.ones((2, 3), np.float32)),
     ValueError, "overflowed float32"),
    # x
    ("x with too few features", lambda: mse.loss_and_grads(P, X[:, :2], Y), ValueError, "x has shape (2, 2)"),
    ("x with 3 dims", lambda: mse.loss_and_grads(P, X[None], Y), ValueError, "x has shape"),
    ("empty batch", lambda: mse.loss_and_grads(P, X[:0], Y[:0]), ValueError, "x is an empty batch"),
    ("NaN in x", lambda: mse.loss_and_grads(P, _poison(X, np.nan), Y), ValueError, "x must be finite"),
    ("inf in x", lambda: ce.loss_and_grads(Q, _poison(X, -np.inf), LABELS), ValueError, "x must be finite"),
    ("x in another dtype", lambda: mse.loss_and_grads(P, X.astype(np.float32), Y), TypeError, "x has dtype float32"),
    ("x of strings", lambda: mse.loss_and_grads(P, [["a", "b", "c"]], Y[:1]), TypeError, "x must be"),
    ("x is None", lambda: mse.loss_and_grads(P, None, Y), TypeError, "x must be"),
    # y for squared error
    ("y with too few examples", lambda: mse.loss_and_grads(P, X, Y[:1]), ValueError, "y has shape (1, 2)"),
    ("y that would broadcast", lambda: mse.loss_and_grads(P, X, Y[0]), ValueError, "y has shape (2,)"),
    ("y for one example with a batch axis", lambda: mse.loss_and_grads(P, X[0], Y[:1]), ValueError, "y has shape (1, 2)"),
    ("NaN in y", lambda: mse.loss_and_grads(P, X, _poison(Y, np.nan)), ValueError, "y must be finite"),
    ("y missing", lambda: mse.loss_and_grads(P, X, None), TypeError, "y must be"),
    ("labels missing", lambda: ce.loss_and_grads(Q, X, None), TypeError, "y must be"),
    ("y in another dtype", lambda: mse.loss_and_grads(P, X, Y.astype(np.float32)), TypeError, "y has dtype float32"),
    # y for softmax cross-entropy
    ("label too large", lambda: ce.loss_and_grads(Q, X, np.array([0, 5])), ValueError, "label 5"),
    ("negative label", lambda: ce.loss_and_grads(Q, X, np.array([-1, 2])), ValueError, "label -1"),
    ("single label out of range", lambda: ce.loss_and_grads(Q, X[0], 7), ValueError, "label 7"),
    ("float labels", lambda: ce.loss_and_grads(Q, X, np.array([0.0, 4.0])), TypeError, "y of shape (2,)"),
    ("labels for another batch", lambda: ce.loss_and_grads(Q, X, np.array([0, 1, 2])), ValueError, "y has shape (3,)"),
    ("one-hot of the wrong width", lambda: ce.loss_and_grads(Q, X, np.eye(4)[:2]), ValueError, "y has shape (2, 4)"),
    ("rows not summing to 1", lambda: ce.loss_and_grads(Q, X, np.full((2, 5), 0.5)), ValueError, "summing to 1"),
    ("negative probability", lambda: ce.loss_and_grads(Q, X, np.array([[1.5, -0.5, 0, 0, 0]] * 2)), ValueError, "negative"),
    ("inf in one-hot y", lambda: ce.loss_and_grads(Q, X, _poison(np.eye(5)[:2], np.inf)), ValueError, "y must be finite"),
]


@pytest.mark.parametrize(("call", "error", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_message(call, error, words):
    with pytest.raises(error) as caught:
        call()
    assert words in str(caught.value), f"message {str(caught.value)!r} does not say {words!r}"
    assert type(caught.value) is error  # exactly the documented type, not a subclass from deep inside NumPy


def test_params_shape_message_gives_expected_and_actual():
    with pytest.raises(ValueError) as caught:
        mse.loss_and_grads(_with(P, "W1", P["W1"].T), X, Y)
    assert "(4, 3)" in str(caught.value) and "expected (3, 4)" in str(caught.value)
