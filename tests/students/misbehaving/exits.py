"""Calls sys.exit."""
import sys


def loss_and_grads(params, x, y):
    sys.exit(3)
