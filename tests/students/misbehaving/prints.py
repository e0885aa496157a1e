"""Right, and chatty: it prints on every call, which must not reach --json's stdout."""
from _right import right


def loss_and_grads(params, x, y):
    print("debug: called with", x.shape)
    return right(params, x, y)
