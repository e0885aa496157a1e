"""Right, and it prints through the operating system, past sys.stdout."""
import os

from _right import right


def loss_and_grads(params, x, y):
    os.system("echo POLLUTION")
    return right(params, x, y)
